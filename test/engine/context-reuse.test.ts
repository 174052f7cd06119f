/**
 * A fast context reused after `reset()` (how a trainer thread runs job after job without starting threads again)
 * behaves exactly like a new one: over generated networks, a job run on a context that first ran another, unrelated
 * job and was reset gives bit-identical losses, evaluations, predictions, saved state and parameters to the same job on
 * a fresh context; the reset releases every buffer made after creation (memoryUsed returns to its start) and leaves
 * the guard words intact (memory checks on).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createFastContext, type FastContext } from '../../src/engine/fast-context.js';
import type { Targets } from '../../src/engine/losses.js';
import { createNetwork } from '../../src/engine/network.js';
import type { OptimizerConfig } from '../../src/engine/optimizers.js';
import { Rng } from '../../src/engine/rng.js';
import { LOSSES, type NetworkSpec } from '../../src/engine/spec.js';
import { layerArbOf, optimizerArb } from '../fuzz/generators.js';
import { bytesOf } from './network-state.js';

interface Job {
  spec: NetworkSpec;
  optimizer: OptimizerConfig;
  seed: number;
  batch: number;
  steps: number;
}

const jobArb: fc.Arbitrary<Job> = fc.record({
  inputs: fc.integer({ min: 1, max: 40 }),
  layers: fc.array(layerArbOf(fc.integer({ min: 1, max: 48 })), { maxLength: 3 }),
  outputs: fc.integer({ min: 2, max: 5 }),
  loss: fc.constantFrom(...LOSSES),
  l2: fc.constantFrom(0, 1e-3),
  inputNoise: fc.constantFrom(0, 0.1),
  optimizer: optimizerArb,
  seed: fc.nat({ max: 1e6 }),
  batch: fc.integer({ min: 1, max: 70 }),
  steps: fc.integer({ min: 1, max: 6 }),
}).map((r) => ({
  spec: { inputs: r.inputs, layers: r.layers, outputs: r.outputs, loss: r.loss, regularization: { l2: r.l2 }, inputNoise: r.inputNoise },
  optimizer: r.optimizer, seed: r.seed, batch: r.batch, steps: r.steps,
}));

function dataOf(job: Job, rows: number): { x: Float32Array; t: Targets } {
  const rng = new Rng(job.seed + 1);
  const { inputs: D, outputs: K, loss } = job.spec;
  const x = new Float32Array(rows * D);
  rng.fillNormal(x, 0, x.length);
  const t: Targets = loss === 'l2' ? Float32Array.from({ length: rows * K }, () => rng.normal()) : Int32Array.from({ length: rows }, () => rng.int(K));
  return { x, t };
}

/** Everything a job computes, as plain values and bytes. */
function run(ctx: FastContext, job: Job): Record<string, unknown> {
  const { x, t } = dataOf(job, job.batch);
  const net = createNetwork(job.spec, { ctx, maxBatch: job.batch, seed: job.seed, optimizer: job.optimizer });
  const losses = Array.from({ length: job.steps }, (_, i) => {
    const s = net.trainStep(x, t, job.batch, { layerStats: i === job.steps - 1 });
    return [s.loss, s.gradNorm, s.layers ?? null];
  });
  return {
    losses,
    evaluation: net.evaluate(x, t, job.batch),
    prediction: bytesOf(net.predict(x, job.batch)),
    saved: net.saveState(),
    params: bytesOf(net.params),
    // the same buffers and tables, at the same addresses: nothing of the earlier job is still in use
    memoryUsed: ctx.memoryUsed,
  };
}

describe('a fast context reused after reset()', () => {
  let fresh: FastContext;
  let reused: FastContext;
  let startUsed: number;
  before(async () => {
    reused = await createFastContext({ threads: 2, checks: true, initialMemoryMiB: 4 });
    startUsed = reused.memoryUsed;
  });
  after(async () => {
    await reused.close();
  });

  test('gives bit-identical results to a new context, over generated jobs run after other jobs', async () => {
    await fc.assert(fc.asyncProperty(jobArb, jobArb, async (before, job) => {
      run(reused, before); // leaves its buffers, tables and moments behind
      reused.reset();
      assert.equal(reused.memoryUsed, startUsed, 'reset releases every buffer made after creation');
      const again = run(reused, job);
      reused.reset();
      fresh = await createFastContext({ threads: 2, checks: true, initialMemoryMiB: 4 });
      try {
        assert.deepStrictEqual(again, run(fresh, job));
      } finally {
        await fresh.close();
      }
    }), { seed: 20261203, numRuns: 12 });
  });

  test('zeroes what it releases, and a closed context cannot be reset', async () => {
    const ctx = await createFastContext({ threads: 1, checks: true, initialMemoryMiB: 1 });
    const a = ctx.alloc(1000, 'dirty');
    a.fill(7);
    ctx.reset();
    const b = ctx.alloc(1000, 'clean');
    assert.equal(b.byteOffset, a.byteOffset, 'the same bytes are handed out again');
    assert.ok(b.every((v) => v === 0), 'and they are zero, as on a new context');
    await ctx.close();
    assert.throws(() => ctx.reset(), /closed/);
  });
});
