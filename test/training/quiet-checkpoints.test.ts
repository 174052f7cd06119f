/**
 * Quieter checkpoints (issue 12 item 5): an epoch end checkpoints only when the step or time rule is due; the best
 * weights are kept in memory and written with the next checkpoint and at the end. A 200-epoch spiral job writes far
 * fewer than 200 checkpoints, its stream is mostly metrics (not checkpoint events), storage stays at `keep` + 1 best,
 * the model is the best epoch's weights, and a cancelled job's best weights are stored in a checkpoint. Epochs are
 * numbered 1-based ("completed epochs") everywhere: records, events, checkpoints, best and final metrics, the job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { recordJobEvents, type JobEventLog } from '../helpers/job-events.js';
import type { Running } from '../helpers/processes.js';
import { decodeCheckpoint } from '../../src/training/checkpoint-state.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, type Installation } from './helpers.js';

describe('quiet checkpoints', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  let events: JobEventLog;
  let worker: Running;

  before(async () => {
    own = await ownInstallation('quietcp');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'quietcp');
    datasetId = await createSpiral(t.services, tenant.id, 100);
    events = await recordJobEvents(t.config.redisUrl, t.config.queuePrefix);
    worker = await startWorker(own);
  });

  after(async () => {
    await worker?.stop('SIGKILL');
    events?.close();
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('a 200-epoch spiral job writes few checkpoints, keeps keep + 1 best, and its model is the best epoch', async (ctx) => {
    const job = await submitJob(t.app, tenant, {
      datasetId, network: { layers: [{ units: 100 }] }, optimizer: { learningRate: 0.01 },
      training: { epochs: 200, seed: 7 }, checkpoints: { everySteps: 500, everySeconds: 3600, keep: 2 },
    });
    const done = await waitForJob(t.services.db, job.id, undefined, 240_000);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
    await events.next((e) => e.jobId === job.id && e.type === 'status' && e.status === 'succeeded', 'the final status event');
    const log = events.of(job.id);
    const count = (type: string) => log.filter((e) => e.type === type).length;
    const checkpoints = count('checkpoint'), metrics = count('metrics');
    ctx.diagnostic(`200 epochs, ${done.step} steps: ${checkpoints} checkpoint events, ${metrics} metrics events, ${log.length} events in all`);
    assert.ok(checkpoints <= 5, `${checkpoints} checkpoints for 1800 steps with everySteps 500: the step rule (3) and the end`);
    assert.ok(checkpoints * 10 < log.length, 'the stream is not mostly checkpoint events');

    const stored = await t.services.db.checkpoint.findMany({ where: { jobId: job.id }, orderBy: { step: 'asc' } });
    assert.ok(stored.length <= 2 + 1, `kept ${stored.length}: keep (2) + 1 best`);
    const best = stored.filter((c) => c.isBest);
    assert.equal(best.length, 1, 'exactly one checkpoint holds the best weights');
    const bestState = decodeCheckpoint(best[0]!.state);
    assert.ok(bestState.best, 'the best checkpoint carries the best weights');

    // One epoch numbering: 1-based, the epoch a step belongs to (= epochs completed at an epoch end).
    assert.equal(done.epoch, 200);
    const bestMetrics = done.bestMetrics as { epoch: number; step: number };
    const finalMetrics = done.finalMetrics as { epoch: number; step: number };
    assert.equal(finalMetrics.epoch, 200);
    assert.equal(finalMetrics.step, done.step);
    assert.equal(bestMetrics.step % 9, 0, 'the best is at an epoch end (9 steps an epoch)');
    assert.equal(bestMetrics.epoch, bestMetrics.step / 9, 'bestMetrics.epoch counts completed epochs');
    assert.equal(bestState.best!.step, bestMetrics.step);
    const last = stored.at(-1)!;
    assert.equal(last.step, done.step);
    assert.equal(last.epoch, 200);
    assert.ok(last.isFinal);
    const endRecords = await t.services.db.metric.findMany({ where: { jobId: job.id, valLoss: { not: null } }, orderBy: { step: 'asc' }, select: { step: true, epoch: true } });
    assert.equal(endRecords.length, 200);
    endRecords.forEach((r, i) => assert.deepEqual(r, { step: 9 * (i + 1), epoch: i + 1 }));
    const mid = await t.services.db.metric.findFirstOrThrow({ where: { jobId: job.id, step: 10 } });
    assert.equal(mid.epoch, 2, 'step 10 is in the second epoch');
    for (const e of log) {
      if (e.type === 'metrics') assert.equal(e.epoch, e.record.epoch);
      if (e.type === 'decision') assert.ok(e.epoch >= 1 && e.epoch <= 200 && e.epoch % 5 === 0, `decision epoch ${e.epoch}`);
    }

    // The model is the best epoch's weights: the ones the best checkpoint carries.
    const model = await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    assert.ok(Buffer.from(model.weights).equals(Buffer.from(bestState.best!.weights.buffer, bestState.best!.weights.byteOffset, bestState.best!.weights.byteLength)));
    assert.equal((model.metrics as { epoch: number }).epoch, bestMetrics.epoch);
  });

  it('a cancelled job keeps its best weights in a checkpoint', async () => {
    const job = await submitJob(t.app, tenant, {
      datasetId, network: { layers: [{ units: 100 }] }, optimizer: { learningRate: 0.01 },
      training: { epochs: 100000, seed: 8 }, checkpoints: { everySteps: 100000, everySeconds: 3600, keep: 1 },
    });
    await events.next((e) => e.jobId === job.id && e.type === 'metrics' && e.step >= 90, 'ten epochs trained', 120_000);
    const res = await fetchCancel(t, tenant, job.id);
    assert.ok(res === 202 || res === 200, `cancel answered ${res}`);
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'cancelled');
    const stored = await t.services.db.checkpoint.findMany({ where: { jobId: job.id } });
    assert.equal(stored.length, 1, 'no step or time checkpoint was due: only the one written at the cancel');
    assert.ok(stored[0]!.isBest);
    const state = decodeCheckpoint(stored[0]!.state);
    assert.equal(state.best?.step, (done.bestMetrics as { step: number }).step);
  });
});

async function fetchCancel(t: TestApp, tenant: TestTenant, jobId: string): Promise<number> {
  const res = await t.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, headers: tenant.auth });
  return res.statusCode;
}
