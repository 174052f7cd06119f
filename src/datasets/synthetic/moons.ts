/**
 * Two interleaving half circles (scikit-learn's make_moons): class 0 is (cos t, sin t), class 1 is
 * (1 − cos t, 0.5 − sin t), t = linspace(0, π, N), plus Gaussian noise of std `noise` (default 0.1). Always 2 classes.
 */
import { Rng } from './rng.js';
import { linspace, PlanarSet, type SyntheticParams, type SyntheticSet } from './types.js';

export function moons({ n, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const set = new PlanarSet(2, n);
  for (let i = 0; i < n; i++) {
    const t = linspace(0, Math.PI, n, i);
    set.add(Math.cos(t) + rng.normal() * noise, Math.sin(t) + rng.normal() * noise, 0);
  }
  for (let i = 0; i < n; i++) {
    const t = linspace(0, Math.PI, n, i);
    set.add(1 - Math.cos(t) + rng.normal() * noise, 0.5 - Math.sin(t) + rng.normal() * noise, 1);
  }
  return set.done();
}
