/** The float32 optimizer update in the tolerance model of ./shadow.ts (same conventions). */
import { resolveOptimizer, scheduledRate } from '../../src/engine/optimizers.js';
import type { ShadowState } from './shadow.js';
import { FLUSH, MULT, U, type Bounded } from './tolerance.js';

/**
 * The optimizer update of the parameters from the gradient g (the total loss's, bounded; both padded, `len` long), from
 * state.buffers and state.step — as the fast context's update kernel computes it in float32, with the error scales of
 * ./shadow.ts: each float32 operation u·|result|, hyperparameters rounded to float32 u relative, flushes (weights,
 * velocities) and underflow (moments) 1e-30; the adaptive step m/(√v + ε) by its extremes over m ± MULT·s_m,
 * v ± MULT·s_v.
 */
export function optimizerUpdate(len: number, state: ShadowState, g: Bounded): { params: Bounded; buffers: Bounded[]; learningRate: number } {
  const cfg = resolveOptimizer(state.optimizer), rule = cfg.rule;
  const lr = scheduledRate(cfg.learningRate, cfg.schedule, state.step), t = state.step + 1;
  const w = state.params;
  const out: Bounded = { v: new Float64Array(len), s: new Float64Array(len) };
  const buffers: Bounded[] = state.buffers.map(() => ({ v: new Float64Array(len), s: new Float64Array(len) }));
  const flush = (x: number) => (Math.abs(x) < FLUSH ? 0 : x);
  if (rule.family === 'momentum') {
    const mu = rule.momentum;
    for (let i = 0; i < len; i++) {
      const gi = g.v[i], sg = g.s[i];
      if (mu === 0 || buffers.length === 0) {
        const wi = flush(w[i] - lr * gi);
        out.v[i] = wi;
        out.s[i] = lr * sg + 2 * U * lr * Math.abs(gi) + U * Math.abs(wi) + FLUSH;
        continue;
      }
      const prev = state.buffers[0][i];
      const vi = flush(mu * prev - lr * gi);
      const sv = lr * sg + 3 * U * (Math.abs(mu * prev) + lr * Math.abs(gi)) + U * Math.abs(vi) + FLUSH;
      buffers[0].v[i] = vi;
      buffers[0].s[i] = sv;
      if (!rule.nesterov) {
        const wi = flush(w[i] + vi);
        out.v[i] = wi;
        out.s[i] = sv + U * Math.abs(wi) + FLUSH;
      } else {
        const wi = flush(w[i] - mu * prev + (1 + mu) * vi);
        out.v[i] = wi;
        out.s[i] = (1 + mu) * sv + 3 * U * (Math.abs(w[i]) + Math.abs(mu * prev) + (1 + mu) * Math.abs(vi)) + U * Math.abs(wi) + FLUSH;
      }
    }
  } else {
    const { beta1, beta2, gamma, epsilon } = rule;
    const c1 = rule.biasCorrection ? 1 - Math.pow(beta1, t) : 1, c2 = rule.biasCorrection ? 1 - Math.pow(beta2, t) : 1;
    const step = lr / c1, inv2 = 1 / c2;
    const hasM = buffers.length === 2;
    const mBuf = hasM ? state.buffers[0] : null, vBuf = hasM ? state.buffers[1] : state.buffers[0];
    const q = (m: number, v: number) => (step * m) / (Math.sqrt(Math.max(0, v) * inv2) + epsilon);
    for (let i = 0; i < len; i++) {
      const gi = g.v[i], sg = g.s[i];
      let mi = gi, sm = sg;
      if (hasM && beta1 !== 0) {
        const m0 = mBuf![i];
        mi = beta1 * m0 + (1 - beta1) * gi; // moments are not flushed; FLUSH covers float32 underflow
        sm = (1 - beta1) * sg + 3 * U * (Math.abs(beta1 * m0) + (1 - beta1) * Math.abs(gi)) + U * Math.abs(mi) + FLUSH;
        buffers[0].v[i] = mi;
        buffers[0].s[i] = sm;
      }
      const v0 = vBuf[i];
      const vi = beta2 * v0 + gamma * gi * gi;
      const sv = gamma * (2 * Math.abs(gi) * sg + MULT * sg * sg) + 3 * U * (Math.abs(beta2 * v0) + gamma * gi * gi) + U * vi + FLUSH;
      const vb = buffers[hasM ? 1 : 0];
      vb.v[i] = vi;
      vb.s[i] = sv;
      // the update q = (lr/c₁)·m / (√(v/c₂) + ε): its extremes over the box m ± MULT·s_m, v ± MULT·s_v are at corners
      const qi = q(mi, vi);
      let dev = 0;
      for (const mm of [mi - MULT * sm, mi + MULT * sm]) {
        for (const vv of [vi - MULT * sv, vi + MULT * sv]) dev = Math.max(dev, Math.abs(q(mm, vv) - qi));
      }
      const wi = flush(w[i] - qi);
      out.v[i] = wi;
      out.s[i] = dev / MULT + 10 * U * Math.abs(qi) + U * Math.abs(wi) + FLUSH;
    }
  }
  return { params: out, buffers, learningRate: lr };
}
