/**
 * The lease and its fencing, against real Postgres: claiming increments the attempt; once another claim took the job,
 * every write of the previous holder (metrics, checkpoint, heartbeat, success with its model, failure, cancel, hand
 * back) is refused and leaves nothing behind; a claim respects cancels and finished jobs; checkpoint pruning keeps the
 * newest K and the best; a finishing write retried by its holder (the reply to its commit was lost) is a no-op. And no
 * lock outlives its owner: a holder that stops talking inside a transaction loses its session (and the Job row's lock)
 * after PG_IDLE_IN_TX_TIMEOUT_MS, while the next worker's claim waits at most PG_LOCK_TIMEOUT_MS per try.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDb } from '../../src/db/client.js';
import { createJob } from '../../src/db/repositories/jobs.js';
import { isTransient } from '../../src/infra/errors.js';
import { waitOut } from '../../src/infra/retry.js';
import { planJob } from '../../src/jobs/plan.js';
import type { JobWarning, MetricRecord } from '../../src/queue/job-events.js';
import { createServices, type Services } from '../../src/services.js';
import {
  claimJob, finishCancelled, finishFailed, finishSucceeded, handBackJob, heartbeat, LeaseLostError, writeCheckpoint, writeMetrics,
  type Lease, type ModelWrite,
} from '../../src/training/lease.js';
import { createTenant, testConfig, type TestTenant } from '../helpers/app.js';
import { createSpiral, ownInstallation, type Installation } from './helpers.js';

const record = (step: number): MetricRecord => ({
  step, epoch: 0, trainLoss: 1 / step, dataLoss: 1 / step, regLoss: 0, trainAccuracy: null, valLoss: null, valAccuracy: null,
  valRmse: null, valR2: null, learningRate: 0.01, samplesPerSec: 100, layers: [],
});

const MODEL: ModelWrite = {
  name: 'm', datasetId: null, task: 'classification', spec: {}, parameterCount: 1, featureNames: ['a'], classNames: ['x', 'y'],
  preprocessing: {}, weights: new Uint8Array(4), metrics: {}, inputRange: [],
};

describe('lease and fencing', () => {
  let own: Installation;
  let services: Services;
  let tenant: TestTenant;
  let datasetId: string;

  before(async () => {
    own = await ownInstallation('lease');
    services = createServices(testConfig(own.env));
    tenant = await createTenant(services, 'lease');
    datasetId = await createSpiral(services, tenant.id, 20);
  });
  after(async () => {
    await services.trainingQueue.obliterate({ force: true });
    await services.close();
    await own.drop();
  });

  async function newJob(): Promise<string> {
    const plan = planJob({ datasetId }, { id: datasetId, name: 'spiral', task: 'classification', rows: 60, features: 2, classes: 3 }, { parameters: 1e9, epochRows: 1e12 });
    return (await createJob(services.db, tenant.id, plan)).id;
  }

  async function claim(jobId: string, worker: string): Promise<Lease> {
    const result = await claimJob(services.db, jobId, worker, 60_000);
    assert.equal(result.kind, 'claimed');
    return (result as Extract<typeof result, { kind: 'claimed' }>).lease;
  }

  it('refuses every write of a worker whose lease was taken over, and writes nothing', async () => {
    const db = services.db;
    const jobId = await newJob();
    const first = await claim(jobId, 'worker-a');
    assert.equal(first.attempt, 1);
    await writeMetrics(db, first, [record(1), record(2)], { step: 2, epoch: 0 });
    const cp = await writeCheckpoint(db, first, { step: 2, epoch: 0, state: new Uint8Array([1, 2, 3]), metric: null, isBest: false, best: null }, 3);
    assert.ok(cp);
    assert.deepEqual(await heartbeat(db, first), { cancelRequested: false });

    const second = await claim(jobId, 'worker-b');
    assert.equal(second.attempt, 2);
    const stale: [string, () => Promise<unknown>][] = [
      ['metrics', () => writeMetrics(db, first, [record(3)], { step: 3, epoch: 0 })],
      ['checkpoint', () => writeCheckpoint(db, first, { step: 3, epoch: 0, state: new Uint8Array([9]), metric: 1, isBest: true, best: { metric: 1, metrics: {} } }, 3)],
      ['heartbeat', () => heartbeat(db, first)],
      ['success', () => finishSucceeded(db, first, MODEL, { finalMetrics: {}, finalStep: 3, epoch: 1 })],
      ['failure', () => finishFailed(db, first, 'X', 'x')],
      ['cancel', () => finishCancelled(db, first, 'x')],
      ['hand back', () => handBackJob(db, first)],
    ];
    for (const [what, write] of stale) await assert.rejects(write(), LeaseLostError, what);

    assert.deepEqual((await db.metric.findMany({ where: { jobId }, select: { step: true } })).map((m) => m.step), [1, 2]);
    assert.deepEqual((await db.checkpoint.findMany({ where: { jobId }, select: { step: true, isBest: true } })), [{ step: 2, isBest: false }]);
    assert.equal(await db.model.count({ where: { jobId } }), 0);
    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.deepEqual([row.status, row.attempt, row.leaseOwner, row.bestMetric], ['running', 2, 'worker-b', null]);

    // The new holder writes; success creates exactly one model, and nobody can write after it.
    await writeMetrics(db, second, [record(3)], { step: 3, epoch: 0 });
    const modelId = await finishSucceeded(db, second, MODEL, { finalMetrics: { trainLoss: 0.1 }, finalStep: 3, epoch: 1 });
    assert.equal(await db.model.count({ where: { jobId } }), 1);
    assert.equal((await db.model.findUniqueOrThrow({ where: { jobId } })).id, modelId);
    await assert.rejects(finishSucceeded(db, first, MODEL, { finalMetrics: {}, finalStep: 3, epoch: 1 }), LeaseLostError);
    await assert.rejects(writeMetrics(db, second, [record(4)], { step: 4, epoch: 0 }), LeaseLostError);
    // The holder's own retry (its commit's reply was lost) finds its outcome stored: the same model, nothing rewritten.
    const before = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(await finishSucceeded(db, second, MODEL, { finalMetrics: {}, finalStep: 3, epoch: 1 }), modelId);
    assert.deepEqual(await db.job.findUniqueOrThrow({ where: { id: jobId } }), before);
    assert.equal((await claimJob(db, jobId, 'worker-c', 1000)).kind, 'finished', 'a succeeded job cannot be claimed again');
    assert.equal(await db.model.count({ where: { jobId } }), 1);
  });

  it('metrics are idempotent: writing a step again overwrites it, never duplicates it', async () => {
    const db = services.db;
    const jobId = await newJob();
    const lease = await claim(jobId, 'w');
    await writeMetrics(db, lease, [record(1), record(2)], { step: 2, epoch: 0 });
    await writeMetrics(db, lease, [{ ...record(2), trainLoss: 7 }, record(3)], { step: 3, epoch: 0 });
    const rows = await db.metric.findMany({ where: { jobId }, orderBy: { step: 'asc' } });
    assert.deepEqual(rows.map((r) => [r.step, r.trainLoss]), [[1, 1], [2, 7], [3, 1 / 3]]);
    assert.equal((await db.job.findUniqueOrThrow({ where: { id: jobId } })).step, 3);
  });

  it('stores every number of a record exactly: doubles bit for bit, nulls, non-finite values, per-layer statistics', async () => {
    const db = services.db;
    const jobId = await newJob();
    const lease = await claim(jobId, 'w');
    const layer = {
      name: 'dense0', kind: 'dense' as const, activation: 'relu' as const, gradNorm: 0.1 + 0.2, weightNorm: 1e-300, updateRatio: null,
      activationMean: 5e-324, activationStd: 1 / 3, deadFraction: 0.25, saturatedFraction: null,
    };
    const tricky: MetricRecord = {
      step: 1, epoch: 1, trainLoss: 0.1 + 0.2, dataLoss: 1.7976931348623157e308, regLoss: 5e-324, trainAccuracy: 2 / 3, valLoss: Infinity,
      valAccuracy: null, valRmse: -Infinity, valR2: Number.NaN, learningRate: 1e-7, samplesPerSec: 123456789.123456789, layers: [layer],
    };
    await writeMetrics(db, lease, [tricky, { ...record(2), epoch: 1 }], { step: 2, epoch: 1 });
    const row = await db.metric.findFirstOrThrow({ where: { jobId, step: 1 } });
    for (const key of ['epoch', 'trainLoss', 'dataLoss', 'regLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'valRmse', 'valR2', 'learningRate', 'samplesPerSec'] as const) {
      assert.ok(Object.is(row[key], tricky[key]), `${key}: stored ${row[key]}, written ${tricky[key]}`);
    }
    assert.deepEqual(row.layers, [layer]);
    assert.equal(await db.metric.count({ where: { jobId } }), 2);
  });

  it('stores each warning once per code and layer with its records, returns only the new ones, and a stale lease stores none', async () => {
    const db = services.db;
    const jobId = await newJob();
    const warning = (code: JobWarning['code'], layer: string | null, step: number): JobWarning => ({ code, layer, step, message: `${code} at ${step}`, advice: 'do this' });
    const first = await claim(jobId, 'w1');
    assert.deepEqual(await writeMetrics(db, first, [record(1)], { step: 1, epoch: 0 }, [warning('DEAD_RELU', 'dense1', 1)]), [warning('DEAD_RELU', 'dense1', 1)]);

    // The next attempt resumed from an older checkpoint: it raises DEAD_RELU/dense1 again, then new ones.
    const second = await claim(jobId, 'w2');
    const written = await writeCheckpoint(db, second, { step: 2, epoch: 0, state: new Uint8Array([2]), metric: null, isBest: false, best: null }, 3,
      [record(1), record(2)], [warning('DEAD_RELU', 'dense1', 1), warning('DEAD_RELU', 'dense2', 2), warning('LOSS_FLAT', null, 2)]);
    assert.deepEqual(written.warnings, [warning('DEAD_RELU', 'dense2', 2), warning('LOSS_FLAT', null, 2)]);
    await assert.rejects(writeMetrics(db, first, [record(3)], { step: 3, epoch: 0 }, [warning('OVERFITTING', null, 3)]), LeaseLostError);

    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.deepEqual(row.warnings, [warning('DEAD_RELU', 'dense1', 1), warning('DEAD_RELU', 'dense2', 2), warning('LOSS_FLAT', null, 2)]);
  });

  it('keeps the newest K checkpoints and the best one', async () => {
    const db = services.db;
    const jobId = await newJob();
    const lease = await claim(jobId, 'w');
    const write = (step: number, isBest: boolean) =>
      writeCheckpoint(db, lease, { step, epoch: step, state: new Uint8Array([step]), metric: isBest ? step : null, isBest, best: isBest ? { metric: step, metrics: { step } } : null }, 2);
    await write(10, true);
    await write(20, false);
    await write(30, false);
    await write(40, true);
    await write(50, false);
    await write(60, false);
    const kept = await db.checkpoint.findMany({ where: { jobId }, orderBy: { step: 'asc' }, select: { step: true, isBest: true } });
    assert.deepEqual(kept, [{ step: 40, isBest: true }, { step: 50, isBest: false }, { step: 60, isBest: false }]);
    const row = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(row.bestMetric, 40);
    assert.deepEqual(row.bestMetrics, { step: 40 });
  });

  it('a claim finds a requested cancel (the job becomes cancelled) and hand back returns the job to the queue', async () => {
    const db = services.db;
    const cancelled = await newJob();
    await db.job.update({ where: { id: cancelled }, data: { cancelRequested: true } });
    const result = await claimJob(db, cancelled, 'w', 1000);
    assert.equal(result.kind, 'cancelled');
    assert.equal((await db.job.findUniqueOrThrow({ where: { id: cancelled } })).status, 'cancelled');

    const handed = await newJob();
    const lease = await claim(handed, 'w1');
    await handBackJob(db, lease);
    await handBackJob(db, lease); // its retry
    const row = await db.job.findUniqueOrThrow({ where: { id: handed } });
    assert.deepEqual([row.status, row.leaseOwner], ['queued', null]);
    assert.equal((await claim(handed, 'w2')).attempt, 2);
  });

  it('a finishing write retried by its holder is a no-op; by anyone else it is refused', async () => {
    const db = services.db;
    for (const [status, finish] of [
      ['failed', (lease: Lease) => finishFailed(db, lease, 'DIVERGED', 'x')],
      ['cancelled', (lease: Lease) => finishCancelled(db, lease, 'x')],
    ] as const) {
      const jobId = await newJob();
      const lease = await claim(jobId, 'w');
      await finish(lease);
      const before = await db.job.findUniqueOrThrow({ where: { id: jobId } });
      await finish(lease);
      assert.deepEqual(await db.job.findUniqueOrThrow({ where: { id: jobId } }), before, status);
      assert.equal(before.status, status);
      await assert.rejects(finish({ ...lease, attempt: lease.attempt - 1 }), LeaseLostError);
    }
  });

  it('no lock outlives its owner: a holder silent inside a transaction loses its session; the next claim waits briefly and retries', async () => {
    const settings = { ...own.env, PG_LOCK_TIMEOUT_MS: '300', PG_IDLE_IN_TX_TIMEOUT_MS: '3000' };
    const frozen = createDb(testConfig(settings), { poolSize: 1 });
    const next = createDb(testConfig(settings), { poolSize: 1 });
    try {
      const [shown] = await next.$queryRaw<{ lock: string; idle: string; statement: string }[]>`
        SELECT current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle,
          current_setting('statement_timeout') AS statement`;
      assert.deepEqual(shown, { lock: '300ms', idle: '3s', statement: '1min' });

      const jobId = await newJob();
      const lease = await claim(jobId, 'frozen');
      // The holder locks the Job row (as every fenced write does first), then says nothing more: frozen.
      let thaw!: () => void;
      const frozenUntil = new Promise<void>((resolve) => (thaw = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = frozen.$transaction(async (tx) => {
        await tx.job.update({ where: { id: jobId }, data: { leaseExpiresAt: new Date() } });
        locked();
        await frozenUntil;
        await tx.job.count();
      }, { timeout: 60_000 }).then(() => null, (error: unknown) => error);
      await isLocked;

      const started = Date.now();
      const refused = await claimJob(next, jobId, 'next', 60_000).then(() => null, (error: unknown) => error);
      const refusedMs = Date.now() - started;
      assert.ok(isTransient(refused), `a lock wait ends with a transient error, not a hang: ${String(refused)}`);
      assert.ok(refusedMs >= 250, `the lock wait took ${refusedMs} ms`);
      const claimed = await waitOut(() => claimJob(next, jobId, 'next', 60_000), { what: 'claim', budgetMs: 20_000, backoff: { initialMs: 50, maxMs: 200 } });
      const claimedMs = Date.now() - started;
      assert.equal(claimed.kind, 'claimed');
      assert.ok(claimedMs < 15_000, `claimed after ${claimedMs} ms (the idle session ends after 3 s)`);

      thaw();
      assert.ok(isTransient(await holding), 'the thawed holder finds its session ended');
      await assert.rejects(writeMetrics(frozen, lease, [record(1)], { step: 1, epoch: 0 }), LeaseLostError);
      assert.equal(await services.db.metric.count({ where: { jobId } }), 0);
    } finally {
      await frozen.$disconnect();
      await next.$disconnect();
    }
  });
});
