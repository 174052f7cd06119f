/**
 * Engine invariants (issue 9), over generated networks (fast-check, fixed seeds), on the fast context with 1, 2 and 3
 * threads and the allocator's guard words on (`checks: true`):
 *
 *   - evaluate, predict, layerStats, saveState, exportWeights and decision grids (the live grids of training jobs,
 *     src/training/decision-grids.ts, and the model endpoint's, src/inference/decision-grid.ts) leave the parameters,
 *     gradients, optimizer moments (optimizer.buffers), step and RNG state bit-unchanged;
 *   - a saved state restored into a fresh network equals the saved one, and both continue bit-identically;
 *   - every result (training losses, evaluations, predictions, statistics, saved bytes, exported weights, parameters)
 *     is bit-identical for 1, 2 and 3 threads.
 *
 * For every layer kind (dense, maxout, dropout, input noise), activation, loss, optimizer and schedule — the small
 * cases assert that they were all covered —, at sizes up to 2,048 inputs × 1,024 units and batch sizes 1 to 1,024
 * (including all those that are not multiples of the 4×8 kernel tiles around the tile edges). Most cases are small and
 * a few are wide, so that the file runs in well under a minute. The differential fuzzer (test/fuzz/) checks the same
 * invariants on longer random operation sequences, and the values against a float64 reference.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastContext } from '../../src/engine/fast-context.js';
import type { Targets } from '../../src/engine/losses.js';
import { createNetwork, restoreNetwork, type Network } from '../../src/engine/network.js';
import { OPTIMIZERS, type OptimizerConfig } from '../../src/engine/optimizers.js';
import { Preprocessor } from '../../src/engine/preprocessing.js';
import { Rng } from '../../src/engine/rng.js';
import { ACTIVATIONS, LOSSES, planLayers, resolveSpec, type HiddenLayerSpec, type LossKind, type NetworkSpec } from '../../src/engine/spec.js';
import { decisionGrid } from '../../src/inference/decision-grid.js';
import type { LoadedModel } from '../../src/inference/loaded-model.js';
import { DecisionGrids } from '../../src/training/decision-grids.js';
import type { PreparedData } from '../../src/training/prepare-data.js';
import { Engines, THREADS } from '../fuzz/engines.js';
import { layerArbOf, optimizerArb } from '../fuzz/generators.js';
import { bytesOf, diffStates, snapshot } from './network-state.js';

interface InvariantCase {
  spec: NetworkSpec;
  optimizer: OptimizerConfig;
  seed: number;
  dataSeed: number;
  maxBatch: number;
  /** Batch sizes of the training steps before the checks (each ≤ maxBatch); every other one with layer statistics. */
  steps: number[];
  /** Rows evaluated and predicted (chunked by maxBatch when larger). */
  evalRows: number;
  /** Steps after the save, run on the original and the restored network. */
  more: number[];
}

const describeSpec = (s: NetworkSpec) =>
  `${s.inputs}${s.inputNoise ? '~' : ''}-${s.layers.map((l) => `${l.units}${l.activation}${l.dropout ? '/d' : ''}`).join('-')}${s.layers.length ? '-' : ''}${s.outputs}${s.loss}`;

/** Random inputs (rows × inputs) and targets of the loss's kind. */
function makeData(c: InvariantCase, rows: number): { x: Float32Array; t: Targets } {
  const rng = new Rng(c.dataSeed);
  const { inputs: D, outputs: K, loss } = c.spec;
  const x = new Float32Array(rows * D);
  rng.fillNormal(x, 0, x.length);
  let t: Targets;
  if (loss === 'l2') {
    t = new Float32Array(rows * K);
    rng.fillNormal(t, 0, t.length);
  } else if (loss === 'logistic' && c.dataSeed % 2 === 1) {
    t = Float32Array.from({ length: rows * K }, () => rng.uniform());
  } else {
    t = Int32Array.from({ length: rows }, () => rng.int(K === 1 ? 2 : K));
  }
  return { x, t };
}

const rowsOf = (t: Targets, K: number, start: number, n: number): Targets =>
  t instanceof Int32Array ? t.subarray(start, start + n) : t.subarray(start * K, (start + n) * K);

