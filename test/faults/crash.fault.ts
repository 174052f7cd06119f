/**
 * Crashes and stops of worker processes. SIGKILL three times in one job: each time BullMQ's stalled-job recovery hands
 * the job to another worker, which resumes from the newest checkpoint; the final weights are bit-identical to a run
 * that was never interrupted. SIGTERM: the worker checkpoints and hands the job back (queued, not failed), and
 * another worker finishes it, again bit-identical.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, submitJob, waitForJob, type Installation } from '../training/helpers.js';
import { claimedAfter, faultWorker, holder, jobBody, runningAt, seconds, stopWorkers } from './helpers.js';

/** 1,500 steps, 12-20 s of training on one engine thread here: the kills land mid-training with seconds to spare. */
const EPOCHS = 10;

describe('worker crashes and stops', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  let reference: { weights: Buffer; totalSteps: number; ms: number };
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('faults_crash');
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'crash');
    datasetId = await createSpiral(t.services, tenant.id, 2000);
    // The uninterrupted reference run.
    const worker = await faultWorker(own, workers);
    const started = Date.now();
    const job = await submitJob(t.app, tenant, jobBody(datasetId, EPOCHS));
    const done = await waitForJob(t.services.db, job.id, undefined, 300_000);
    assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
    const model = await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    reference = { weights: Buffer.from(model.weights), totalSteps: done.totalSteps, ms: Date.now() - started };
    await worker.stop('SIGTERM');
  });

  after(async () => {
    await stopWorkers(workers, 'crash');
    await t.services.trainingQueue.obliterate({ force: true }).catch(() => undefined);
    await t.close();
    await own.drop();
  });

  it('SIGKILL three times in one job: it resumes each time and ends bit-identical to an uninterrupted run', async (ctx) => {
    const db = t.services.db;
    await faultWorker(own, workers);
    await faultWorker(own, workers);
    const job = await submitJob(t.app, tenant, jobBody(datasetId, EPOCHS));
    const total = reference.totalSteps;
    const figures: string[] = [];
    for (const fraction of [0.2, 0.45, 0.7]) {
      // Kill whichever worker holds the lease once the job has passed the step.
      const at = await runningAt(db, job.id, Math.floor(total * fraction));
      const victim = holder(workers, at);
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      // The newest checkpoint when the job is claimed again is the one the next attempt resumes from.
      const resuming = claimedAfter(db, job.id, at.attempt).then(async (claimed) => ({
        ...claimed, from: (await db.checkpoint.findFirst({ where: { jobId: job.id }, orderBy: { step: 'desc' }, select: { step: true } }))?.step ?? 0,
      }));
      const [resumed] = await Promise.all([resuming, faultWorker(own, workers)]);
      figures.push(`SIGKILL at step ${at.step} of ${total} (attempt ${at.attempt}); claimed again after ${seconds(resumed.at - killedAt)}, resuming from step ${resumed.from}`);
    }
    const done = await waitForJob(db, job.id, undefined, 300_000);
    assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
    assert.equal(done.attempt, 4, 'claimed four times: the start and three recoveries');
    const model = await db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    assert.ok(Buffer.from(model.weights).equals(reference.weights), 'final weights are bit-identical to the uninterrupted run');
    assert.equal(await db.metric.count({ where: { jobId: job.id } }), total, 'one metric row per step, none missing or doubled');
    ctx.diagnostic(`uninterrupted run: ${total} steps in ${seconds(reference.ms)}`);
    for (const f of figures) ctx.diagnostic(f);
  });

  it('SIGTERM hands the job back (queued, not failed); another worker finishes it bit-identically', async (ctx) => {
    const db = t.services.db;
    const job = await submitJob(t.app, tenant, jobBody(datasetId, EPOCHS));
    const at = await runningAt(db, job.id, Math.floor(reference.totalSteps * 0.3));
    const victim = holder(workers, at);
    const signalled = Date.now();
    victim.child.kill('SIGTERM');
    const exit = await victim.exited;
    const stoppedMs = Date.now() - signalled;
    assert.equal(exit.code, 0, `the worker exits cleanly:\n${victim.output().slice(-2000)}`);
    assert.match(victim.output(), /"result":"handed-back"/);
    const resumed = await claimedAfter(db, job.id, at.attempt);
    const done = await waitForJob(db, job.id, undefined, 300_000);
    assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
    assert.equal(done.failureCode, null);
    assert.equal(done.attempt, at.attempt + 1, 'one hand-back, one more claim');
    const bull = await t.services.trainingQueue.getJob(job.id);
    assert.deepEqual([bull?.finishedOn !== undefined, bull?.failedReason, bull?.stacktrace ?? []], [true, undefined, []],
      'no BullMQ attempt failed: the hand-back is not a failure');
    const model = await db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    assert.ok(Buffer.from(model.weights).equals(reference.weights), 'final weights are bit-identical to the uninterrupted run');
    ctx.diagnostic(`SIGTERM at step ${at.step}: the worker handed back and exited in ${seconds(stoppedMs)}; claimed again ${seconds(resumed.at - signalled)} after the signal`);
  });
});
