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
  if (l2 === 0 && l1 === 0) return 0;
  let squares = 0;
  let absolutes = 0;
  for (const e of layout.entries) {
    if (e.role !== 'weight') continue;
    const end = e.offset + e.size;
    for (let i = e.offset; i < end; i++) {
      const w = params[i];
      squares += w * w;
      absolutes += Math.abs(w);
      if (grads) grads[i] += l2 * w + l1 * Math.sign(w);
    }
  }
  return 0.5 * l2 * squares + l1 * absolutes;
}
