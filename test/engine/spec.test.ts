import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFloat64Backend } from '../../src/engine/backend.js';
import { Network } from '../../src/engine/network.js';
import { describeNetwork, resolveSpec, SpecError, validateSpec } from '../../src/engine/spec.js';

test('CS231n parameter counts: 3-4-2 has 26, 3-4-4-1 has 41 (computed without allocating)', () => {
  const a = describeNetwork({ inputs: 3, layers: [{ units: 4, activation: 'sigmoid' }], outputs: 2, loss: 'softmax' });
  assert.equal(a.parameterCount, 26);
  assert.deepEqual(a.layers, [
    { name: 'dense1', kind: 'dense', activation: 'sigmoid', inputs: 3, outputs: 4, params: 16 },
    { name: 'output', kind: 'dense', activation: 'identity', inputs: 4, outputs: 2, params: 10 },
  ]);
  const b = describeNetwork({ inputs: 3, layers: [{ units: 4, activation: 'sigmoid' }, { units: 4, activation: 'sigmoid' }], outputs: 1, loss: 'l2' });
  assert.equal(b.parameterCount, 41);
  assert.deepEqual(b.layers.map((l) => l.params), [16, 20, 5]);
});

test('the layer table shows noise, dropout, PReLU slopes and maxout pieces', () => {
  const d = describeNetwork({
    inputs: 10, inputNoise: 0.1, loss: 'svm', outputs: 3,
    layers: [{ units: 8, activation: 'prelu', dropout: 0.5 }, { units: 4, activation: 'maxout', pieces: 3 }],
  });
  assert.deepEqual(d.layers.map((l) => [l.name, l.kind, l.inputs, l.outputs, l.params]), [
    ['noise', 'noise', 10, 10, 0],
    ['dense1', 'dense', 10, 8, 10 * 8 + 8 + 8],
    ['dropout1', 'dropout', 8, 8, 0],
    ['dense2', 'maxout', 8, 4, 8 * 12 + 12],
    ['output', 'dense', 4, 3, 4 * 3 + 3],
  ]);
  assert.equal(d.parameterCount, 96 + 108 + 15);
});

test('defaults: He for the ReLU family, Xavier otherwise and for the output layer; spec-wide and per-layer init', () => {
  const r = resolveSpec({ inputs: 2, layers: [{ units: 3, activation: 'relu' }, { units: 3, activation: 'tanh' }, { units: 3, activation: 'leaky-relu' }], outputs: 2, loss: 'softmax' });
  assert.deepEqual(r.layers.map((l) => l.init), ['he', 'xavier', 'he']);
  assert.equal(r.layers[2].alpha, 0.01);
  assert.equal(r.outputInit, 'xavier');
  const s = resolveSpec({ inputs: 2, init: 'small', layers: [{ units: 3, activation: 'relu' }, { units: 3, activation: 'relu', init: 'xavier' }], outputs: 2, loss: 'softmax' });
  assert.deepEqual([...s.layers.map((l) => l.init), s.outputInit], ['small', 'xavier', 'small']);
  assert.deepEqual(s.regularization, { l2: 0, l1: 0 });
});

test('invalid specs list every problem with its path', () => {
  const issues = validateSpec({
    inputs: 0, outputs: 1, loss: 'softmax', inputNoise: -1, regularization: { l2: 'x' },
    layers: [{ units: 2.5, activation: 'swish' }, { units: 3, activation: 'relu', alpha: 0.1, dropout: 1 }, { units: 3, activation: 'maxout', pieces: 1 }],
  });
  assert.deepEqual(issues.map((i) => i.path), [
    'inputs', 'outputs', 'inputNoise', 'regularization.l2',
    'layers[0].units', 'layers[0].activation', 'layers[1].alpha', 'layers[1].dropout', 'layers[2].pieces',
  ]);
  assert.deepEqual(validateSpec(null).map((i) => i.path), ['']);
  assert.deepEqual(validateSpec({ inputs: 1, outputs: 1, loss: 'l2' }).map((i) => i.path), ['layers']);
  assert.throws(() => describeNetwork({ inputs: 1, layers: [], outputs: 1, loss: 'huber' as 'l2' }), SpecError);
  assert.deepEqual(validateSpec({ inputs: 1, layers: [{ units: 1, activation: 'leaky-relu', alpha: 0.5 }], outputs: 1, loss: 'logistic' }), []);
});

test('initialization: He, Xavier and small give the documented standard deviations; biases 0, PReLU slopes at alpha', () => {
  const net = new Network({
    inputs: 400, outputs: 10, loss: 'softmax',
    layers: [{ units: 300, activation: 'relu' }, { units: 200, activation: 'tanh' }, { units: 100, activation: 'prelu', alpha: 0.3, init: 'small' }],
  }, { ctx: createFloat64Backend(), maxBatch: 1, seed: 1, optimizer: { type: 'sgd', learningRate: 0.1 } });
  const std = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  const [d1, d2, d3, out] = net.layers.map((l) => l.parameters);
  const near = (value: number, expected: number) => assert.ok(Math.abs(value / expected - 1) < 0.02, `${value} vs ${expected}`);
  near(std(d1[0].value), Math.sqrt(2 / 400)); // He
  near(std(d2[0].value), Math.sqrt(2 / 500)); // Xavier
  near(std(d3[0].value), 0.01); // small
  near(std(out[0].value), Math.sqrt(2 / 110)); // output layer: Xavier
  assert.ok(d1[1].value.every((b) => b === 0));
  assert.ok(d3[2].value.every((a) => a === 0.3));
});
