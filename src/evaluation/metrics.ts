/**
 * An evaluation's metrics from a model's outputs on labelled rows: what POST /v1/models/:id/evaluate answers and stores.
 *
 *   classification  {task, rows, loss, accuracy, logLoss, perClass: [{class, precision, recall, f1, support}], macro,
 *                    confusionMatrix: {classes, matrix}}   (./classification.ts, ./losses.ts)
 *   regression      {task, rows, loss, rmse, mae, r2, residuals: {min, q1, median, q3, max, mean}}   (./regression.ts)
 */
import type { LossKind } from '../engine/spec.js';
import { classificationCounts, type ClassificationCounts } from './classification.js';
import { classifierLosses } from './losses.js';
import { regressionMetrics, type RegressionMetrics } from './regression.js';

export type ClassificationEvaluation = { task: 'classification'; loss: number; logLoss: number | null } & ClassificationCounts;
export type RegressionEvaluation = { task: 'regression' } & RegressionMetrics;
export type EvaluationMetrics = ClassificationEvaluation | RegressionEvaluation;

export interface EvaluatedModel {
  task: 'classification' | 'regression';
  loss: LossKind;
  /** Width of the outputs. */
  outputs: number;
  classNames: readonly string[];
  /** The predicted class of row i of the outputs (classification). */
  classOf(out: Float32Array, i: number): number;
}

/**
 * @param out   n × model.outputs network outputs
 * @param truth n targets: class indices into model.classNames, or values
 */
export function evaluationMetrics(model: EvaluatedModel, out: Float32Array, truth: Float64Array): EvaluationMetrics {
  const n = truth.length;
  if (model.task === 'regression' || model.loss === 'l2') {
    const predicted = new Float64Array(n);
    for (let i = 0; i < n; i++) predicted[i] = out[i * model.outputs]!;
    return { task: 'regression', ...regressionMetrics(truth, predicted) };
  }
  const truthClasses = Int32Array.from(truth);
  const predicted = new Int32Array(n);
  for (let i = 0; i < n; i++) predicted[i] = model.classOf(out, i);
  const { loss, logLoss } = classifierLosses(model.loss, out, model.outputs, truthClasses);
  return { task: 'classification', loss, logLoss, ...classificationCounts(model.classNames, truthClasses, predicted) };
}