/** Runs f and asserts that the network's parameters, gradients, moments, step and RNG are bit-unchanged. */
async function unchanged<R>(net: Network, what: string, f: () => R | Promise<R>): Promise<R> {
  const before = snapshot(net);
  const result = await f();
  assert.deepEqual(diffStates(before, snapshot(net)), [], `${what} changed the network's state`);
  return result;
}

/** Everything one context computes for a case, as plain values and bytes (compared across thread counts). */
async function runOn(ctx: FastContext, c: InvariantCase): Promise<Record<string, unknown>> {
  const K = c.spec.outputs;
  const rows = Math.max(c.evalRows, ...c.steps, ...c.more);
  const { x, t } = makeData(c, rows);
  const D = c.spec.inputs;
  const net = createNetwork(c.spec, { ctx, maxBatch: c.maxBatch, seed: c.seed, optimizer: c.optimizer });
  const losses = c.steps.map((n, i) => {
    const s = net.trainStep(x, rowsOf(t, K, 0, n), n, { layerStats: i % 2 === 1 });
    return [s.loss, s.dataLoss, s.regLoss, s.gradNorm, s.learningRate, s.layers ?? null];
  });
  const what = `${describeSpec(c.spec)} on ${ctx.threads} thread(s)`;
  const evaluation = await unchanged(net, `evaluate (${what})`, () => net.evaluate(x, rowsOf(t, K, 0, c.evalRows), c.evalRows));
  const prediction = await unchanged(net, `predict (${what})`, () => net.predict(x, c.evalRows));
  const stats = await unchanged(net, `layerStats (${what})`, () => net.layerStats());
  const exported = await unchanged(net, `exportWeights (${what})`, () => net.exportWeights());
  const saved = await unchanged(net, `saveState (${what})`, () => net.saveState());
  let grids: unknown = null;
  if (D === 2 && c.spec.loss !== 'l2' && t instanceof Int32Array) grids = await bothGrids(net, c.spec.loss, K, x, t, rows, what);

  // restore into a fresh network: the same state, and the same future
  const fresh = restoreNetwork(saved, { ctx, maxBatch: c.maxBatch });
  assert.deepEqual(diffStates({ ...snapshot(net), grads: new Uint8Array(0) }, { ...snapshot(fresh), grads: new Uint8Array(0) }), [],
    `restored state (${what})`);
  assert.deepEqual(fresh.saveState(), saved, `saveState of the restored network (${what})`);
  for (const [i, n] of c.more.entries()) {
    const start = (i * 7) % (rows - n + 1);
    const a = net.trainStep(x.subarray(start * D), rowsOf(t, K, start, n), n), b = fresh.trainStep(x.subarray(start * D), rowsOf(t, K, start, n), n);
    assert.deepEqual([b.loss, b.gradNorm], [a.loss, a.gradNorm], `step ${i} after the restore (${what})`);
  }
  assert.deepEqual(diffStates(snapshot(net), snapshot(fresh)), [], `the restored network continues bit-identically (${what})`);
  return {
    losses, evaluation, prediction: bytesOf(prediction), stats, exported: bytesOf(exported.values), saved, grids,
    params: bytesOf(fresh.params), grads: bytesOf(fresh.grads), buffers: fresh.optimizer.buffers.map(bytesOf),
  };
}

/** Both decision grids of a 2-input classifier: the live one of training jobs and the model endpoint's. */
async function bothGrids(net: Network, loss: LossKind, K: number, x: Float32Array, t: Int32Array, rows: number, what: string): Promise<unknown> {
  const preprocessor = Preprocessor.fit({ type: 'none' }, x, rows, 2);
  const live = DecisionGrids.forJob(net, loss, K, { rows, features: 2, x, y: t }, { preprocessor } as PreparedData, { resolution: 9, everyEpochs: 1 });
  const liveGrid = await unchanged(net, `live decision grid (${what})`, () => live!.compute(0));
  const model = {
    id: 'm', tenantId: 't', task: 'classification', loss, outputs: K, featureNames: ['a', 'b'],
    classNames: Array.from({ length: K === 1 ? 2 : K }, (_, i) => `c${i}`), inputRange: [{ min: -2, max: 2 }, { min: -1, max: 3 }],
    runner: { network: net, preprocessor }, chunkRows: 7, bytes: 0,
  } as unknown as LoadedModel;
  const modelGrid = await unchanged(net, `model decision grid (${what})`, () => decisionGrid(model, 11));
  return { live: liveGrid, model: modelGrid };
}

