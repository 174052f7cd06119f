import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jacobiEigen, symmetricEigen, type Eigen } from '../../src/engine/eigen.js';
import { Rng } from '../../src/engine/rng.js';

function randomSymmetric(rng: Rng, d: number): Float64Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = rng.normal();
  return a;
}

/** max ‖A·v − λ·v‖∞ and max |VᵀV − I|, both relative to ‖A‖∞. */
function check(a: Float64Array, d: number, { values, vectors }: Eigen): void {
  let norm = 0;
  for (let i = 0; i < d; i++) {
    let row = 0;
    for (let k = 0; k < d; k++) row += Math.abs(a[i * d + k]);
    norm = Math.max(norm, row);
  }
  norm ||= 1;
  for (let j = 0; j < d; j++) {
    if (j > 0) assert.ok(values[j] <= values[j - 1], 'sorted');
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(vectors[i * d + j]) > Math.abs(big)) big = vectors[i * d + j];
    assert.ok(big > 0, 'largest component positive');
    for (let i = 0; i < d; i++) {
      let av = 0;
      for (let k = 0; k < d; k++) av += a[i * d + k] * vectors[k * d + j];
      assert.ok(Math.abs(av - values[j] * vectors[i * d + j]) < 1e-12 * norm * Math.max(1, d / 8), `residual ${i},${j}`);
    }
    for (let k = 0; k < d; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += vectors[i * d + j] * vectors[i * d + k];
      assert.ok(Math.abs(dot - (j === k ? 1 : 0)) < 1e-12 * Math.max(1, d / 8), `orthonormal ${j},${k}`);
    }
  }
}

describe('symmetricEigen (Householder + implicit QL)', () => {
  for (const d of [1, 2, 3, 17, 64]) {
    test(`agrees with Jacobi on a random symmetric ${d}×${d} matrix`, () => {
      const a = randomSymmetric(new Rng(100 + d), d);
      const fast = symmetricEigen(a, d), ref = jacobiEigen(a, d);
      check(a, d, fast);
      check(a, d, ref);
      const scale = Math.max(...Array.from(ref.values, Math.abs));
      for (let j = 0; j < d; j++) assert.ok(Math.abs(fast.values[j] - ref.values[j]) <= 1e-10 * scale, `λ${j}`);
      // distinct eigenvalues: the vectors agree too (same sign convention)
      for (let i = 0; i < d * d; i++) assert.ok(Math.abs(fast.vectors[i] - ref.vectors[i]) < 1e-8, `v${i}`);
    });
  }

  test('rank-deficient covariance-like matrix with zero rows/columns and repeated eigenvalues', () => {
    const rng = new Rng(7);
    const d = 40, r = 5;
    const u = Array.from({ length: r }, () => Array.from({ length: d }, (_, i) => (i % 6 === 0 ? 0 : rng.normal())));
    const a = new Float64Array(d * d);
    for (const v of u) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] += v[i] * v[j];
    const e = symmetricEigen(a, d);
    check(a, d, e);
    const ref = jacobiEigen(a, d);
    const scale = ref.values[0];
    for (let j = 0; j < d; j++) assert.ok(Math.abs(e.values[j] - ref.values[j]) <= 1e-10 * scale);
    for (let j = r; j < d; j++) assert.ok(Math.abs(e.values[j]) <= 1e-12 * scale);
    const id = symmetricEigen(Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0)), 4);
    assert.deepEqual(Array.from(id.values), [2, 2, 2, 2]);
  });

  test('is deterministic: bit-identical results on repeated runs', () => {
    const a = randomSymmetric(new Rng(3), 50);
    const x = symmetricEigen(a, 50), y = symmetricEigen(a, 50);
    assert.deepEqual(Array.from(x.values), Array.from(y.values));
    assert.deepEqual(Array.from(x.vectors), Array.from(y.vectors));
  });
});
