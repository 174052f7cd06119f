import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { symmetricEigen } from '../../src/engine/eigen.js';
import { Preprocessor, validatePreprocessing, type PreprocessingSpec } from '../../src/engine/preprocessing.js';
import { Rng } from '../../src/engine/rng.js';
import { SpecError } from '../../src/engine/spec.js';

/** n rows of 3 correlated features: a Gaussian with standard deviations (5, 2, 0.5), rotated, then shifted. */
function correlated(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n * 3);
  const c = Math.cos(0.6), s = Math.sin(0.6);
  for (let i = 0; i < n; i++) {
    const a = 5 * rng.normal(), b = 2 * rng.normal(), e = 0.5 * rng.normal();
    x[i * 3] = c * a - s * b + 10;
    x[i * 3 + 1] = s * a + c * b - 4;
    x[i * 3 + 2] = e + 0.3 * a + 100;
  }
  return x;
}

function covariance(x: ArrayLike<number>, n: number, d: number): { mean: number[]; cov: number[][] } {
  const mean = new Array(d).fill(0);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += x[i * d + f] / n;
  const cov = Array.from({ length: d }, () => new Array(d).fill(0));
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a][b] += ((x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])) / n;
  return { mean, cov };
}

describe('symmetric eigen solver (Householder + QL)', () => {
  test('decomposes a random symmetric matrix: A·v = λ·v, orthonormal vectors, sorted values', () => {
    const rng = new Rng(1);
    const d = 7;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, d);
    for (let j = 0; j < d; j++) {
      if (j > 0) assert.ok(values[j] <= values[j - 1]);
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let k = 0; k < d; k++) av += a[i * d + k] * vectors[k * d + j];
        assert.ok(Math.abs(av - values[j] * vectors[i * d + j]) < 1e-12);
      }
      for (let k = 0; k < d; k++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += vectors[i * d + j] * vectors[i * d + k];
        assert.ok(Math.abs(dot - (j === k ? 1 : 0)) < 1e-12);
      }
    }
  });

  test('a known 2×2 case and an already-diagonal matrix', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    assert.ok(Math.abs(values[0] - 3) < 1e-15 && Math.abs(values[1] - 1) < 1e-15);
    assert.ok(Math.abs(vectors[0] - Math.SQRT1_2) < 1e-15 && Math.abs(vectors[2] - Math.SQRT1_2) < 1e-15);
    const diag = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    assert.deepEqual(Array.from(diag.values), [3, 2, 1]);
    assert.deepEqual(Array.from(diag.vectors), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  });
});