let engines: Engines;

/** Runs a case on 1, 2 and 3 threads and asserts that every result is bit-identical. */
async function checkCase(c: InvariantCase): Promise<void> {
  const P = planLayers(resolveSpec(c.spec)).reduce((s, p) => s + p.parameterCount, 0);
  const contexts = await engines.fast(4 * P * 16 + (32 << 20));
  const results: Record<string, unknown>[] = [];
  for (const ctx of contexts) results.push(await runOn(ctx, c));
  for (const [i, r] of results.entries()) {
    if (i > 0) assert.deepStrictEqual(r, results[0], `${describeSpec(c.spec)}: ${THREADS[i]} threads vs 1`);
  }
}

// ---- generated cases ---------------------------------------------------------------------------------------------

const small = (n: number) => fc.integer({ min: 1, max: n });

function caseArb(sizes: { inputs: fc.Arbitrary<number>; units: fc.Arbitrary<number>; layers: number; maxBatch: fc.Arbitrary<number> }): fc.Arbitrary<InvariantCase> {
  return fc.record({
    inputs: sizes.inputs,
    layers: fc.array(layerArbOf(sizes.units), { maxLength: sizes.layers }),
    outputs: small(6),
    loss: fc.constantFrom(...LOSSES),
    l2: fc.constantFrom(0, 1e-4, 0.01),
    l1: fc.constantFrom(0, 0, 1e-4),
    inputNoise: fc.constantFrom(0, 0, 0.1),
    optimizer: optimizerArb,
    seed: fc.nat({ max: 1e6 }),
    dataSeed: fc.nat({ max: 1e6 }),
    maxBatch: sizes.maxBatch,
    steps: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 3 }),
    evalFraction: fc.integer({ min: 1, max: 250 }),
    more: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 3 }),
  }).map((r) => {
    const spec: NetworkSpec = {
      inputs: r.inputs, layers: r.layers, outputs: r.loss === 'softmax' ? Math.max(2, r.outputs) : r.outputs, loss: r.loss,
      regularization: { l2: r.l2, l1: r.l1 }, inputNoise: r.inputNoise,
    };
    const batch = (per: number) => Math.max(1, Math.ceil((per / 1000) * r.maxBatch));
    return {
      spec, optimizer: r.optimizer, seed: r.seed, dataSeed: r.dataSeed, maxBatch: r.maxBatch, steps: r.steps.map(batch),
      evalRows: Math.max(1, Math.ceil((r.evalFraction / 100) * r.maxBatch)), more: r.more.map(batch),
    };
  });
}

/** Which activations, losses, optimizers, schedules and layer kinds the cases run covered. */
class Coverage {
  readonly seen = new Set<string>();
  add(c: InvariantCase): void {
    this.seen.add(`loss ${c.spec.loss}`);
    this.seen.add(`optimizer ${c.optimizer.type}`);
    this.seen.add(`schedule ${c.optimizer.schedule?.type ?? 'constant'}`);
    for (const p of planLayers(resolveSpec(c.spec))) this.seen.add(`layer ${p.kind}`);
    for (const l of c.spec.layers as HiddenLayerSpec[]) this.seen.add(`activation ${l.activation}`);
  }
  missing(): string[] {
    const all = [
      ...LOSSES.map((l) => `loss ${l}`), ...OPTIMIZERS.map((o) => `optimizer ${o}`), ...ACTIVATIONS.map((a) => `activation ${a}`),
      ...['constant', 'step', 'exponential', 'cosine'].map((s) => `schedule ${s}`), ...['dense', 'maxout', 'dropout', 'noise'].map((k) => `layer ${k}`),
    ];
    return all.filter((k) => !this.seen.has(k));
  }
}

