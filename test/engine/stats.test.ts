import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sigmoidForward } from '../../src/engine/activations.js';
import { FLUSH_BELOW } from '../../src/engine/backend.js';
import { sumLoss } from '../../src/engine/losses.js';
import { adaptiveUpdate, momentumUpdate } from '../../src/engine/optimizers.js';
import { decodeState, encodeState } from '../../src/engine/state-codec.js';
import { ActivityWindow, moments, saturatedFraction, sumSquares } from '../../src/engine/stats.js';

test('moments and sums of squares', () => {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(moments(a, 2, 3), { mean: 3.5, std: Math.sqrt(17.5 / 6) });
  assert.deepEqual(moments(a, 0, 3), { mean: 0, std: 0 });
  assert.equal(sumSquares(a), 91);
  assert.equal(sumSquares(a, 1, 3), 4 + 9 + 16);
});

test('saturation: a unit counts when saturated on more than half the rows', () => {
  // 3 rows × 3 units: unit 0 saturated on 3 rows, unit 1 on 2 (> 1.5), unit 2 on 1.
  const tanh = Float32Array.from([0.999, -0.995, 0.1, -1, 0.995, 0.5, 0.9999, 0.2, -0.995]);
  assert.equal(saturatedFraction(tanh, 3, 3, 'tanh'), 2 / 3);
  const sigmoid = Float32Array.from([0.001, 0.5, 0.995, 0.5]);
  assert.equal(saturatedFraction(sigmoid, 2, 2, 'sigmoid'), 0.5);
});

test('dead units: never active over the whole window, restarted by each read', () => {
  const w = new ActivityWindow(4);
  assert.equal(w.read(), null);
  w.observe(Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0]), 2); // unit 1 active
  w.observe(Float32Array.from([0, 0, 0, 0, 0, 0, 2, 0]), 2); // unit 2 active (row 1)
  assert.equal(w.read(), 0.5);
  w.observe(Float32Array.from([0, 0, 0, -1]), 1);
  assert.equal(w.read(), 1);
});

test('state codec: round trip of floats (bit-exact, including NaN payloads and -0) and refusal of damaged bytes', () => {
  const f32 = Float32Array.from([1.5, -0, Number.MIN_VALUE, 3.4e38, NaN]);
  const f64 = Float64Array.from([Math.PI, -0, 5e-324]);
  const bytes = encodeState({ hello: 'world', n: [1, 2] }, [{ name: 'a', data: f32 }, { name: 'b', data: f64 }, { name: 'empty', data: new Float32Array(0) }]);
  // decode from an unaligned copy, as a Buffer from a database might be
  const shifted = new Uint8Array(bytes.length + 3).subarray(3);
  shifted.set(bytes);
  const { meta, sections } = decodeState(shifted);
  assert.deepEqual(meta, { hello: 'world', n: [1, 2] });
  assert.deepEqual(new Uint8Array(sections.get('a')!.buffer), new Uint8Array(f32.buffer));
  assert.deepEqual(new Uint8Array(sections.get('b')!.buffer), new Uint8Array(f64.buffer));
  assert.ok(sections.get('b') instanceof Float64Array);
  assert.equal(sections.get('empty')!.length, 0);
  assert.throws(() => decodeState(bytes.subarray(0, bytes.length - 1)), /truncated/);
  assert.throws(() => decodeState(Uint8Array.from([...bytes, 0])), /trailing/);
  const bad = Uint8Array.from(bytes);
  bad[0] = 0;
  assert.throws(() => decodeState(bad), /magic/);
});

test('denormals are flushed where they arise: updated weights, loss gradients, sigmoid outputs', () => {
  const isTiny = (v: number) => v !== 0 && Math.abs(v) < FLUSH_BELOW;
  const w = Float32Array.from([1.5e-38, -1.5e-38, 1]);
  momentumUpdate(w, Float32Array.from([1e-38, -1e-38, 0]), null, 3, 1, 0, false);
  assert.deepEqual(Array.from(w), [0, 0, 1]);
  const m = new Float32Array(3), v = new Float32Array(3);
  const w2 = Float32Array.from([1e-38, 0.5, 0]);
  adaptiveUpdate(w2, Float32Array.from([0, 0, 0]), m, v, 3, 1, 0.9, 0.999, 0.001, 1e-8, 1, 1);
  assert.ok(!Array.from(w2).some(isTiny));
  const grad = new Float32Array(3);
  sumLoss('softmax', Float32Array.from([0, -100, 0]), 3, Int32Array.from([0]), 1, grad, 1 / 300);
  assert.equal(grad[1], 0);
  const a = new Float32Array(2);
  sigmoidForward(Float32Array.from([-100, 0]), new Float32Array(2), a, 1, 2);
  assert.deepEqual(Array.from(a), [0, 0.5]);
});
