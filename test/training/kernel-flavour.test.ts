/**
 * Issue 9 (6e): bit-identical results hold within one kernel build (flavour) on one CPU family. A checkpoint records
 * the flavour it was made with; resuming it under another flavour logs a warning in the worker; checkpoints written
 * before the record existed still resume (exactly, under the same flavour). ENGINE_KERNEL picks the flavour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import { decodeEnvelope } from '../../src/engine/envelope.js';
import { relaxedSimdAvailable } from '../../src/engine/kernels/gemm-wasm.js';
import { planJob } from '../../src/jobs/plan.js';
import { decodeCheckpoint, encodeCheckpoint, kernelChange } from '../../src/training/checkpoint-state.js';
import { runTrainer } from '../../src/training/run-trainer.js';
import { createControlBlock, type TrainerInput, type TrainerMessage } from '../../src/training/trainer-protocol.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, waitUntil, type Installation } from './helpers.js';

const spiral = generateSynthetic('spiral', { n: 60, classes: 3, noise: 0.2 }, 5);
const DATASET = { id: '00000000-0000-4000-8000-000000000003', name: 'spiral', task: 'classification' as const, rows: 180, features: 2, classes: 3 };
const BODY: object = {
  network: { layers: [{ units: 32, activation: 'relu', dropout: 0.2 }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 4, batchSize: 16, seed: 21, keep: 'final' },
  checkpoints: { everySteps: 7, everySeconds: 3600, keep: 3 },
  metrics: { everySteps: 3 },
};
const DEFAULTS = loadConfig({});

function inputFor(overrides: Partial<TrainerInput>): TrainerInput {
  const plan = planJob({ datasetId: DATASET.id, ...BODY }, DATASET, { parameters: 1e9, epochRows: 1e12 });
  return {
    jobId: 'job', attempt: 1, spec: plan.spec, network: plan.network,
    dataset: { rows: 180, features: 2, x: spiral.x.slice(), y: (spiral.y as Int32Array).slice() },
    resume: null, warmStart: null, engineThreads: 1, health: DEFAULTS.health, decisionGrid: DEFAULTS.decisionGrid, control: createControlBlock(), ...overrides,
  };
}

async function run(input: TrainerInput) {
  const messages: TrainerMessage[] = [];
  await runTrainer(input, (m) => {
    messages.push(m);
    if (m.type === 'metrics' || m.type === 'checkpoint') Atomics.add(input.control, 1, 1);
    if (m.type === 'checkpoint') Atomics.add(input.control, 2, 1);
  });
  const started = messages.find((m): m is Extract<TrainerMessage, { type: 'started' }> => m.type === 'started')!;
  const final = messages.at(-1)!;
  assert.equal(final.type, 'finished', JSON.stringify(final).slice(0, 300));
  return {
    started,
    final: final as Extract<TrainerMessage, { type: 'finished' }>,
    records: messages.flatMap((m) => (m.type === 'metrics' ? [{ ...m.record, samplesPerSec: 0 }] : [])),
    checkpoints: messages.filter((m): m is Extract<TrainerMessage, { type: 'checkpoint' }> => m.type === 'checkpoint'),
  };
}

/** Both WebAssembly builds must be available: Node ≥ 20.19 (package.json engines) accepts relaxed SIMD behind a flag the loader sets. */
function assertBothBuilds(): void {
  assert.ok(relaxedSimdAvailable(), 'this runtime refuses the relaxed-SIMD build');
}

