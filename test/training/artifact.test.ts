/**
 * The model artifact format (src/models/artifact.ts): resolved specs of every layer kind round-trip to a buildable
 * network spec, weights round-trip bit-exactly, a row whose parts disagree is refused, and a loaded artifact predicts
 * exactly like the network it was exported from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReferenceContext } from '../../src/engine/reference-context.js';
import { createNetwork } from '../../src/engine/network.js';
import { Preprocessor } from '../../src/engine/preprocessing.js';
import { resolveSpec, type NetworkSpec } from '../../src/engine/spec.js';
import {
  artifactColumns, artifactFromRow, decodeWeights, encodeWeights, networkFromArtifact, networkSpecOf, readArtifactSpec, type ModelArtifact,
} from '../../src/models/artifact.js';

const SPEC: NetworkSpec = {
  inputs: 3,
  layers: [
    { units: 5, activation: 'leaky-relu', alpha: 0.05, dropout: 0.1 },
    { units: 4, activation: 'prelu', init: 'small' },
    { units: 3, activation: 'maxout', pieces: 3 },
    { units: 2, activation: 'tanh' },
  ],
  outputs: 3,
  loss: 'softmax',
  regularization: { l2: 0.01 },
  inputNoise: 0.1,
  init: 'xavier',
};

function artifact(): { artifact: ModelArtifact; x: Float32Array; expected: Float32Array } {
  const ctx = createReferenceContext();
  const net = createNetwork(SPEC, { ctx, maxBatch: 8, seed: 3, optimizer: { type: 'sgd', learningRate: 0.1 } });
  const x = Float32Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i) * 4);
  const pre = Preprocessor.fit({ type: 'standardize' }, x, 7, 3);
  const expected = net.predict(pre.apply(x, 7), 7);
  return {
    artifact: {
      task: 'classification', spec: net.resolved, parameterCount: net.parameterCount, weights: net.exportWeights().values,
      preprocessing: pre.toJSON(), featureNames: ['a', 'b', 'c'], classNames: ['x', 'y', 'z'],
      metrics: { source: 'final', monitor: 'valLoss', epoch: 0, step: 0, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null },
      inputRange: [{ min: -4, max: 4 }, { min: -4, max: 4 }, { min: -4, max: 4 }],
    },
    x,
    expected,
  };
}

describe('model artifact', () => {
  it('turns a resolved spec back into the spec that builds it, for every layer kind', () => {
    const resolved = resolveSpec(SPEC);
    assert.deepEqual(resolveSpec(networkSpecOf(resolved)), resolved);
    assert.deepEqual(readArtifactSpec(JSON.parse(JSON.stringify(resolved))), resolved);
    assert.throws(() => readArtifactSpec({ ...resolved, layers: [{ ...resolved.layers[0]!, units: 0 }] }), /units/);
    assert.throws(() => readArtifactSpec({ layers: 3 }), /not a resolved network spec/);
  });

  it('round-trips weights bit-exactly, NaN payloads and signed zeros included', () => {
    const values = new Float32Array([0, -0, 1.5, -3.25e-30, Number.MAX_VALUE, Number.NaN, 1e-45]);
    const decoded = decodeWeights(encodeWeights(values), values.length);
    assert.deepEqual(new Uint8Array(decoded.buffer), new Uint8Array(values.buffer));
    assert.throws(() => decodeWeights(new Uint8Array(5), 2), /expected 8 bytes/);
  });

  it('a stored artifact predicts exactly like the network it came from; inconsistent rows are refused', () => {
    const { artifact: a, x, expected } = artifact();
    const row = artifactColumns(a);
    const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T; // as through a JSONB column
    const back = artifactFromRow({ ...row, spec: json(row.spec), preprocessing: json(row.preprocessing), metrics: json(row.metrics), inputRange: json(row.inputRange) });
    const { network, preprocessor } = networkFromArtifact(createReferenceContext(), back);
    assert.deepEqual(network.predict(preprocessor.apply(x, 7), 7), expected);

    assert.throws(() => artifactFromRow({ ...row, parameterCount: row.parameterCount + 1 }), /parameterCount/);
    assert.throws(() => artifactFromRow({ ...row, featureNames: ['a', 'b'] }), /feature names/);
    assert.throws(() => artifactFromRow({ ...row, classNames: ['x', 'y'] }), /class names/);
    assert.throws(() => artifactFromRow({ ...row, inputRange: [] }), /inputRange/);
    assert.throws(() => artifactFromRow({ ...row, weights: row.weights.subarray(4) }), /weights/);
    assert.throws(() => artifactFromRow({ ...row, preprocessing: { format: 'nope' } }), /preprocessing/);
  });
});
