/**
 * Decision grids of 2-input classifiers (the ConvNetJS picture), shared by the live `decision` events of training
 * jobs (src/training/decision-grids.ts) and GET /v1/models/:id/decision-grid (src/inference/decision-grid.ts).
 *
 * The grid spans the data's range of both raw (unpreprocessed) features; a feature whose range is a single value spans
 * value ± 0.5. Point (i, j), 0 ≤ i, j < resolution, is x = xRange[0] + (xRange[1] − xRange[0])·i/(resolution − 1), y
 * likewise with j; points are listed row-major with y varying slowest (index j·resolution + i).
 */
import type { LossKind } from '../engine/spec.js';

export function gridSpan(min: number, max: number): [number, number] {
  return min < max ? [min, max] : [min - 0.5, max + 0.5];
}

/** The resolution² points, (resolution², 2) row-major. */
export function gridPoints(xRange: [number, number], yRange: [number, number], resolution: number): Float32Array {
  const x = new Float32Array(resolution * resolution * 2);
  const at = (r: [number, number], i: number) => r[0] + ((r[1] - r[0]) * i) / (resolution - 1);
  for (let j = 0; j < resolution; j++) {
    for (let i = 0; i < resolution; i++) {
      x[(j * resolution + i) * 2] = at(xRange, i);
      x[(j * resolution + i) * 2 + 1] = at(yRange, j);
    }
  }
  return x;
}

/**
 * The class of row i of a network's outputs `out` (k per row, as Network.predict gives them): the argmax with several
 * outputs; with one, class 1 when P > ½ (logistic) or the margin > 0 (svm).
 */
export function predictedClass(out: ArrayLike<number>, i: number, k: number, loss: LossKind): number {
  const at = i * k;
  if (k === 1) return out[at]! > (loss === 'logistic' ? 0.5 : 0) ? 1 : 0;
  let best = 0;
  for (let j = 1; j < k; j++) if (out[at + j]! > out[at + best]!) best = j;
  return best;
}
