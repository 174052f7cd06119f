/**
 * The rules on the learning curve, judged at each epoch end over the last epoch ends (the state's `recent` points,
 * plus the best training loss of the older ones). Pure functions: they return the warning's text when the condition
 * holds, else null.
 */
import { lossFlatText, overfittingText, type WarningText } from './advice.js';
import type { EpochPoint, HealthState, HealthThresholds } from './state.js';

/** OVERFITTING is not judged on validation splits smaller than this: their loss and accuracy are too noisy. */
export const OVERFITTING_MIN_VALIDATION_ROWS = 50;

/** The validation quality metric OVERFITTING requires to worsen too, and which way is better. */
export interface QualityMetric {
  metric: 'valAccuracy' | 'valRmse' | 'valR2';
  higherIsBetter: boolean;
}

/** What the curve rules know of the job besides the curve. */
export interface CurveContext {
  validationRows: number;
  /** Null: no validation quality metric (no validation split): OVERFITTING is not raised. */
  quality: QualityMetric | null;
}

const min = (values: readonly number[]) => values.reduce((a, b) => Math.min(a, b), Infinity);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Epoch ends `recent` keeps: LOSS_FLAT's window and one before it; OVERFITTING's window and the one before it. */
export function recentEpochs(t: HealthThresholds): number {
  return Math.max(t.lossFlatEpochs + 1, 2 * t.overfittingEpochs);
}

/**
 * LOSS_FLAT: over the last `lossFlatEpochs` epochs the best training loss is not `lossFlatMinDecrease` (relative) below
 * the best before them, while it is still above `lossFlatAbove` × the first record's loss (a converged loss is flat too,
 * but low).
 */
export function lossFlat(state: HealthState, t: HealthThresholds): WarningText | null {
  const k = t.lossFlatEpochs, n = state.recent.length;
  if (n < k || state.firstLoss === null) return null;
  const beforeBest = Math.min(state.bestTrainBefore ?? Infinity, min(state.recent.slice(0, n - k).map((p) => p.train)));
  if (beforeBest === Infinity) return null;
  const best = min(state.recent.slice(n - k).map((p) => p.train));
  const flat = best > beforeBest * (1 - t.lossFlatMinDecrease) && best > t.lossFlatAbove * state.firstLoss;
  return flat ? lossFlatText(k, best, beforeBest, state.firstLoss, t.lossFlatMinDecrease) : null;
}

/**
 * OVERFITTING: the mean validation loss of the last `overfittingEpochs` epochs is `overfittingMinRise` (relative) above
 * the mean of the as many epochs before them, while the mean training loss fell and is now below the validation loss
 * (a generalization gap that widens), AND the validation quality metric (accuracy for classification, or the monitored
 * RMSE / R²) worsened over the same windows: a rising loss with an unchanged accuracy is a model growing more confident
 * on the rows it already gets right, not overfitting (Iris: 0.0546 → 0.0737 at accuracy 1.0). Never judged on
 * validation splits under {@link OVERFITTING_MIN_VALIDATION_ROWS} rows. Means of windows, not single epochs: the
 * validation loss of a small split is noisy, and the lowest of noisy values would be an optimistic reference.
 */
export function overfitting(state: HealthState, t: HealthThresholds, context: CurveContext): WarningText | null {
  const k = t.overfittingEpochs, n = state.recent.length;
  const quality = context.quality;
  if (n < 2 * k || !quality || context.validationRows < OVERFITTING_MIN_VALIDATION_ROWS) return null;
  const before = state.recent.slice(n - 2 * k, n - k), window = state.recent.slice(n - k);
  if ([...before, ...window].some((p) => p.val === null || p.quality === null || p.quality === undefined)) return null;
  const val = (points: EpochPoint[]) => mean(points.map((p) => p.val!));
  const train = (points: EpochPoint[]) => mean(points.map((p) => p.train));
  const q = (points: EpochPoint[]) => mean(points.map((p) => p.quality!));
  const [valThen, valNow, trainThen, trainNow, qThen, qNow] = [val(before), val(window), train(before), train(window), q(before), q(window)];
  const lossRose = valNow >= valThen * (1 + t.overfittingMinRise) && valNow > valThen && trainNow < trainThen && trainNow < valNow;
  const worse = quality.higherIsBetter ? qNow < qThen : qNow > qThen;
  return lossRose && worse ? overfittingText(k, valThen, valNow, trainThen, trainNow, { metric: quality.metric, then: qThen, now: qNow }) : null;
}

/** Adds an epoch end to the state's window; the points past `keep` leave it (their best training loss is kept). */
export function pushEpoch(state: HealthState, point: EpochPoint, keep: number): void {
  state.recent.push(point);
  while (state.recent.length > keep) {
    const p = state.recent.shift()!;
    state.bestTrainBefore = Math.min(state.bestTrainBefore ?? Infinity, p.train);
  }
}
