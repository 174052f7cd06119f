/**
 * Regression: x uniform in [−π, π], y = sin(x) + Gaussian noise of std `noise` (default 0.1). N points in all.
 */
import { Rng } from './rng.js';
import type { SyntheticParams, SyntheticSet } from './types.js';

export function sine({ n, noise }: SyntheticParams, seed: number): SyntheticSet {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (rng.uniform() * 2 - 1) * Math.PI;
    y[i] = Math.sin(x[i]!) + rng.normal() * noise;
  }
  return { task: 'regression', x, y, featureNames: ['x'], targetName: 'y', classNames: [] };
}