describe('kernel flavour of checkpoints', () => {
  it('ENGINE_KERNEL: auto (default), native, relaxed-simd or simd', () => {
    assert.equal(loadConfig({}).worker.engineKernel, 'auto');
    assert.equal(loadConfig({ ENGINE_KERNEL: 'simd' }).worker.engineKernel, 'simd');
    assert.equal(loadConfig({ ENGINE_KERNEL: 'relaxed-simd' }).worker.engineKernel, 'relaxed-simd');
    assert.equal(loadConfig({ ENGINE_KERNEL: 'native' }).worker.engineKernel, 'native');
    assert.throws(() => loadConfig({ ENGINE_KERNEL: 'avx' }), (e: unknown) => e instanceof ConfigError && /ENGINE_KERNEL must be one of/.test(e.message));
  });

  it('a checkpoint records its flavour; one without the record (older) still resumes exactly, unchecked', async () => {
    const full = await run(inputFor({ engineKernel: 'simd' }));
    assert.deepEqual([full.started.flavour, full.started.checkpointKernel], ['simd', null]);
    assert.ok(full.checkpoints.length >= 3);
    for (const c of full.checkpoints) assert.equal(decodeCheckpoint(c.state).kernel, 'simd');

    const middle = full.checkpoints[Math.floor(full.checkpoints.length / 2)]!;
    const old = encodeCheckpoint({ ...decodeCheckpoint(middle.state), kernel: null });
    assert.equal('kernel' in (decodeEnvelope(old, 'TYCK', 2, 'checkpoint').header as object), false, 'written as before the record existed');
    assert.equal(decodeCheckpoint(old).kernel, null);
    const resumed = await run(inputFor({ engineKernel: 'simd', resume: { latest: old, best: null } }));
    assert.deepEqual([resumed.started.resumed, resumed.started.checkpointKernel], [true, null]);
    assert.deepEqual(resumed.records, full.records.filter((r) => r.step > middle.step));
    assert.deepEqual(resumed.final.weights, full.final.weights);
    assert.equal(kernelChange(null, 'relaxed-simd'), null);
    assert.equal(kernelChange('simd', 'simd'), null);
    // native and relaxed SIMD make the same fused multiply-adds in the same order: one family, no warning
    assert.equal(kernelChange('relaxed-simd', 'native'), null);
    assert.equal(kernelChange('native', 'relaxed-simd'), null);
    assert.match(kernelChange('native', 'simd')!, /no longer bit-identical/);
  });

  it('resuming under another flavour: the trainer reports both, and the main thread has a warning to log', async () => {
    assertBothBuilds();
    const first = await run(inputFor({ engineKernel: 'simd' }));
    const middle = first.checkpoints[1]!;
    const resumed = await run(inputFor({ engineKernel: 'relaxed-simd', resume: { latest: middle.state, best: null } }));
    assert.deepEqual([resumed.started.flavour, resumed.started.checkpointKernel], ['relaxed-simd', 'simd']);
    for (const c of resumed.checkpoints) assert.equal(decodeCheckpoint(c.state).kernel, 'relaxed-simd');
    assert.match(kernelChange('simd', 'relaxed-simd')!, /made with the 'simd' kernel build under 'relaxed-simd'.*no longer bit-identical/);
  });

  describe('in worker processes', () => {
    let own: Installation;
    let t: TestApp;
    let tenant: TestTenant;
    const workers: Running[] = [];

    before(async () => {
      own = await ownInstallation('kernel');
      t = await buildTestApp({ ...own.env });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      tenant = await createTenant(t.services, 'kernel');
    });
    after(async () => {
      await Promise.all(workers.map((w) => w.stop('SIGKILL')));
      await t.services.trainingQueue.obliterate({ force: true });
      await t.close();
      await own.drop();
    });

    it('a job handed back by a simd worker and resumed by a relaxed-simd one: the second worker logs a warning', async (ctx) => {
      assertBothBuilds();
      const db = t.services.db;
      const datasetId = await createSpiral(t.services, tenant.id, 500);
      const first = await startWorker(own, { ENGINE_KERNEL: 'simd' });
      workers.push(first);
      // Long enough that it is still running when the worker stops; cancelled once the point is made.
      const job = await submitJob(t.app, tenant, {
        datasetId, network: { layers: [{ units: 64 }] }, training: { epochs: 5000, batchSize: 32, seed: 5 }, checkpoints: { everySteps: 20 },
      });
      await waitUntil('a checkpoint', async () => (await db.checkpoint.count({ where: { jobId: job.id } })) > 0 || undefined, 300_000, 50);
      await first.stop('SIGTERM'); // hands the job back with a checkpoint
      assert.match(first.output(), new RegExp(`"jobId":"${job.id}"[^\\n]*"kernel":"simd"[^\\n]*training started`));
      const handed = await waitForJob(db, job.id, ['queued'], 60_000);
      const checkpoint = await db.checkpoint.findFirstOrThrow({ where: { jobId: job.id }, orderBy: { step: 'desc' } });
      assert.equal(decodeCheckpoint(checkpoint.state).kernel, 'simd');

      const second = await startWorker(own, { ENGINE_KERNEL: 'relaxed-simd' });
      workers.push(second);
      const warning = await second.waitFor(new RegExp(`[^\\n]*"jobId":"${job.id}"[^\\n]*made with the 'simd' kernel build under 'relaxed-simd'[^\\n]*`), 300_000);
      assert.match(warning[0], /"level":40/, 'a pino warning');
      assert.match(warning[0], /"checkpointKernel":"simd"/);
      assert.match(warning[0], /"kernel":"relaxed-simd"/);
      ctx.diagnostic(`handed back at step ${handed.step}; resumed from the checkpoint at step ${checkpoint.step}`);
      await t.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel`, headers: tenant.auth });
      const done = await waitForJob(db, job.id, ['cancelled', 'succeeded', 'failed'], 120_000);
      assert.equal(done.status, 'cancelled');
      assert.ok(done.attempt >= 2, 'the second worker ran it');
    });
  });
});
