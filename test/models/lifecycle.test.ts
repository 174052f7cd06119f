/**
 * The model lifecycle (issue 12 item 3) with a real worker: a cancelled job's best checkpoint promoted to a model
 * (once: a second promotion is a 409), a checkpoint's own weights promoted, a finished job deleted with its metrics and
 * checkpoints while its model stays, a running job refused (409 JOB_NOT_DELETABLE), and a warm start without
 * `network` taking the architecture of its model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { decodeCheckpoint } from '../../src/training/checkpoint-state.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { recordJobEvents, type JobEventLog } from '../helpers/job-events.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, type Installation } from '../training/helpers.js';

const NET = { layers: [{ units: 24, activation: 'tanh' }] };

describe('model lifecycle', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  let events: JobEventLog;
  let worker: Running;
  /** A succeeded job and a cancelled one. */
  let finishedJob: { id: string; modelId: string };
  let cancelledId: string;

  before(async () => {
    own = await ownInstallation('modellife');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'modellife');
    datasetId = await createSpiral(t.services, tenant.id, 100);
    events = await recordJobEvents(t.config.redisUrl, t.config.queuePrefix);
    worker = await startWorker(own);

    // A checkpoint at every metrics record (every 10 steps and epoch ends, 9 steps an epoch): mid-epoch ones carry no
    // best weights.
    const done = await submitJob(t.app, tenant, { datasetId, name: 'spiral-tanh', network: NET, training: { epochs: 20, seed: 1 }, checkpoints: { everySteps: 1 } });
    const row = await waitForJob(t.services.db, done.id);
    assert.equal(row.status, 'succeeded', row.failureReason ?? '');
    const model = await t.services.db.model.findUniqueOrThrow({ where: { jobId: done.id }, select: { id: true } });
    finishedJob = { id: done.id, modelId: model.id };

    // A long job, cancelled after some epochs without any step or time checkpoint due: its best weights are written
    // at the cancel.
    const long = await submitJob(t.app, tenant, { datasetId, network: NET, training: { epochs: 100000, seed: 2 }, checkpoints: { everySteps: 40, everySeconds: 3600, keep: 1 } });
    await events.next((e) => e.jobId === long.id && e.type === 'metrics' && e.step >= 100, 'some epochs trained', 120_000);
    const refused = await api().delete(`/v1/jobs/${long.id}`).set(tenant.auth).expect(409);
    assert.equal(refused.body.code, 'JOB_NOT_DELETABLE');
    await api().post(`/v1/jobs/${long.id}/cancel`).set(tenant.auth).expect((res) => assert.ok(res.status === 202 || res.status === 200));
    assert.equal((await waitForJob(t.services.db, long.id)).status, 'cancelled');
    cancelledId = long.id;
  });

  after(async () => {
    await worker?.stop('SIGKILL');
    events?.close();
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  const api = () => request(t.app.server);

  it('promotes a cancelled job\'s best checkpoint to a model that predicts; a second promotion is a 409', async () => {
    const list = await api().get(`/v1/jobs/${cancelledId}/checkpoints`).set(tenant.auth).expect(200);
    const best = list.body.items.find((c: { isBest: boolean }) => c.isBest);
    assert.ok(best, JSON.stringify(list.body.items));
    assert.equal(typeof best.bestStep, 'number');
    const job = await api().get(`/v1/jobs/${cancelledId}`).set(tenant.auth).expect(200);
    assert.equal(best.bestStep, job.body.bestMetrics.step);

    const res = await api().post(`/v1/jobs/${cancelledId}/checkpoints/${best.step}/promote`).set(tenant.auth).send({ name: 'spiral-best' }).expect(201);
    const model = res.body;
    assert.equal(res.headers.location, `/v1/models/${model.id}`);
    assert.equal(model.name, 'spiral-best');
    assert.equal(model.version, 1);
    assert.deepEqual(model.promotedFrom, { jobId: cancelledId, step: best.step });
    assert.equal(model.jobId, null);
    assert.equal(model.metrics.source, 'best');
    assert.equal(model.metrics.step, best.bestStep);
    assert.deepEqual(model.metrics.valLoss, job.body.bestMetrics.valLoss);
    assert.deepEqual(model.layers.map((l: { outputs: number }) => l.outputs), [24, 3]);

    const row = await t.services.db.model.findUniqueOrThrow({ where: { id: model.id } });
    const stored = await t.services.db.checkpoint.findUniqueOrThrow({ where: { jobId_step: { jobId: cancelledId, step: best.step } } });
    const carried = decodeCheckpoint(stored.state).best!;
    assert.ok(Buffer.from(row.weights).equals(Buffer.from(carried.weights.buffer, carried.weights.byteOffset, carried.weights.byteLength)), 'the best weights');

    const predicted = await api().post(`/v1/models/${model.id}/predict`).set(tenant.auth).send({ rows: [[0.1, 0.2], [-0.3, 0.5]] }).expect(200);
    assert.equal(predicted.body.predictions.length, 2);

    const again = await api().post(`/v1/jobs/${cancelledId}/checkpoints/${best.step}/promote`).set(tenant.auth).expect(409);
    assert.equal(again.body.code, 'CHECKPOINT_ALREADY_PROMOTED');
    assert.equal(again.body.modelId, model.id);
  });

  it('promotes a checkpoint\'s own weights; refuses best weights it does not carry, unknown steps and jobs', async () => {
    const checkpoints = await t.services.db.checkpoint.findMany({ where: { jobId: finishedJob.id }, orderBy: { step: 'asc' } });
    const plain = checkpoints.find((c) => c.bestStep === null);
    assert.ok(plain, `a checkpoint without best weights among steps ${checkpoints.map((c) => `${c.step}:${c.bestStep}`).join(', ')}`);
    assert.equal(decodeCheckpoint(plain.state).best, null);
    const refused = await api().post(`/v1/jobs/${finishedJob.id}/checkpoints/${plain.step}/promote`).set(tenant.auth).send({ weights: 'best' }).expect(409);
    assert.equal(refused.body.code, 'CHECKPOINT_NOT_PROMOTABLE');
    const res = await api().post(`/v1/jobs/${finishedJob.id}/checkpoints/${plain.step}/promote`).set(tenant.auth).send({ weights: 'current' }).expect(201);
    assert.equal(res.body.name, 'spiral-tanh');
    assert.equal(res.body.version, 2, 'the job\'s own model is version 1 of its name');
    assert.equal(res.body.metrics.source, 'final');
    assert.equal(res.body.metrics.step, plain.step);
    const state = decodeCheckpoint(plain.state);
    assert.equal(res.body.metrics.epoch, Math.ceil(plain.step / 9), '1-based epoch of the checkpoint\'s step (9 steps an epoch)');
    assert.equal(state.loop.step, plain.step);

    assert.equal((await api().post(`/v1/jobs/${finishedJob.id}/checkpoints/999999/promote`).set(tenant.auth).expect(404)).body.code, 'CHECKPOINT_NOT_FOUND');
    const other = await createTenant(t.services, 'other');
    assert.equal((await api().post(`/v1/jobs/${finishedJob.id}/checkpoints/${plain.step}/promote`).set(other.auth).expect(404)).body.code, 'JOB_NOT_FOUND');
    assert.equal((await api().post(`/v1/jobs/${finishedJob.id}/checkpoints/${plain.step}/promote`).set(tenant.auth).send({ weights: 'all' }).expect(400)).body.code, 'VALIDATION_FAILED');
  });

  it('a warm start without `network` takes the architecture of its model', async () => {
    const dry = await api().post('/v1/jobs?dryRun=true').set(tenant.auth).send({ datasetId, warmStartModelId: finishedJob.modelId, training: { epochs: 2 } }).expect(200);
    assert.deepEqual(dry.body.spec.network.layers.map((l: { units: number; activation: string }) => [l.units, l.activation]), [[24, 'tanh']]);
    assert.equal(dry.body.parameterCount, 2 * 24 + 24 + 24 * 3 + 3);
    const cold = await api().post('/v1/jobs?dryRun=true').set(tenant.auth).send({ datasetId, training: { epochs: 2 } }).expect(200);
    assert.deepEqual(cold.body.spec.network.layers.map((l: { units: number }) => l.units), [100], 'without a warm start: the default network');
    const given = await api().post('/v1/jobs?dryRun=true').set(tenant.auth).send({ datasetId, warmStartModelId: finishedJob.modelId, network: { layers: [{ units: 5 }] } }).expect(400);
    assert.equal(given.body.code, 'JOB_SPEC_INVALID', 'a network given explicitly must still match the model');

    const job = await submitJob(t.app, tenant, { datasetId, warmStartModelId: finishedJob.modelId, training: { epochs: 1, seed: 3 } });
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
  });

  it('deletes a finished job with its metrics and checkpoints; its model stays; a second delete is a 404', async () => {
    const { id, modelId } = finishedJob;
    assert.ok(await t.services.db.metric.count({ where: { jobId: id } }) > 0);
    await api().delete(`/v1/jobs/${id}`).set(tenant.auth).expect(204);
    assert.equal((await api().get(`/v1/jobs/${id}`).set(tenant.auth).expect(404)).body.code, 'JOB_NOT_FOUND');
    assert.equal(await t.services.db.metric.count({ where: { jobId: id } }), 0);
    assert.equal(await t.services.db.checkpoint.count({ where: { jobId: id } }), 0);
    const model = await api().get(`/v1/models/${modelId}`).set(tenant.auth).expect(200);
    assert.equal(model.body.jobId, null);
    const promoted = await t.services.db.model.findMany({ where: { tenantId: tenant.id, promotedFromStep: { not: null }, promotedFromJobId: null } });
    assert.equal(promoted.length, 1, 'the model promoted from its checkpoint stays, its job reference cleared');
    assert.equal((await api().delete(`/v1/jobs/${id}`).set(tenant.auth).expect(404)).body.code, 'JOB_NOT_FOUND');

    const other = await createTenant(t.services, 'other');
    assert.equal((await api().delete(`/v1/jobs/${cancelledId}`).set(other.auth).expect(404)).body.code, 'JOB_NOT_FOUND');
    await api().delete(`/v1/jobs/${cancelledId}`).set(tenant.auth).expect(204);
    assert.equal(await t.services.db.checkpoint.count({ where: { jobId: cancelledId } }), 0);
  });
});