describe('engine invariants (fast context, 1/2/3 threads, memory checks on)', () => {
  before(async () => {
    engines = await Engines.start();
  });
  after(() => engines.close());

  // The issue's reproduction, exactly: 5 SGD steps then evaluate() on a 784-256-10 ReLU softmax net, batch 128, l2 1e-4.
  for (const threads of THREADS) {
    test(`issue 9 regression: evaluate() and predict() change no parameter of a 784-256-10 net (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      const ctx = (await engines.fast(64 << 20))[THREADS.indexOf(threads)];
      assert.equal(ctx.threads, threads);
      const D = 784, K = 10, n = 128, rng = new Rng(8);
      const x = new Float32Array(n * D);
      rng.fillNormal(x, 0, x.length);
      const y = Int32Array.from({ length: n }, () => rng.int(K));
      const net = createNetwork({ inputs: D, outputs: K, loss: 'softmax', regularization: { l2: 1e-4 }, layers: [{ units: 256, activation: 'relu' }] },
        { ctx, maxBatch: n, seed: 12, optimizer: { type: 'sgd', learningRate: 0.001 } });
      for (let i = 0; i < 5; i++) net.trainStep(x, y, n);
      const before = Float32Array.from(net.params);
      net.evaluate(x, y, n);
      let changed = 0;
      for (let i = 0; i < before.length; i++) if (before[i] !== net.params[i]) changed++;
      assert.equal(changed, 0, `evaluate() changed ${changed} of ${before.length} parameters`);
      await unchanged(net, 'evaluate', () => net.evaluate(x, y, n));
      await unchanged(net, 'predict', () => net.predict(x, n));
    });
  }

  test('small generated networks: every activation, loss, layer kind, optimizer and schedule', async () => {
    const coverage = new Coverage();
    await fc.assert(fc.asyncProperty(
      caseArb({ inputs: fc.oneof(fc.constant(2), small(40)), units: small(40), layers: 3, maxBatch: small(70) }),
      async (c) => {
        coverage.add(c);
        await checkCase(c);
      },
    ), { seed: 9001, numRuns: 60 });
    assert.deepEqual(coverage.missing(), [], 'the generated cases must cover every kind');
  });

  test('wide generated networks: up to 2,048 inputs × 1,024 units', async () => {
    await fc.assert(fc.asyncProperty(
      caseArb({ inputs: fc.integer({ min: 700, max: 2048 }), units: fc.integer({ min: 300, max: 1024 }), layers: 1, maxBatch: small(24) }),
      async (c) => checkCase(c),
    ), { seed: 9002, numRuns: 2, examples: [[{
      spec: { inputs: 2048, layers: [{ units: 1024, activation: 'relu', dropout: 0.2 }], outputs: 10, loss: 'softmax', regularization: { l2: 1e-4, l1: 1e-5 } },
      optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 1, dataSeed: 2, maxBatch: 9, steps: [9, 3], evalRows: 21, more: [5, 9],
    }]] });
  });

  test('batch sizes 1 to 1,024, at and around the 4×8 kernel tiles', async () => {
    const batches = [1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 31, 32, 33, 63, 65, 127, 129, 255, 257, 511, 513, 1000, 1023, 1024];
    await fc.assert(fc.asyncProperty(
      caseArb({ inputs: fc.integer({ min: 1, max: 70 }), units: fc.integer({ min: 1, max: 70 }), layers: 2, maxBatch: fc.constant(1024) }),
      fc.constantFrom(...batches),
      async (c, n) => checkCase({ ...c, maxBatch: n, steps: [n, Math.max(1, n - 1)], evalRows: Math.min(1024, 2 * n + 1), more: [n] }),
    ), { seed: 9003, numRuns: 12, examples: batches.map((n, i) => [{
      spec: { inputs: 37, layers: [{ units: 45, activation: i % 2 ? 'maxout' : 'relu' }], outputs: 7, loss: 'softmax', regularization: { l2: 1e-3 } },
      optimizer: { type: 'momentum', learningRate: 0.01 }, seed: i, dataSeed: i, maxBatch: n, steps: [], evalRows: 1, more: [],
    } satisfies InvariantCase, n] as [InvariantCase, number]) });
  });
});
