/**
 * Forward pass of a loaded model over raw feature rows, and what the outputs mean per row.
 *
 * Rows x are (n, d) row-major float32 in the model's featureNames order (float32, as datasets store them, so a training
 * row gives exactly the training input). The model's preprocessing is applied, then the network, chunk by chunk; between
 * chunks the event loop runs (other requests are served while a large prediction is computed). Each chunk is one
 * synchronous step, so concurrent requests on the same model never share its buffers mid-chunk.
 *
 * Finite in, finite out — or an error, never NaN: a finite float32 input can still overflow float32 after the
 * preprocessing ((x − μ)/σ with a tiny σ, e.g. a feature that was nearly constant in training) or inside the network
 * (huge weights or inputs), and ±∞ there becomes NaN probabilities (serialized as null) and an argmax of class 0. Both
 * stages are checked; the first row that is not finite is a {@link NonFiniteError}, which the routes answer as a 400.
 *
 * Reading the outputs (see src/models/artifact.ts), per loss:
 *   softmax               probabilities per class; the class is the argmax
 *   logistic, 1 output    P(classNames[1]); probabilities {c0: 1 − p, c1: p}; the class is c1 when p > ½
 *   logistic, k outputs   one-vs-all probabilities (they need not sum to 1); the class is the argmax
 *   svm, 1 output         a margin s for classNames[1]; scores {c1: s}; the class is c1 when s > 0
 *   svm, k outputs        margins per class (scores); the class is the argmax
 *   l2                    the value
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { predictedClass } from '../models/grid.js';
import { inferenceTimer } from '../metrics/inference-metrics.js';
import type { LoadedModel } from './loaded-model.js';
import { FLOAT32_MAX } from './input/decimal.js';

/** Largest finite float32. */

/**
 * Row `row` of a forward pass is not finite: after the preprocessing (`feature`: the raw feature whose scaled value
 * (x − μ)/σ is beyond float32, when one is; `component`: the preprocessed value that is not finite), or in the
 * network's outputs.
 */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    readonly row: number,
    readonly stage: 'preprocessing' | 'network',
    readonly feature: number | null,
    readonly component: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** The network's outputs for n rows (n × outputs, row-major), all finite; throws NonFiniteError otherwise. */
export async function forward(model: LoadedModel, x: Float32Array, n: number): Promise<Float32Array> {
  if (n <= model.chunkRows) return forwardNow(model, x, n);
  const done = inferenceTimer(); // trainyard_inference_duration_seconds (src/metrics/)
  const chunk = model.chunkRows;
  const out = new Float32Array(n * model.outputs);
  for (let start = 0; start < n; start += chunk) {
    if (start > 0) await nextTurn();
    forwardChunk(model, x, start, Math.min(chunk, n - start), out);
  }
  return done(out, n);
}

/**
 * {@link forward} of at most one chunk of rows (`model.chunkRows`), synchronously: the common small request then costs
 * no promise and no turn of the event loop.
 */
export function forwardNow(model: LoadedModel, x: Float32Array, n: number): Float32Array {
  if (n > model.chunkRows) throw new RangeError(`forwardNow takes at most ${model.chunkRows} rows, got ${n}`);
  const done = inferenceTimer();
  const out = new Float32Array(n * model.outputs);
  forwardChunk(model, x, 0, n, out);
  return done(out, n);
}

/** Rows start … start + rows − 1 of x through the preprocessing and the network, into `out`; checked as above. */
function forwardChunk(model: LoadedModel, x: Float32Array, start: number, rows: number, out: Float32Array): void {
  const { network, preprocessor } = model.runner;
  const d = preprocessor.inputs, p = preprocessor.outputs, k = model.outputs;
  const raw = x.subarray(start * d, (start + rows) * d);
  const pre = preprocessor.apply(raw, rows);
  const badInput = firstNonFinite(pre);
  if (badInput >= 0) throw preprocessingOverflow(model, raw, start, Math.floor(badInput / p), badInput % p);
  const scores = network.predict(pre, rows);
  const badOutput = firstNonFinite(scores);
  if (badOutput >= 0) {
    const row = start + Math.floor(badOutput / k);
    throw new NonFiniteError(row, 'network', null, null, "the network's outputs overflow float32 (not finite)");
  }
  out.set(scores, start * k);
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** Row `local` of the chunk starting at row `start` overflowed in preprocessed component `component`: which feature did it. */
function preprocessingOverflow(model: LoadedModel, raw: Float32Array, start: number, local: number, component: number): NonFiniteError {
  const fitted = model.runner.preprocessor.toJSON();
  const d = fitted.inputs, row = start + local;
  // (x − μ)/σ beyond float32 names the feature; without a projection, the component is the feature itself.
  let feature: number | null = fitted.basis === null ? component : null;
  for (let f = 0; f < d && feature === null; f++) {
    if (!(Math.abs((raw[local * d + f]! - fitted.mean[f]!) / fitted.scale[f]!) <= FLOAT32_MAX)) feature = f;
  }
  let message = `preprocessed value ${component} overflows float32`;
  if (feature !== null) {
    const value = raw[local * d + feature]!, mean = fitted.mean[feature]!, scale = fitted.scale[feature]!;
    message = `${value} becomes ${(value - mean) / scale} after the model's preprocessing ((x − ${mean}) / ${scale}), beyond float32`;
  }
  return new NonFiniteError(row, 'preprocessing', feature, feature === null ? component : null, message);
}

export type Prediction =
  | { class: string; probabilities: Record<string, number> }
  | { class: string; scores: Record<string, number> }
  | { value: number };

function byClass(names: readonly string[], out: Float32Array, at: number): Record<string, number> {
  const record: Record<string, number> = {};
  for (let j = 0; j < names.length; j++) record[names[j]!] = out[at + j]!;
  return record;
}

/** The class index of row i of `out` (classification). */
export function classIndex(model: LoadedModel, out: Float32Array, i: number): number {
  return predictedClass(out, i, model.outputs, model.loss);
}

/** The prediction of row i of `out` (the network's outputs). */
export function readPrediction(model: LoadedModel, out: Float32Array, i: number): Prediction {
  const k = model.outputs, at = i * k, names = model.classNames;
  if (model.loss === 'l2') return { value: out[at]! };
  const predicted = names[classIndex(model, out, i)]!;
  const v = out[at]!;
  if (model.loss === 'svm') return { class: predicted, scores: k > 1 ? byClass(names, out, at) : { [names[1]!]: v } };
  return { class: predicted, probabilities: k > 1 ? byClass(names, out, at) : { [names[0]!]: 1 - v, [names[1]!]: v } };
}
