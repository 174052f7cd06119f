/**
 * Losses on the output scores (see LossKind in ./spec.ts for the definitions). Each loss computes its value and its
 * gradient in one fused pass (for softmax: max, exponentials, normalization, −log p_y and p − 1_y together).
 *
 * Dimension letters: n rows, k outputs (classes). scores and grad are (n, k) row-major.
 *   `sum…(scores, k, targets, n, grad, scale)` returns Σ over the rows of the per-row loss, and when `grad` is not null
 *   writes grad = scale·∂(Σ loss)/∂scores. The network passes scale = 1/n, so its data loss is the mean over the rows.
 */
import { FLUSH_BELOW, type Real } from './backend.js';
import type { LossKind } from './spec.js';

/** Class indices (Int32Array, one per row) or target values (float, k per row). */
export type Targets = Int32Array | Float32Array | Float64Array;

const isLabels = (t: Targets): t is Int32Array => t instanceof Int32Array;

/** Throws a RangeError/TypeError unless `targets` fit the loss, k outputs and n rows. O(n·k). */
export function checkTargets(kind: LossKind, k: number, targets: Targets, n: number): void {
  if (isLabels(targets)) {
    if (kind === 'l2') throw new TypeError('the l2 loss needs float targets (Float32Array), not class indices');
    if (targets.length < n) throw new RangeError(`expected ${n} labels, got ${targets.length}`);
    const classes = k === 1 ? 2 : k;
    for (let i = 0; i < n; i++) {
      const y = targets[i];
      if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} at row ${i} is outside [0, ${classes})`);
    }
    return;
  }
  if (kind === 'softmax' || kind === 'svm') throw new TypeError(`the ${kind} loss needs class indices (Int32Array)`);
  if (targets.length < n * k) throw new RangeError(`expected ${n * k} targets (${n} rows × ${k}), got ${targets.length}`);
  for (let i = 0; i < n * k; i++) {
    const t = targets[i];
    if (kind === 'logistic' ? !(t >= 0 && t <= 1) : !Number.isFinite(t)) {
      throw new RangeError(`target ${t} at index ${i} is ${kind === 'logistic' ? 'outside [0, 1]' : 'not finite'}`);
    }
  }
}

// softmax cross-entropy: L_i = −log(e^{s_y} / Σ_j e^{s_j});  ∂L_i/∂s_j = p_j − 1[j = y] ----------------------------------

export function sumSoftmaxCrossEntropy(scores: Real, k: number, labels: Int32Array, n: number, grad: Real | null, scale: number): number {
  let loss = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let max = scores[o];
    for (let j = 1; j < k; j++) max = Math.max(max, scores[o + j]);
    let sum = 0;
    if (grad) {
      for (let j = 0; j < k; j++) {
        const e = Math.exp(scores[o + j] - max);
        grad[o + j] = e;
        sum += e;
      }
      const f = scale / sum;
      for (let j = 0; j < k; j++) {
        const g = grad[o + j] * f; // ≥ 0; flushed when tiny (see FLUSH_BELOW)
        grad[o + j] = g < FLUSH_BELOW ? 0 : g;
      }
      grad[o + labels[i]] -= scale;
    } else {
      for (let j = 0; j < k; j++) sum += Math.exp(scores[o + j] - max);
    }
    loss += Math.log(sum) - (scores[o + labels[i]] - max);
  }
  return loss;
}

// sigmoid (logistic) cross-entropy, per output: L = −t·log σ(s) − (1 − t)·log(1 − σ(s)) = max(s, 0) − t·s + log(1 + e^−|s|);
// ∂L/∂s = σ(s) − t. Targets: floats (n, k); or labels — with k = 1 the label (0/1) is the target, with k > 1 one-hot.

function logisticTerm(s: number, t: number, grad: Real | null, at: number, scale: number): number {
  const e = Math.exp(-Math.abs(s));
  if (grad) {
    const g = ((s >= 0 ? 1 : e) / (1 + e) - t) * scale;
    grad[at] = Math.abs(g) < FLUSH_BELOW ? 0 : g;
  }
  return Math.max(s, 0) - t * s + Math.log1p(e);
}

export function sumLogistic(scores: Real, k: number, targets: Targets, n: number, grad: Real | null, scale: number): number {
  let loss = 0;
  if (isLabels(targets)) {
    for (let i = 0, o = 0; i < n; i++, o += k) {
      const y = targets[i];
      for (let j = 0; j < k; j++) loss += logisticTerm(scores[o + j], k === 1 ? y : +(j === y), grad, o + j, scale);
    }
  } else {
    for (let o = 0; o < n * k; o++) loss += logisticTerm(scores[o], targets[o], grad, o, scale);
  }
  return loss;
}

// multiclass SVM (Weston–Watkins): L_i = Σ_{j≠y} max(0, s_j − s_y + 1);  binary (k = 1): L_i = max(0, 1 − t·s), t = ±1 ---

export function sumHinge(scores: Real, k: number, labels: Int32Array, n: number, grad: Real | null, scale: number): number {
  let loss = 0;
  if (k === 1) {
    for (let i = 0; i < n; i++) {
      const t = labels[i] === 1 ? 1 : -1;
      const margin = 1 - t * scores[i];
      if (margin > 0) loss += margin;
      if (grad) grad[i] = margin > 0 ? -t * scale : 0;
    }
    return loss;
  }
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const y = labels[i];
    const sy = scores[o + y];
    let violated = 0;
    for (let j = 0; j < k; j++) {
      if (j === y) continue;
      const margin = scores[o + j] - sy + 1;
      if (margin > 0) {
        loss += margin;
        violated++;
      }
      if (grad) grad[o + j] = margin > 0 ? scale : 0;
    }
    if (grad) grad[o + y] = -violated * scale;
  }
  return loss;
}

// L2 (regression): L_i = ½·Σ_j (s_j − t_j)²;  ∂L_i/∂s_j = s_j − t_j ------------------------------------------------------

export function sumSquaredError(scores: Real, k: number, targets: Real, n: number, grad: Real | null, scale: number): number {
  let loss = 0;
  for (let o = 0; o < n * k; o++) {
    const d = scores[o] - targets[o];
    loss += d * d;
    if (grad) grad[o] = d * scale;
  }
  return 0.5 * loss;
}

/** Σ over the n rows of the loss `kind` (targets already checked); writes scale·∂/∂scores into grad unless null. */
export function sumLoss(kind: LossKind, scores: Real, k: number, targets: Targets, n: number, grad: Real | null, scale: number): number {
  switch (kind) {
    case 'softmax': return sumSoftmaxCrossEntropy(scores, k, targets as Int32Array, n, grad, scale);
    case 'logistic': return sumLogistic(scores, k, targets, n, grad, scale);
    case 'svm': return sumHinge(scores, k, targets as Int32Array, n, grad, scale);
    case 'l2': return sumSquaredError(scores, k, targets as Real, n, grad, scale);
  }
}

/** What the scores mean to a user: probabilities (softmax, logistic) or the scores themselves (svm, l2). In place allowed. */
export function outputTransform(kind: LossKind, scores: Real, k: number, n: number, out: Real): void {
  if (kind === 'softmax') {
    for (let i = 0, o = 0; i < n; i++, o += k) {
      let max = scores[o];
      for (let j = 1; j < k; j++) max = Math.max(max, scores[o + j]);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp(scores[o + j] - max);
        out[o + j] = e;
        sum += e;
      }
      for (let j = 0; j < k; j++) out[o + j] /= sum;
    }
  } else if (kind === 'logistic') {
    for (let o = 0; o < n * k; o++) out[o] = 1 / (1 + Math.exp(-scores[o]));
  } else if (out !== scores) {
    out.set(scores.subarray(0, n * k));
  }
}

/**
 * Running evaluation metrics over batches of scores:
 * - classification (softmax, svm, logistic with labels): accuracy of the predicted class — argmax for k ≥ 2, score > 0
 *   (probability > ½) for k = 1;
 * - logistic with float targets: per-output accuracy of (score > 0) against (target > ½) over all n·k outputs;
 * - l2: RMSE over all n·k outputs, and R² = 1 − SSE/SST with SST summed over the outputs around each output's mean.
 */
export class Metrics {
  private correct = 0;
  private counted = 0;
  private sse = 0;
  private rows = 0;
  private readonly sumT: Float64Array;
  private readonly sumT2: Float64Array;

  constructor(private readonly kind: LossKind, private readonly k: number) {
    this.sumT = new Float64Array(kind === 'l2' ? k : 0);
    this.sumT2 = new Float64Array(kind === 'l2' ? k : 0);
  }

  add(scores: Real, targets: Targets, n: number): void {
    const k = this.k;
    this.rows += n;
    if (this.kind === 'l2') {
      const t = targets as Real;
      for (let i = 0, o = 0; i < n; i++, o += k) {
        for (let j = 0; j < k; j++) {
          const d = scores[o + j] - t[o + j];
          this.sse += d * d;
          this.sumT[j] += t[o + j];
          this.sumT2[j] += t[o + j] * t[o + j];
        }
      }
      return;
    }
    if (isLabels(targets)) {
      for (let i = 0, o = 0; i < n; i++, o += k) {
        let predicted: number;
        if (k === 1) predicted = +(scores[o] > 0);
        else {
          predicted = 0;
          for (let j = 1; j < k; j++) if (scores[o + j] > scores[o + predicted]) predicted = j;
        }
        this.correct += +(predicted === targets[i]);
      }
      this.counted += n;
    } else {
      for (let o = 0; o < n * k; o++) this.correct += +((scores[o] > 0) === (targets[o] > 0.5));
      this.counted += n * k;
    }
  }

  /** Fraction correct (null for l2). */
  get accuracy(): number | null {
    return this.kind === 'l2' || this.counted === 0 ? null : this.correct / this.counted;
  }

  /** Root mean squared error over all outputs (null unless l2). */
  get rmse(): number | null {
    return this.kind === 'l2' && this.rows > 0 ? Math.sqrt(this.sse / (this.rows * this.k)) : null;
  }

  /** Coefficient of determination (null unless l2). Never NaN: with constant targets it is 1 if fitted exactly, else 0. */
  get r2(): number | null {
    if (this.kind !== 'l2' || this.rows === 0) return null;
    let sst = 0;
    for (let j = 0; j < this.k; j++) sst += this.sumT2[j] - (this.sumT[j] * this.sumT[j]) / this.rows;
    if (sst <= 0) return this.sse === 0 ? 1 : 0;
    return 1 - this.sse / sst;
  }
}
