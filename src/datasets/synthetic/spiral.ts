/**
 * The CS231n spiral (cs231n.github.io/neural-networks-case-study): K arms of N points each. For arm j:
 *   r = linspace(0, 1, N),  t = linspace(4j, 4(j+1), N) + randn(N)·noise,  x = (r·sin t, r·cos t),  y = j.
 * Not linearly separable; the classic test of a small two-layer network. Default noise 0.2, as in the notes.
 */
import { Rng } from './rng.js';
import { linspace, PlanarSet, type SyntheticParams, type SyntheticSet } from './types.js';

export function spiral({ n, classes, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const set = new PlanarSet(classes, n);
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < n; i++) {
      const r = linspace(0, 1, n, i);
      const t = linspace(j * 4, (j + 1) * 4, n, i) + rng.normal() * noise;
      set.add(r * Math.sin(t), r * Math.cos(t), j);
    }
  }
  return set.done();
}
