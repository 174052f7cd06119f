/**
 * Weight penalties (CS231n convention): L2 ½·λ₂·Σw² and L1 λ₁·Σ|w|, over every weight matrix (never biases or PReLU
 * slopes). Loss and gradient in one pass: the gradient λ₂·w + λ₁·sign(w) is added to the data gradient.
 */
import type { Real } from './backend.js';
import type { ParamLayout } from './params.js';

/**
 * Returns ½·l2·Σw² + l1·Σ|w| over the weight entries of `layout` in `params`, and unless `grads` is null adds
 * l2·w + l1·sign(w) to `grads` (sign(0) = 0).
 */
export function regularize(layout: ParamLayout, params: Real, grads: Real | null, l2: number, l1: number): number {
  return regularizeRanges(weightRanges(layout), params, grads, l2, l1);
}

/** The [start, end) ranges of the weight matrices in a buffer of `layout` (sorted, disjoint): what the penalties cover. */
export function weightRanges(layout: ParamLayout): [number, number][] {
  return layout.entries.filter((e) => e.role === 'weight').map((e) => [e.offset, e.offset + e.size]);
}

/** {@link regularize} over explicit [start, end) ranges of `params` (and `grads`). */
export function regularizeRanges(ranges: readonly (readonly [number, number])[], params: Real, grads: Real | null, l2: number, l1: number): number {
  if (l2 === 0 && l1 === 0) return 0;
  let squares = 0;
  let absolutes = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) {
      const w = params[i];
      squares += w * w;
      absolutes += Math.abs(w);
      if (grads) grads[i] += l2 * w + l1 * Math.sign(w);
    }
  }
  return 0.5 * l2 * squares + l1 * absolutes;
}
