/**
 * Exact resume: a worker process is SIGKILLed at a random step (twice, in two different workers); BullMQ's stalled-job
 * recovery hands the job to another worker, which continues from the newest checkpoint. The final weights and the
 * whole metric curve are bit-identical to a run that was never interrupted, with no duplicate or missing rows, and so
 * are the stored training-health warnings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeCheckpoint } from '../../src/training/checkpoint-state.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { recordJobEvents, type JobEventLog } from '../helpers/job-events.js';
import { createSpiral, metricCurve, startWorker, submitJob, waitForJob, waitUntil, ownInstallation, type Installation } from './helpers.js';

/**
 * Large enough to run for a few seconds (so a kill lands mid-training), with dropout and input noise (they draw from
 * the RNG), a checkpoint every 100 steps (epochs are 150 steps: the best weights of an epoch end are carried by the
 * next checkpoint, not written at the epoch end) and a record every step — so metric rows are written in batches of 100
 * between checkpoints, and a kill can leave rows past the newest checkpoint for the next attempt to redo.
 */
const BODY = {
  network: { layers: [{ units: 192, activation: 'relu' }, { units: 192, activation: 'relu', dropout: 0.1 }], inputNoise: 0.01 },
  regularization: { l2: 0.001 },
  optimizer: { type: 'adam', learningRate: 0.003 },
  training: { epochs: 5, batchSize: 32, validationFraction: 0.2, seed: 1234 },
  checkpoints: { everySteps: 100, everySeconds: 3600, keep: 2 },
  metrics: { everySteps: 1 },
};

/** Health thresholds under which this job raises warnings (at steps 3 and 450): they must survive the crashes too. */
const SENSITIVE = {
  WARN_UPDATE_RATIO_HIGH: '0.005', WARN_DEAD_RELU_FRACTION: '0.05', WARN_LOSS_FLAT_EPOCHS: '1', WARN_LOSS_FLAT_MIN_DECREASE: '0.2', WARN_LOSS_FLAT_ABOVE: '0',
};