describe('preprocessing', () => {
  const rng = new Rng(4);
  const n = 2000;
  const x = correlated(rng, n);

  test('none is the identity', () => {
    const p = Preprocessor.fit({ type: 'none' }, x, n, 3);
    assert.deepEqual(p.apply(x, 5), x.subarray(0, 15));
  });

  test('center subtracts the training mean', () => {
    const out = Preprocessor.fit({ type: 'center' }, x, n, 3).apply(x, n);
    const { mean } = covariance(out, n, 3);
    assert.ok(mean.every((m) => Math.abs(m) < 1e-4), String(mean));
  });

  test('standardize gives zero mean and unit variance; a constant feature maps to 0', () => {
    const out = Preprocessor.fit({ type: 'standardize' }, x, n, 3).apply(x, n);
    const { mean, cov } = covariance(out, n, 3);
    for (let f = 0; f < 3; f++) {
      assert.ok(Math.abs(mean[f]) < 1e-4);
      assert.ok(Math.abs(cov[f][f] - 1) < 1e-4);
    }
    const constant = Float32Array.from([1, 7, 2, 7, 3, 7]);
    const p = Preprocessor.fit({ type: 'standardize' }, constant, 3, 2);
    assert.deepEqual(Array.from(p.apply(constant, 3)).filter((_, i) => i % 2 === 1), [0, 0, 0]);
  });

  test('pca decorrelates, orders by variance and reduces to k components', () => {
    const full = Preprocessor.fit({ type: 'pca', components: 3 }, x, n, 3);
    const out = full.apply(x, n);
    const { cov } = covariance(out, n, 3);
    const json = full.toJSON();
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(cov[a][a] - json.variances![a]) < 1e-3 * json.variances![a]);
      for (let b = 0; b < 3; b++) if (a !== b) assert.ok(Math.abs(cov[a][b]) < 1e-3, `cov[${a}][${b}] = ${cov[a][b]}`);
    }
    assert.ok(json.variances![0] > 20 && json.variances![2] < 1); // ≈ 25 + 0.3²·25, …, ≈ 0.25
    const reduced = Preprocessor.fit({ type: 'pca', components: 2 }, x, n, 3);
    assert.equal(reduced.outputs, 2);
    const two = reduced.apply(x, n);
    for (let i = 0; i < 50; i++) {
      assert.ok(Math.abs(two[i * 2] - out[i * 3]) < 1e-4 && Math.abs(two[i * 2 + 1] - out[i * 3 + 1]) < 1e-4);
    }
  });

  test('whitening gives (nearly) identity covariance', () => {
    for (const spec of [{ type: 'whiten' }, { type: 'whiten', standardize: true, epsilon: 1e-8 }] as PreprocessingSpec[]) {
      const out = Preprocessor.fit(spec, x, n, 3).apply(x, n);
      const { cov } = covariance(out, n, 3);
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) assert.ok(Math.abs(cov[a][b] - (a === b ? 1 : 0)) < 1e-3, `cov[${a}][${b}] = ${cov[a][b]}`);
    }
  });

  test('fitted on the given rows only, applied unchanged to later rows', () => {
    const train = x.subarray(0, 300), later = x.subarray(300, 600);
    const p = Preprocessor.fit({ type: 'center' }, train, 100, 3);
    const mean = covariance(train, 100, 3).mean;
    const out = p.apply(later, 100);
    for (let i = 0; i < 300; i++) assert.ok(Math.abs(out[i] - (later[i] - mean[i % 3])) < 1e-4);
  });

  test('JSON round trip restores bit-identical outputs', () => {
    for (const spec of [{ type: 'standardize' }, { type: 'pca', components: 2, standardize: true }, { type: 'whiten', epsilon: 0.1 }] as PreprocessingSpec[]) {
      const p = Preprocessor.fit(spec, x, n, 3);
      const text = JSON.stringify(p.toJSON());
      const q = Preprocessor.fromJSON(JSON.parse(text));
      assert.deepEqual(q.apply(x, n, new Float64Array(n * p.outputs)), p.apply(x, n, new Float64Array(n * p.outputs)));
      assert.equal(JSON.stringify(q.toJSON()), text);
    }
  });

  test('bad specs, data and JSON are refused', () => {
    assert.deepEqual(validatePreprocessing({ type: 'pca', components: 4 }, 3).map((i) => i.path), ['components']);
    assert.deepEqual(validatePreprocessing({ type: 'whiten', epsilon: 0 }, 3).map((i) => i.path), ['epsilon']);
    assert.deepEqual(validatePreprocessing({ type: 'zca' }, 3).map((i) => i.path), ['type']);
    assert.throws(() => Preprocessor.fit({ type: 'pca', components: 0 }, x, n, 3), SpecError);
    assert.throws(() => Preprocessor.fit({ type: 'center' }, Float32Array.from([1, NaN]), 1, 2), RangeError);
    const json = Preprocessor.fit({ type: 'standardize' }, x, n, 3).toJSON();
    assert.throws(() => Preprocessor.fromJSON({ ...json, scale: [1, 0, 1] }), RangeError);
    assert.throws(() => Preprocessor.fromJSON({ ...json, mean: [1, 2] }), RangeError);
    assert.throws(() => Preprocessor.fromJSON(null), RangeError);
  });
});
