/**
 * POST/GET /v1/sweeps without workers: validation of every trial up front (errors name the trial and the spec path,
 * nothing written), trial expansion (grid, seeded random), maxConcurrent release, the leaderboard's pending trials,
 * the trial's sweep link on GET /v1/jobs/:id, cancel of a sweep whose trials are queued, list, the stream's 426.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { createSpiral } from '../training/helpers.js';
import { reconcileSweeps } from '../../src/sweeps/release.js';

describe('sweeps API', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;

  before(async () => {
    t = await buildTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'sweeps-api');
    spiralId = await createSpiral(t.services, tenant.id, 50);
  });

  after(async () => {
    await t?.close();
  });

  const post = (body: object) => request(t.app.server).post('/v1/sweeps').set(tenant.auth).send(body);
  const base = () => ({ datasetId: spiralId, network: { layers: [{ units: 20 }] }, training: { epochs: 5, batchSize: 16, seed: 1 } });
  const counts = async () => ({
    sweeps: await t.services.db.sweep.count({ where: { tenantId: tenant.id } }),
    jobs: await t.services.db.job.count({ where: { tenantId: tenant.id } }),
  });

  it('validates every combination up front: errors name the trial and the path, nothing is written', async () => {
    const before = await counts();
    const res = await post({
      spec: base(),
      parameters: { 'network.layers[0].units': { values: [10, 0] }, 'network.layers[0].activation': { values: ['relu', 'wobbly'] } },
      method: 'grid', metric: 'validation.accuracy',
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'SWEEP_INVALID');
    const errors = res.body.errors as { trial: number; path: string; message: string }[];
    // Trials: 0 (10, relu) fine, 1 (10, wobbly), 2 (0, relu), 3 (0, wobbly).
    assert.ok(!errors.some((e) => e.trial === 0), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.trial === 1 && e.path === 'network.layers[0].activation'), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.trial === 2 && e.path === 'network.layers[0].units'), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.trial === 3 && e.path === 'network.layers[0].units'));
    assert.ok(errors.some((e) => e.trial === 3 && e.path === 'network.layers[0].activation'));
    assert.match(res.body.detail, /^trial 1: network\.layers\[0\]\.activation/);
    assert.deepEqual(await counts(), before, 'nothing written');
  });

  it('reports planner problems (as POST /v1/jobs would) and paths the base spec does not have', async () => {
    const res = await post({
      spec: base(), parameters: { 'training.batchSize': { values: [16, 100000] }, 'network.layers[2].units': { values: [5] } }, method: 'grid', metric: 'valLoss',
    });
    assert.equal(res.status, 400);
    const errors = res.body.errors as { trial: number; path: string; message: string }[];
    assert.ok(errors.some((e) => e.trial === 0 && e.path === 'network.layers[2].units' && /1 item/.test(e.message)), JSON.stringify(errors));
    const planned = await post({ spec: base(), parameters: { 'training.batchSize': { values: [16, 100000] } }, method: 'grid', metric: 'valLoss' });
    assert.equal(planned.status, 400);
    assert.deepEqual(planned.body.errors.map((e: { trial: number; path: string }) => [e.trial, e.path]), [[1, 'training.batchSize']]);
    const random = await post({ spec: base(), parameters: { 'optimizer.learningRate': { logUniform: [1e-4, 1e-1] } }, method: 'grid', metric: 'valLoss' });
    assert.equal(random.status, 400);
    assert.equal(random.body.errors[0].path, 'parameters.optimizer.learningRate');
    assert.equal(random.body.errors[0].trial, null);
  });

  it('creates a grid sweep: maxConcurrent trials become queued jobs, the others are pending', async () => {
    const res = await post({ spec: base(), parameters: { 'regularization.l2': { values: [0.001, 0.01, 0.1] } }, method: 'grid', metric: 'validation.accuracy', maxConcurrent: 2 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const sweep = res.body;
    assert.equal(sweep.status, 'running');
    assert.equal(sweep.metric, 'valAccuracy');
    assert.equal(sweep.direction, 'max');
    assert.equal(sweep.trialCount, 3);
    assert.deepEqual(sweep.counts, { pending: 1, deleted: 0, queued: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0, pruned: 0 });
    const byTrial = [...sweep.trials].sort((a: { trial: number }, b: { trial: number }) => a.trial - b.trial);
    assert.deepEqual(byTrial.map((tr: { parameters: object }) => tr.parameters), [0.001, 0.01, 0.1].map((l2) => ({ 'regularization.l2': l2 })));
    assert.equal(byTrial[2].status, 'pending');
    assert.equal(byTrial[2].jobId, null);

    const job = await request(t.app.server).get(`/v1/jobs/${byTrial[1].jobId}`).set(tenant.auth);
    assert.equal(job.status, 200);
    assert.deepEqual(job.body.sweep, { id: sweep.id, trial: 1, parameters: { 'regularization.l2': 0.01 } });
    assert.equal(job.body.spec.regularization.l2, 0.01);
    assert.equal(job.body.spec.training.monitor, 'valAccuracy', 'the trial monitors the sweep metric');

    const list = await request(t.app.server).get('/v1/sweeps').set(tenant.auth);
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((s: { id: string }) => s.id === sweep.id));

    // Cancel: the queued trials are cancelled at once, the pending one never starts.
    const cancel = await request(t.app.server).post(`/v1/sweeps/${sweep.id}/cancel`).set(tenant.auth);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.status, 'cancelled');
    assert.deepEqual(cancel.body.counts, { pending: 1, deleted: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 2, pruned: 0 });
    const again = await request(t.app.server).post(`/v1/sweeps/${sweep.id}/cancel`).set(tenant.auth);
    assert.equal(again.status, 200);
  });

  it('samples random trials from a stored seed: the same seed gives the same trials', async () => {
    const body = {
      spec: base(), method: 'random', trials: 4, seed: 42, metric: 'valLoss', maxConcurrent: 1,
      parameters: { 'optimizer.learningRate': { logUniform: [1e-4, 1e-1] }, 'network.layers[0].activation': { values: ['relu', 'tanh'] }, 'regularization.l2': { uniform: [0, 0.1] } },
    };
    const a = await post(body), b = await post(body);
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const params = (s: { trials: { trial: number; parameters: Record<string, number> }[] }) => [...s.trials].sort((x, y) => x.trial - y.trial).map((tr) => tr.parameters);
    assert.deepEqual(params(a.body), params(b.body));
    for (const p of params(a.body)) {
      assert.ok(p['optimizer.learningRate']! >= 1e-4 && p['optimizer.learningRate']! <= 1e-1);
      assert.ok(['relu', 'tanh'].includes(p['network.layers[0].activation'] as unknown as string));
    }
    assert.equal(a.body.counts.queued, 1);
    assert.equal(a.body.seed, 42);
    for (const s of [a.body, b.body]) await request(t.app.server).post(`/v1/sweeps/${s.id}/cancel`).set(tenant.auth);
  });

  it('a trial that ended without releasing the next (its worker died) is caught up by the reconcile pass; a deleted trial is not rerun', async () => {
    const res = await post({ spec: base(), parameters: { 'regularization.l2': { values: [0.001, 0.01] } }, method: 'grid', metric: 'valLoss', maxConcurrent: 1 });
    assert.equal(res.status, 201);
    const id = res.body.id as string;
    const first = await t.services.db.job.findFirstOrThrow({ where: { sweepId: id } });
    assert.equal(first.sweepTrial, 0);
    // As if a worker finished trial 0 and died before releasing trial 1.
    await t.services.db.job.update({ where: { id: first.id }, data: { status: 'succeeded', startedAt: new Date(), finishedAt: new Date() } });
    const deps = { db: t.services.db, queue: t.services.trainingQueue, limits: t.config.limits, log: { warn: () => undefined } };
    await reconcileSweeps(deps);
    const second = await t.services.db.job.findFirstOrThrow({ where: { sweepId: id, sweepTrial: 1 } });
    assert.equal(second.status, 'queued');
    assert.equal((await t.services.db.sweep.findUniqueOrThrow({ where: { id } })).status, 'running');
    // Trial 0's job is deleted and trial 1 fails: nothing is released again, and the sweep ends.
    await t.services.db.job.delete({ where: { id: first.id } });
    await t.services.db.job.update({ where: { id: second.id }, data: { status: 'failed', failureCode: 'DIVERGED', failureReason: 'boom', finishedAt: new Date() } });
    await reconcileSweeps(deps);
    assert.equal(await t.services.db.job.count({ where: { sweepId: id } }), 1, 'the deleted trial was not released again');
    const view = await request(t.app.server).get(`/v1/sweeps/${id}`).set(tenant.auth);
    assert.equal(view.body.status, 'failed');
    assert.deepEqual(view.body.trials.map((tr: { trial: number; status: string }) => [tr.trial, tr.status]).sort(), [[0, 'deleted'], [1, 'failed']]);
    assert.notEqual(view.body.finishedAt, null);
  });

  it('answers 404 for another tenant’s sweep and 426 for a plain GET of the stream', async () => {
    const res = await post({ spec: base(), parameters: { 'regularization.l2': { values: [0.01] } }, method: 'grid', metric: 'valLoss' });
    const other = await createTenant(t.services, 'sweeps-other');
    const read = await request(t.app.server).get(`/v1/sweeps/${res.body.id}`).set(other.auth);
    assert.equal(read.status, 404);
    assert.equal(read.body.code, 'SWEEP_NOT_FOUND');
    const plain = await request(t.app.server).get(`/v1/sweeps/${res.body.id}/stream`).set(tenant.auth);
    assert.equal(plain.status, 426);
    await request(t.app.server).post(`/v1/sweeps/${res.body.id}/cancel`).set(tenant.auth);
  });
});
