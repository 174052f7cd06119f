/**
 * Forward pass of a loaded model over raw feature rows, and what the outputs mean per row.
 *
 * Rows x are (n, d) row-major float32 in the model's featureNames order (float32, as datasets store them, so a training
 * row gives exactly the training input). The model's preprocessing is applied, then the network, chunk by chunk; between
 * chunks the event loop runs (other requests are served while a large prediction is computed). Each chunk is one
 * synchronous step, so concurrent requests on the same model never share its buffers mid-chunk.
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
import type { LoadedModel } from './loaded-model.js';

/** The network's outputs for n rows (n × outputs, row-major). */
export async function forward(model: LoadedModel, x: Float32Array, n: number): Promise<Float32Array> {
  const { network, preprocessor } = model.runner;
  const d = preprocessor.inputs, k = model.outputs, chunk = model.chunkRows;
  const out = new Float32Array(n * k);
  for (let start = 0; start < n; start += chunk) {
    if (start > 0) await nextTurn();
    const rows = Math.min(chunk, n - start);
    const pre = preprocessor.apply(x.subarray(start * d, (start + rows) * d), rows);
    out.set(network.predict(pre, rows), start * k);
  }
  return out;
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
