/**
 * Gaussian blobs: K centres drawn uniformly in [−5, 5]², N points around each with std `noise` (default 1.0).
 */
import { Rng } from './rng.js';
import { PlanarSet, type SyntheticParams, type SyntheticSet } from './types.js';

export function blobs({ n, classes, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const set = new PlanarSet(classes, n);
  const centres = Array.from({ length: classes }, () => [rng.uniform() * 10 - 5, rng.uniform() * 10 - 5] as const);
  for (let k = 0; k < classes; k++) {
    const [cx, cy] = centres[k]!;
    for (let i = 0; i < n; i++) set.add(cx + rng.normal() * noise, cy + rng.normal() * noise, k);
  }
  return set.done();
}
