/**
 * The decision grid of a 2-input model (the ConvNetJS picture): predictions at resolution × resolution points spanning
 * the training data's range of both features, in the raw (unpreprocessed) feature space. Point (i, j) is
 * x = xRange[0] + (xRange[1] − xRange[0])·i/(resolution − 1), y likewise with j; points are listed row-major with y
 * varying slowest (index j·resolution + i), as in the live `decision` event. A feature whose range is a single value
 * spans value ± 0.5.
 */
import type { LoadedModel } from './loaded-model.js';
import { classIndex, forward } from './predict.js';

export interface DecisionGrid {
  resolution: number;
  xRange: [number, number];
  yRange: [number, number];
  /** Classification: the predicted class index per point. */
  classes: number[] | null;
  /** Classification: per point, the network's outputs in classNames order (probabilities, or margins for svm). */
  outputs: number[][] | null;
  /** Regression: the predicted value per point. */
  values: number[] | null;
}

function span(range: { min: number; max: number }): [number, number] {
  return range.min < range.max ? [range.min, range.max] : [range.min - 0.5, range.max + 0.5];
}

/** The grid; the model must take exactly two inputs. */
export async function decisionGrid(model: LoadedModel, resolution: number): Promise<DecisionGrid> {
  const xRange = span(model.inputRange[0]!);
  const yRange = span(model.inputRange[1]!);
  const n = resolution * resolution;
  const x = new Float32Array(n * 2);
  const step = (r: [number, number], i: number) => r[0] + ((r[1] - r[0]) * i) / (resolution - 1);
  for (let j = 0; j < resolution; j++) {
    for (let i = 0; i < resolution; i++) {
      x[(j * resolution + i) * 2] = step(xRange, i);
      x[(j * resolution + i) * 2 + 1] = step(yRange, j);
    }
  }
  const out = await forward(model, x, n);
  const k = model.outputs;
  if (model.task === 'regression') return { resolution, xRange, yRange, classes: null, outputs: null, values: Array.from(out) };
  const classes = new Array<number>(n);
  const outputs = new Array<number[]>(n);
  for (let p = 0; p < n; p++) {
    classes[p] = classIndex(model, out, p);
    outputs[p] = Array.from(out.subarray(p * k, (p + 1) * k));
  }
  return { resolution, xRange, yRange, classes, outputs, values: null };
}
