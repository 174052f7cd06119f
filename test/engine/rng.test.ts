import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.js';

test('xoshiro128** matches the reference stream for state [1, 2, 3, 4]', () => {
  // First outputs of the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c) from s = {1, 2, 3, 4}.
  const rng = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual(Array.from({ length: 4 }, () => rng.nextUint32()), [11520, 0, 5927040, 70819200]);
});

test('the same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const draw = (r: Rng) => Array.from({ length: 8 }, () => r.nextUint32());
  const sa = draw(a);
  assert.deepEqual(sa, draw(b));
  assert.notDeepEqual(sa, draw(c));
  assert.notDeepEqual(draw(new Rng(0)), draw(new Rng(2 ** 32))); // the high word of the seed counts
});

test('state saved mid-stream restores exactly, also into a fresh generator', () => {
  const rng = new Rng(7);
  for (let i = 0; i < 13; i++) rng.normal();
  const saved = rng.state();
  const ahead = [rng.uniform(), rng.normal(), rng.int(1000), rng.nextUint32()];
  rng.restore(saved);
  assert.deepEqual([rng.uniform(), rng.normal(), rng.int(1000), rng.nextUint32()], ahead);
  const fresh = Rng.fromState(JSON.parse(JSON.stringify(saved)) as [number, number, number, number]);
  assert.deepEqual([fresh.uniform(), fresh.normal(), fresh.int(1000), fresh.nextUint32()], ahead);
});

test('bad seeds and states are refused', () => {
  assert.throws(() => new Rng(-1), RangeError);
  assert.throws(() => new Rng(1.5), RangeError);
  assert.throws(() => Rng.fromState([0, 0, 0, 0]), RangeError);
  assert.throws(() => Rng.fromState([1, 2, 3, 2 ** 32]), RangeError);
});

test('uniform, normal and int have the right distribution', () => {
  const rng = new Rng(1);
  const n = 200_000;
  const z = new Float64Array(n);
  rng.fillNormal(z, 0, n, 2, 3);
  let mean = 0, sq = 0;
  for (const v of z) mean += v / n;
  for (const v of z) sq += (v - mean) ** 2 / n;
  assert.ok(Math.abs(mean - 2) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sq) - 3) < 0.03, `std ${Math.sqrt(sq)}`);
  let u = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.uniform();
    assert.ok(v >= 0 && v < 1);
    u += v / n;
  }
  assert.ok(Math.abs(u - 0.5) < 0.005);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
  assert.ok(counts.every((c) => Math.abs(c - 10_000) < 500), String(counts));
});

test('shuffle is a permutation, reproducible from the seed', () => {
  const a = Int32Array.from({ length: 100 }, (_, i) => i);
  const b = Int32Array.from(a);
  new Rng(5).shuffle(a);
  new Rng(5).shuffle(b);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
});
