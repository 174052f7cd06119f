/**
 * Bounds of the inference-side results (Network.evaluate, Network.predict, decision-grid classes, layer statistics)
 * from the tolerance model of ./shadow.ts. Same conventions: a value v with error scale s is matched when
 * |fast − ref| ≤ MULT·s + slack; discrete results (accuracy, grid classes) may differ exactly where the model finds the
 * decision ambiguous.
 */
import { weightRanges } from '../../src/engine/regularization.js';
import type { Targets } from '../../src/engine/losses.js';
import type { LayerStats } from '../../src/engine/stats.js';
import { sigmoidSlope, softmaxRow, traceMagnitude, type Shadow, type ShadowStep } from './shadow.js';
import { MULT, U, type Bounded } from './tolerance.js';

/** ½·l2·Σw² + l1·Σ|w| over the weights, and its error scale (f32 block sums of ≤ 11 terms: 16u relative). */
export function penaltyValue(shadow: Shadow, params: Float64Array): { v: number; s: number } {
  const { l2, l1 } = shadow.resolved.regularization;
  if (l2 === 0 && l1 === 0) return { v: 0, s: 0 };
  let squares = 0, absolutes = 0;
  for (const [start, end] of weightRanges(shadow.layout)) {
    for (let i = start; i < end; i++) {
      squares += params[i] * params[i];
      absolutes += Math.abs(params[i]);
    }
  }
  const v = 0.5 * l2 * squares + l1 * absolutes;
  return { v, s: 16 * U * v };
}

/** What Network.predict returns (probabilities for softmax/logistic, scores otherwise), bounded, from scores. */
export function outputBounds(shadow: Shadow, scores: Float64Array, sScores: Float64Array, n: number): Bounded {
  const K = shadow.resolved.outputs, kind = shadow.resolved.loss;
  const v = new Float64Array(n * K), s = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    if (kind === 'softmax') {
      const { m, sMax, sum } = softmaxRow(scores, sScores, o, K);
      for (let j = 0; j < K; j++) {
        const p = Math.exp(scores[o + j] - m) / sum;
        v[o + j] = p;
        s[o + j] = Math.min(1, p * Math.expm1(Math.min(700, MULT * (sScores[o + j] + sMax)))) / MULT + 2 * U * p;
      }
    } else if (kind === 'logistic') {
      for (let j = 0; j < K; j++) {
        const z = scores[o + j], sz = sScores[o + j];
        const p = 1 / (1 + Math.exp(-z));
        v[o + j] = p;
        s[o + j] = sigmoidSlope(z, MULT * sz) * sz + 2 * U * p;
      }
    } else {
      v.set(scores.subarray(0, n * K));
      s.set(sScores.subarray(0, n * K));
    }
  }
  return { v, s };
}

/** Bounded outputs of predict, and the largest magnitude of the forward pass (see FLOAT32_SAFE). */
export function predictBounds(shadow: Shadow, params: Float64Array, x: ArrayLike<number>, n: number): Bounded & { magnitude: number } {
  const t = shadow.forward(params, x, n, null);
  return { ...outputBounds(shadow, t.scores, t.sScores, n), magnitude: traceMagnitude(t) };
}

/** Whether the predicted class of each row (argmax, or the threshold with one output) could go either way. */
export function ambiguousClasses(values: Bounded, n: number, K: number, threshold: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    if (K === 1) {
      out[i] = +(Math.abs(values.v[o] - threshold) <= MULT * values.s[o]);
      continue;
    }
    let best = 0;
    for (let j = 1; j < K; j++) if (values.v[o + j] > values.v[o + best]) best = j;
    for (let j = 0; j < K; j++) {
      if (j !== best && values.v[o + j] >= values.v[o + best] - MULT * (values.s[o + j] + values.s[o + best])) out[i] = 1;
    }
  }
  return out;
}

export interface EvaluateBounds {
  loss: { v: number; s: number };
  dataLoss: { v: number; s: number };
  regLoss: { v: number; s: number };
  /** Accuracy may differ from the reference's by at most this (ambiguous predictions / predictions). */
  accuracySlack: number;
  /** Allowances (not scales) for rmse and r² (null: not compared). */
  rmseAllowance: number | null;
  r2Allowance: number | null;
  /** The largest magnitude of the forward pass (see FLOAT32_SAFE). */
  magnitude: number;
}

