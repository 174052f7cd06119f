/**
 * XOR: points uniform in the unit square of a random quadrant; class 0 in the (+,+) and (−,−) quadrants, class 1 in
 * (+,−) and (−,+). Gaussian noise of std `noise` (default 0.1) is added after labelling, so some points cross over.
 * Always 2 classes, N points each.
 */
import { Rng } from './rng.js';
import { PlanarSet, type SyntheticParams, type SyntheticSet } from './types.js';

export function xor({ n, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const set = new PlanarSet(2, n);
  for (let label = 0; label < 2; label++) {
    for (let i = 0; i < n; i++) {
      const sx = rng.uniform() < 0.5 ? -1 : 1;
      const sy = label === 0 ? sx : -sx;
      set.add(sx * rng.uniform() + rng.normal() * noise, sy * rng.uniform() + rng.normal() * noise, label);
    }
  }
  return set.done();
}
