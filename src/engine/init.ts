/**
 * Weight initialization (see InitScheme in ./spec.ts). Weights are drawn from N(0, std²) with the seeded RNG; biases
 * start at 0; PReLU slopes start at the spec's alpha.
 */
import type { Real } from './backend.js';
import type { Rng } from './rng.js';
import type { InitScheme } from './spec.js';

/** Standard deviation of the initial weights of a (fanIn → fanOut) layer. */
export function initStd(scheme: InitScheme, fanIn: number, fanOut: number): number {
  switch (scheme) {
    case 'he': return Math.sqrt(2 / fanIn);
    case 'xavier': return Math.sqrt(2 / (fanIn + fanOut));
    case 'small': return 0.01;
  }
}

/** Fills the weights `w` of a (fanIn → fanOut) layer. */
export function initWeights(w: Real, fanIn: number, fanOut: number, scheme: InitScheme, rng: Rng): void {
  rng.fillNormal(w, 0, w.length, 0, initStd(scheme, fanIn, fanOut));
}
