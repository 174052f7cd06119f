/**
 * Per-row losses and log-loss of a classifier, from its outputs as predict reads them (src/inference/predict.ts):
 *
 *   softmax               outputs are class probabilities p:  loss = log-loss = −ln p_y
 *   logistic, 1 output    p = P(class 1):                     loss = log-loss = −[t·ln p + (1 − t)·ln(1 − p)], t = y
 *   logistic, k outputs   one-vs-all probabilities p_j:       loss = Σ_j −[t_j·ln p_j + (1 − t_j)·ln(1 − p_j)], t = one-hot(y)
 *                         log-loss = −ln(p_y / Σ_j p_j) (the probabilities normalized to sum to 1)
 *   svm, 1 output         a margin s for class 1:             loss = max(0, 1 − t·s), t = ±1; no log-loss (null)
 *   svm, k outputs        margins s_j:                        loss = Σ_{j≠y} max(0, s_j − s_y + 1); no log-loss
 * These are the engine's training losses (src/engine/losses.ts) without regularization, averaged over the rows.
 * Probabilities are clipped to [1e-15, 1 − 1e-15] inside logarithms (scikit-learn's log_loss does the same), so a
 * confidently wrong row costs about 34.5, never ∞.
 */
import type { LossKind } from '../engine/spec.js';

export const PROBABILITY_EPS = 1e-15;

const clip = (p: number) => Math.min(1 - PROBABILITY_EPS, Math.max(PROBABILITY_EPS, p));
const bce = (p: number, t: number) => -(t * Math.log(clip(p)) + (1 - t) * Math.log(clip(1 - p)));

export interface ClassifierLosses {
  /** Mean training loss over the rows. */
  loss: number;
  /** Mean log-loss; null for SVM models (margins, not probabilities). */
  logLoss: number | null;
}

/**
 * @param out    n × k outputs, row-major
 * @param truth  n true class indices
 */
export function classifierLosses(loss: Exclude<LossKind, 'l2'>, out: ArrayLike<number>, k: number, truth: ArrayLike<number>): ClassifierLosses {
  const n = truth.length;
  if (n === 0) throw new RangeError('no rows');
  let total = 0, logTotal = 0;
  for (let i = 0; i < n; i++) {
    const y = truth[i]!, at = i * k;
    if (loss === 'softmax') {
      const l = -Math.log(clip(out[at + y]!));
      total += l;
      logTotal += l;
    } else if (loss === 'logistic') {
      if (k === 1) {
        const l = bce(out[at]!, y);
        total += l;
        logTotal += l;
      } else {
        let sum = 0;
        for (let j = 0; j < k; j++) {
          total += bce(out[at + j]!, j === y ? 1 : 0);
          sum += out[at + j]!;
        }
        logTotal += -Math.log(clip(sum > 0 ? out[at + y]! / sum : 0));
      }
    } else if (k === 1) {
      total += Math.max(0, 1 - (y === 1 ? 1 : -1) * out[at]!);
    } else {
      const sy = out[at + y]!;
      for (let j = 0; j < k; j++) if (j !== y) total += Math.max(0, out[at + j]! - sy + 1);
    }
  }
  return { loss: total / n, logLoss: loss === 'svm' ? null : logTotal / n };
}
