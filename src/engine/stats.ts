/**
 * Per-layer training statistics (the CS231n "babysitting" numbers), cheap enough to read every few steps:
 * O(parameters + batch·units) per read, and one extra pass per ReLU-family layer per training step for the dead-unit
 * window.
 *
 * Dimension letters: n rows of the last training batch, u units of a layer; activations a are (n, u).
 */
import type { Real } from './backend.js';
import type { Activation, LayerKind } from './spec.js';

export interface LayerStats {
  name: string;
  kind: LayerKind;
  activation: Activation | null;
  /** ‖∂loss/∂θ‖₂ over all the layer's parameters, from the last backward pass (the total loss, regularization included). */
  gradNorm: number;
  /** ‖W‖₂ of the layer's weights (biases and slopes excluded). */
  weightNorm: number;
  /**
   * ‖ΔW‖₂ / ‖W‖₂ of the layer's weights over the last update that was measured (trainStep with `layerStats: true`);
   * null until one was. CS231n's rule of thumb: around 1e-3.
   */
  updateRatio: number | null;
  /** Mean and standard deviation of the layer's outputs (after the non-linearity, before dropout) over the last training batch. */
  activationMean: number;
  activationStd: number;
  /**
   * relu, leaky-relu, prelu: the fraction of units whose output was never > 0 on any row of any training step since the
   * previous read (the window); null for other activations or when no step ran in the window.
   */
  deadFraction: number | null;
  /**
   * sigmoid, tanh: the fraction of units saturated on more than half of the rows of the last training batch —
   * tanh: |a| > 0.99; sigmoid: a < 0.01 or a > 0.99. Null for other activations.
   */
  saturatedFraction: number | null;
}

/**
 * Σ a[i]² over [offset, offset + length) of a Float32Array in a fast context's shared memory, by that context's
 * kernels; undefined when the context is closed. Registered per memory buffer by ./fast-context.ts, in the thread that
 * created the context (the only one that may drive it).
 */
type FastSumSquares = (a: Float32Array, offset: number, length: number) => number | undefined;
const fastSumSquares = new WeakMap<ArrayBufferLike, FastSumSquares>();

/** Lets sumSquares use a fast context's kernels on views of `buffer` (see FastSumSquares). */
export function registerSumSquares(buffer: ArrayBufferLike, sum: FastSumSquares): void {
  fastSumSquares.set(buffer, sum);
}

/**
 * Σ a[i]² over [offset, offset + length). In double precision, in order (two interleaved sums); except for a
 * Float32Array in the memory of an open fast context of this thread, which its WASM kernels sum (in parallel for long
 * ones; f32 block sums added in f64, within 16 ulp of the sequential sum — see Ops.sumSquares): a training loop that
 * checks the gradient norm of a large network every step then pays microseconds, not a JavaScript pass.
 */
export function sumSquares(a: Real, offset = 0, length = a.length - offset): number {
  if (a instanceof Float32Array) {
    const fast = fastSumSquares.get(a.buffer)?.(a, offset, length);
    if (fast !== undefined) return fast;
  }
  let s0 = 0, s1 = 0;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) {
    s0 += a[i] * a[i];
    s1 += a[i + 1] * a[i + 1];
  }
  if (i < end) s0 += a[i] * a[i];
  return s0 + s1;
}

/** Σ (a[i] − b[i])² over [offset, offset + length). */
export function sumSquaredDifferences(a: Real, b: Real, offset: number, length: number): number {
  let s = 0;
  for (let i = offset; i < offset + length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** Mean and (population) standard deviation of the first n·u values. */
export function moments(a: Real, n: number, u: number): { mean: number; std: number } {
  const len = n * u;
  if (len === 0) return { mean: 0, std: 0 };
  let sum = 0;
  for (let i = 0; i < len; i++) sum += a[i];
  const mean = sum / len;
  let sq = 0;
  for (let i = 0; i < len; i++) {
    const d = a[i] - mean;
    sq += d * d;
  }
  return { mean, std: Math.sqrt(sq / len) };
}

/** Fraction of the u units saturated on more than half of the n rows (see {@link LayerStats.saturatedFraction}). */
export function saturatedFraction(a: Real, n: number, u: number, activation: 'sigmoid' | 'tanh'): number {
  if (n === 0 || u === 0) return 0;
  const counts = new Int32Array(u);
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const y = a[o + j];
      counts[j] += activation === 'tanh' ? +(Math.abs(y) > 0.99) : +(y < 0.01 || y > 0.99);
    }
  }
  let saturated = 0;
  for (let j = 0; j < u; j++) saturated += +(counts[j] * 2 > n);
  return saturated / u;
}

/**
 * The dead-unit window of one layer: per-unit "was ever > 0" flags, accumulated over training steps, read and reset
 * together.
 */
export class ActivityWindow {
  private readonly active: Uint8Array;
  private steps = 0;

  constructor(readonly units: number) {
    this.active = new Uint8Array(units);
  }

  /**
   * Marks the units with an output > 0 on any of the n rows. A unit already marked is skipped and a column scan stops
   * at its first active row, so on a healthy layer this costs O(units), not O(n·units).
   */
  observe(a: Real, n: number): void {
    const u = this.units, active = this.active, end = n * u;
    for (let j = 0; j < u; j++) {
      if (active[j]) continue;
      for (let o = j; o < end; o += u) {
        if (a[o] > 0) {
          active[j] = 1;
          break;
        }
      }
    }
    this.steps++;
  }

  /** Fraction of units never active in the window (null if no step was observed), then starts a new window. */
  read(): number | null {
    if (this.steps === 0) return null;
    let dead = 0;
    for (let j = 0; j < this.units; j++) dead += 1 - this.active[j];
    this.active.fill(0);
    this.steps = 0;
    return dead / this.units;
  }
}
