/** Reorders a matrix's rows by a seeded Fisher–Yates permutation (x and y together). */
import { Rng } from './synthetic/rng.js';
import type { LabelledMatrix } from './types.js';

export function shuffleRows<T extends LabelledMatrix>(set: T, rng: Rng): T {
  const rows = set.y.length;
  const f = set.featureNames.length;
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const x = new Float32Array(set.x.length);
  const y = set.y instanceof Int32Array ? new Int32Array(rows) : new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const from = order[i]!;
    x.set(set.x.subarray(from * f, from * f + f), i * f);
    y[i] = set.y[from]!;
  }
  return { ...set, x, y };
}