export function evaluateBounds(shadow: Shadow, params: Float64Array, x: ArrayLike<number>, targets: Targets, n: number): EvaluateBounds {
  const K = shadow.resolved.outputs, kind = shadow.resolved.loss;
  const t = shadow.forward(params, x, n, null);
  const { rows } = shadow.loss(t.scores, t.sScores, targets, n, null);
  let dataLoss = 0, sData = 0;
  for (let i = 0; i < n; i++) {
    dataLoss += rows.v[i];
    sData += rows.s[i];
  }
  dataLoss /= n;
  sData /= n;
  const reg = penaltyValue(shadow, params);
  let accuracySlack = 0, rmseAllowance: number | null = null, r2Allowance: number | null = null;
  const scores: Bounded = { v: t.scores, s: t.sScores };
  if (kind === 'l2') {
    const y = targets as Float32Array;
    let sse = 0, dev = 0;
    const sumT = new Float64Array(K), sumT2 = new Float64Array(K);
    for (let i = 0; i < n * K; i++) {
      const d = t.scores[i] - y[i], e = MULT * t.sScores[i];
      sse += d * d;
      dev += 2 * Math.abs(d) * e + e * e;
      sumT[i % K] += y[i];
      sumT2[i % K] += y[i] * y[i];
    }
    const m = n * K, rmse = Math.sqrt(sse / m);
    rmseAllowance = Math.min(Math.sqrt(dev / m), rmse > 0 ? dev / m / rmse : Infinity) + 1e-9 * rmse;
    let sst = 0;
    for (let j = 0; j < K; j++) sst += sumT2[j] - (sumT[j] * sumT[j]) / n;
    r2Allowance = sst > 1e-12 * (sumT2.reduce((a, b) => a + b, 0) + 1) ? dev / sst + 1e-9 : null;
  } else if (targets instanceof Int32Array) {
    const ambiguous = ambiguousClasses(scores, n, K, 0);
    accuracySlack = ambiguous.reduce((a, b) => a + b, 0) / n;
  } else {
    let count = 0;
    for (let i = 0; i < n * K; i++) count += +(Math.abs(t.scores[i]) <= MULT * t.sScores[i]);
    accuracySlack = count / (n * K);
  }
  return {
    loss: { v: dataLoss + reg.v, s: sData + reg.s }, dataLoss: { v: dataLoss, s: sData }, regLoss: reg,
    accuracySlack, rmseAllowance, r2Allowance, magnitude: Math.max(traceMagnitude(t), Math.abs(dataLoss), reg.v),
  };
}

/** Scales of the layer statistics a training step with layerStats reports, in the order of the network's stats. */
export function layerStatsBounds(shadow: Shadow, step: ShadowStep, before: Float64Array): Pick<LayerStats, 'name' | 'gradNorm' | 'weightNorm' | 'updateRatio' | 'activationMean' | 'activationStd'>[] {
  const out: ReturnType<typeof layerStatsBounds> = [];
  const norm2 = (a: Float64Array, start: number, end: number) => {
    let s = 0;
    for (let i = start; i < end; i++) s += a[i] * a[i];
    return s;
  };
  for (const [l, plan] of shadow.plans.entries()) {
    if (plan.parameterCount === 0) continue;
    const entries = shadow.layout.entries.filter((e) => e.layer === plan.name);
    let g2 = 0, sg2 = 0;
    for (const e of entries) {
      g2 += norm2(step.grads.v, e.offset, e.offset + e.size);
      sg2 += norm2(step.grads.s, e.offset, e.offset + e.size);
    }
    const W = entries.find((e) => e.role === 'weight')!;
    const w2 = norm2(step.update.params.v, W.offset, W.offset + W.size);
    const sw2 = norm2(step.update.params.s, W.offset, W.offset + W.size);
    const before2 = norm2(before, W.offset, W.offset + W.size);
    let d2 = 0;
    for (let i = W.offset; i < W.offset + W.size; i++) d2 += (step.update.params.v[i] - before[i]) ** 2;
    const ratio = before2 > 0 ? Math.sqrt(d2 / before2) : 0;
    const y = step.trace.layers[l].y, sy = step.trace.layers[l].sy, len = step.trace.n * plan.outputs;
    let mean = 0, sMean = 0, sStd2 = 0;
    for (let i = 0; i < len; i++) {
      mean += y[i];
      sMean += sy[i];
      sStd2 += sy[i] * sy[i];
    }
    mean /= len;
    let variance = 0;
    for (let i = 0; i < len; i++) variance += (y[i] - mean) ** 2;
    out.push({
      name: plan.name,
      gradNorm: Math.sqrt(sg2) + 8 * U * Math.sqrt(g2),
      weightNorm: Math.sqrt(sw2) + 8 * U * Math.sqrt(w2),
      updateRatio: before2 > 0 ? Math.sqrt(sw2 / before2) + 8 * U * ratio : 0,
      activationMean: sMean / len + 8 * U * Math.abs(mean),
      activationStd: Math.sqrt(sStd2 / len) + 8 * U * Math.sqrt(variance / len),
    });
  }
  return out;
}
