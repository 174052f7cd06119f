/**
 * K concentric circles, one class each: class k lies on radius (k+1)/K (K = 2 is scikit-learn's make_circles with
 * factor 0.5), N points evenly spaced in angle, plus Gaussian noise of std `noise` on both coordinates (default 0.05).
 */
import { Rng } from './rng.js';
import { PlanarSet, type SyntheticParams, type SyntheticSet } from './types.js';

export function circles({ n, classes, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const set = new PlanarSet(classes, n);
  for (let k = 0; k < classes; k++) {
    const radius = (k + 1) / classes;
    for (let i = 0; i < n; i++) {
      const angle = (2 * Math.PI * i) / n;
      set.add(radius * Math.cos(angle) + rng.normal() * noise, radius * Math.sin(angle) + rng.normal() * noise, k);
    }
  }
  return set.done();
}