describe('exact resume after SIGKILL', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  let events: JobEventLog;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('resume');
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'resume');
    datasetId = await createSpiral(t.services, tenant.id, 2000);
    events = await recordJobEvents(t.config.redisUrl, t.config.queuePrefix);
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    events?.close();
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('kills the worker at random steps; the job resumes and ends bit-identical to an uninterrupted run', async (ctx) => {
    // The uninterrupted reference, on a worker with two engine threads (results must not depend on the thread count).
    const reference = await startWorker(own, { ENGINE_THREADS: '2', ...SENSITIVE });
    workers.push(reference);
    const refJob = await submitJob(t.app, tenant, { datasetId, ...BODY });
    const refDone = await waitForJob(t.services.db, refJob.id);
    assert.equal(refDone.status, 'succeeded', refDone.failureReason ?? '');
    assert.equal(refDone.attempt, 1);
    await reference.stop('SIGTERM');
    const total = refDone.totalSteps;
    const perEpoch = total / BODY.training.epochs;

    // Three workers before the job starts: one trains, each kill leaves a live one to take over (none has to start
    // meanwhile), and the last finishes the job.
    workers.push(...(await Promise.all([0, 1, 2].map(() => startWorker(own, SENSITIVE)))));
    const job = await submitJob(t.app, tenant, { datasetId, ...BODY });
    const db = t.services.db;
    // Kill targets 5–55 steps after a checkpoint (steps 200 or 300, then 500: in epoch 2 or 3, then in epoch 4, with
    // more than an epoch left to train): metric rows are written in batches of at most 64 records that end at
    // checkpoints, so the batch holding the target ends short of the next checkpoint, and every kill leaves metric
    // rows past the newest checkpoint for the next attempt to redo.
    const every = BODY.checkpoints.everySteps;
    assert.ok(perEpoch === 150 && total === 750, `the targets below assume 150 steps an epoch, 750 in all (${perEpoch}, ${total})`);
    const targets = [(2 + Math.floor(Math.random() * 2)) * every, 5 * every].map((checkpoint) => checkpoint + 5 + Math.floor(Math.random() * 51));
    const kills: { step: number; resumeMs: number; checkpoint: number; written: number }[] = [];
    let attempt = 1;
    for (const target of targets) {
      // The lease holder of this attempt: the worker to kill once the attempt has published step `target`.
      await events.next((e) => e.jobId === job.id && e.type === 'status' && e.status === 'running' && e.attempt === attempt, `attempt ${attempt} running`);
      const holder = await waitUntil(`the lease of attempt ${attempt}`, async () => {
        const row = await db.job.findUniqueOrThrow({ where: { id: job.id }, select: { attempt: true, leaseOwner: true } });
        return row.attempt === attempt && row.leaseOwner ? row.leaseOwner : undefined;
      });
      const victim = workers.find((w) => w.child.pid === Number(holder.split(':')[1]));
      assert.ok(victim, `the lease holder ${holder} is one of our workers`);
      // Waits on the event, which cannot be missed (recorded since before the job started), and kills right in its
      // microtask: no sampling of the job's row, which a busy machine could let run past the target or to the end.
      const reached = await events.next(
        (e) => e.jobId === job.id && e.type === 'metrics' && e.attempt === attempt && e.step >= target, `attempt ${attempt} at step ${target}`, 180_000);
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      const [row, newest, written] = await Promise.all([
        db.job.findUniqueOrThrow({ where: { id: job.id } }),
        db.checkpoint.findFirst({ where: { jobId: job.id }, orderBy: { step: 'desc' }, select: { step: true } }),
        db.metric.aggregate({ where: { jobId: job.id }, _max: { step: true } }),
      ]);
      assert.equal(row.status, 'running', `the job was still running when its worker was killed near step ${reached.step}`);
      // BullMQ's stalled-job recovery hands the job to one of the live workers: the next attempt starts.
      const resumed = await events.next((e) => e.jobId === job.id && e.type === 'status' && e.status === 'running' && e.attempt === attempt + 1, `attempt ${attempt + 1} running`);
      kills.push({ step: reached.step, resumeMs: Date.now() - killedAt, checkpoint: newest?.step ?? 0, written: written._max.step ?? 0 });
      assert.equal(resumed.attempt, attempt + 1);
      attempt++;
    }
    assert.ok(kills.some((k) => k.written > k.checkpoint), 'a crash left metric rows past the newest checkpoint');
    const done = await waitForJob(db, job.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
    assert.equal(done.attempt, 3, 'claimed three times: the start and two recoveries');
    for (const k of kills) {
      ctx.diagnostic(`killed near step ${k.step} of ${total} (newest checkpoint ${k.checkpoint}, metrics written to ${k.written}); resumed after ${k.resumeMs} ms`);
    }

    const [refModel, model] = await Promise.all([refJob.id, job.id].map((id) => db.model.findUniqueOrThrow({ where: { jobId: id } })));
    assert.ok(Buffer.from(refModel!.weights).equals(Buffer.from(model!.weights)), 'final weights are bit-identical');
    assert.equal(await db.model.count({ where: { jobId: job.id } }), 1);
    // The model is the best weights kept in memory and carried by the checkpoint marked best (quiet checkpoints).
    const bestCheckpoint = await db.checkpoint.findFirstOrThrow({ where: { jobId: job.id, isBest: true } });
    const carried = decodeCheckpoint(bestCheckpoint.state).best;
    assert.ok(carried, 'the best checkpoint carries the best weights');
    assert.equal(carried.step, (done.bestMetrics as { step: number }).step);
    assert.equal(bestCheckpoint.bestStep, carried.step);
    assert.ok(Buffer.from(model!.weights).equals(Buffer.from(carried.weights.buffer, carried.weights.byteOffset, carried.weights.byteLength)), 'the model is the best weights');

    const [refCurve, curve] = await Promise.all([metricCurve(db, refJob.id), metricCurve(db, job.id)]);
    const strip = (rows: typeof curve) => rows.map(({ jobId: _j, ...rest }) => rest);
    assert.equal(curve.length, refCurve.length, 'no missing or extra metric rows');
    assert.deepEqual(strip(curve), strip(refCurve), 'the metric curve (losses, accuracies, per-layer statistics) is bit-identical');
    const steps = curve.map((r) => r.step);
    assert.equal(new Set(steps).size, steps.length);
    assert.equal(steps[steps.length - 1], total);
    assert.deepEqual(refDone.finalMetrics, done.finalMetrics);
    assert.equal(refDone.bestMetric, done.bestMetric);
    assert.ok((refDone.warnings as unknown[]).length >= 3, `warnings of the reference: ${JSON.stringify(refDone.warnings)}`);
    assert.deepEqual(done.warnings, refDone.warnings, 'the same health warnings, at the same steps, each stored once');
  });
});
