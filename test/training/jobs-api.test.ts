/**
 * The /v1/jobs API without workers: the spec's defaults and validation against the dataset (stable codes), the dry
 * run's layer table and parameter count, Postgres-then-BullMQ creation, reads, pagination, tenant walls, and the
 * cancel of a queued job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import type { JobSpec } from '../../src/jobs/plan.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { nextMillisecond } from '../helpers/wait.js';
import { createSpiral, createTable, postJob, submitJob, ownInstallation, type Installation } from './helpers.js';

describe('/v1/jobs', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let other: TestTenant;
  let spiralId: string;
  let threeFeatureClasses: string;
  let threeFeatureValues: string;

  before(async () => {
    own = await ownInstallation('jobsapi');
    t = await buildTestApp({ ...own.env, MAX_PARAMETERS: '100000', MAX_EPOCH_ROWS: '1000000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'jobs');
    other = await createTenant(t.services, 'other');
    spiralId = await createSpiral(t.services, tenant.id);
    threeFeatureClasses = await createTable(t.services, tenant.id, { rows: 50, features: 3, classes: 2 });
    threeFeatureValues = await createTable(t.services, tenant.id, { rows: 50, features: 3 });
  });

  after(async () => {
    await t.services.trainingQueue.obliterate({ force: true });
    await t.close();
    await own.drop();
  });

  it('dry run: a 3-input net with one hidden layer of 4 and 2 outputs has 26 parameters; 3-4-4-1 has 41', async () => {
    const a = await postJob(t.app, tenant, { datasetId: threeFeatureClasses, network: { layers: [{ units: 4 }] } }, '?dryRun=true');
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.dryRun, true);
    assert.equal(a.body.parameterCount, 26);
    assert.deepEqual(a.body.layers.map((l: { name: string; params: number }) => [l.name, l.params]), [['dense1', 16], ['output', 10]]);
    assert.equal(a.body.outputs, 2);
    assert.equal(a.body.loss, 'softmax');

    const b = await postJob(t.app, tenant, { datasetId: threeFeatureValues, network: { layers: [{ units: 4 }, { units: 4 }] } }, '?dryRun=true');
    assert.equal(b.body.parameterCount, 41);
    assert.equal(b.body.loss, 'l2');
    // A binary classifier with a logistic output is 3-4-4-1 as well.
    const c = await postJob(t.app, tenant, { datasetId: threeFeatureClasses, network: { layers: [{ units: 4 }, { units: 4 }], loss: 'logistic' } }, '?dryRun=true');
    assert.equal(c.body.parameterCount, 41);
    assert.equal(await t.services.db.job.count({ where: { tenantId: tenant.id } }), 0, 'a dry run stores nothing');
  });

  it('{datasetId} alone gets a complete, documented default spec', async () => {
    const res = await postJob(t.app, tenant, { datasetId: spiralId }, '?dryRun=true');
    assert.equal(res.status, 200);
    const spec = res.body.spec as JobSpec;
    assert.deepEqual(spec.network.layers, [{ units: 100, activation: 'relu', dropout: 0 }]);
    assert.equal(spec.network.loss, 'softmax');
    assert.deepEqual(spec.optimizer, { type: 'adam', learningRate: 0.001, schedule: { type: 'constant' } });
    assert.deepEqual(spec.preprocessing, { type: 'standardize' });
    assert.deepEqual(spec.regularization, { l2: 0.0001, l1: 0 });
    assert.equal(spec.training.epochs, 100);
    assert.equal(spec.training.batchSize, 32);
    assert.equal(spec.training.validationFraction, 0.1);
    assert.equal(spec.training.monitor, 'valLoss');
    assert.equal(spec.training.keep, 'best');
    assert.equal(spec.training.earlyStopping, null);
    assert.ok(Number.isInteger(spec.training.seed), 'a seed is chosen and recorded');
    assert.deepEqual(spec.checkpoints, { everySteps: 1000, everySeconds: 30, keep: 3 });
    assert.deepEqual(spec.metrics, { everySteps: 10 });
    assert.equal(res.body.trainRows, 270);
    assert.equal(res.body.validationRows, 30);
    assert.equal(res.body.stepsPerEpoch, 9);
    assert.equal(res.body.totalSteps, 900);
  });

  it('rejects bad specs with 4xx and stable codes, naming the field', async () => {
    const cases: [object, number, string, string][] = [
      [{ datasetId: spiralId, training: { epoch: 3 } }, 400, 'VALIDATION_FAILED', 'body.training'],
      [{ datasetId: 'nope' }, 400, 'VALIDATION_FAILED', 'body.datasetId'],
      [{ datasetId: spiralId, network: { layers: [{ units: 0 }] } }, 400, 'VALIDATION_FAILED', 'body.network.layers.0.units'],
      [{ datasetId: spiralId, network: { loss: 'l2' } }, 400, 'JOB_SPEC_INVALID', 'network.loss'],
      [{ datasetId: threeFeatureValues, network: { loss: 'softmax' } }, 400, 'JOB_SPEC_INVALID', 'network.loss'],
      [{ datasetId: spiralId, training: { batchSize: 1000 } }, 400, 'JOB_SPEC_INVALID', 'training.batchSize'],
      [{ datasetId: spiralId, preprocessing: { type: 'pca', components: 3 } }, 400, 'JOB_SPEC_INVALID', 'preprocessing.components'],
      [{ datasetId: spiralId, preprocessing: { type: 'center', components: 1 } }, 400, 'JOB_SPEC_INVALID', 'preprocessing.components'],
      [{ datasetId: spiralId, optimizer: { type: 'sgd', beta1: 0.9 } }, 400, 'JOB_SPEC_INVALID', 'optimizer.beta1'],
      [{ datasetId: spiralId, optimizer: { schedule: { type: 'step' } } }, 400, 'JOB_SPEC_INVALID', 'optimizer.schedule.every'],
      [{ datasetId: spiralId, training: { monitor: 'valRmse' } }, 400, 'JOB_SPEC_INVALID', 'training.monitor'],
      [{ datasetId: spiralId, training: { validationFraction: 0, monitor: 'valLoss' } }, 400, 'JOB_SPEC_INVALID', 'training.monitor'],
      [{ datasetId: spiralId, network: { layers: [{ units: 10, activation: 'relu', alpha: 0.1 }] } }, 400, 'JOB_SPEC_INVALID', 'network.layers[0].alpha'],
      [{ datasetId: spiralId, network: { layers: [{ units: 1000 }, { units: 1000 }] } }, 400, 'JOB_TOO_LARGE', 'MAX_PARAMETERS'],
      [{ datasetId: spiralId, training: { epochs: 10000 } }, 400, 'JOB_TOO_LARGE', 'MAX_EPOCH_ROWS'],
      [{ datasetId: '00000000-0000-4000-8000-000000000000' }, 404, 'DATASET_NOT_FOUND', 'No dataset'],
      [{ datasetId: spiralId, warmStartModelId: '00000000-0000-4000-8000-000000000000' }, 404, 'MODEL_NOT_FOUND', 'No model'],
    ];
    for (const [body, status, code, mention] of cases) {
      const res = await postJob(t.app, tenant, body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, code, JSON.stringify(res.body));
      assert.ok(JSON.stringify(res.body).includes(mention), `${JSON.stringify(res.body)} mentions ${mention}`);
    }
    // Another tenant's dataset does not exist for this one.
    const foreign = await postJob(t.app, other, { datasetId: spiralId });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.code, 'DATASET_NOT_FOUND');
    assert.equal(await t.services.db.job.count({ where: { tenantId: tenant.id } }), 0);
  });

  it('writes the Job (queued) to Postgres, then enqueues it in BullMQ under the same id; reads it back', async () => {
    const res = await postJob(t.app, tenant, { datasetId: spiralId, name: 'first', training: { seed: 5 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.location, `/v1/jobs/${res.body.id}`);
    const row = await t.services.db.job.findUniqueOrThrow({ where: { id: res.body.id } });
    assert.equal(row.status, 'queued');
    assert.equal(row.parameterCount, 603);
    assert.equal(row.totalSteps, 900);
    assert.equal((row.spec as unknown as JobSpec).training.seed, 5);
    const queued = await t.services.trainingQueue.getJob(row.id);
    assert.deepEqual(queued?.data, { jobId: row.id, tenantId: tenant.id });
    assert.equal(await t.services.trainingQueue.getJobState(row.id), 'waiting');

    const view = await request(t.app.server).get(`/v1/jobs/${row.id}`).set(tenant.auth);
    assert.equal(view.status, 200);
    assert.equal(view.body.name, 'first');
    assert.equal(view.body.status, 'queued');
    assert.equal(view.body.modelId, null);
    for (const path of ['', '/metrics', '/checkpoints']) {
      const foreign = await request(t.app.server).get(`/v1/jobs/${row.id}${path}`).set(other.auth);
      assert.equal(foreign.status, 404, path);
      assert.equal(foreign.body.code, 'JOB_NOT_FOUND');
    }
    const metrics = await request(t.app.server).get(`/v1/jobs/${row.id}/metrics?since=0&limit=10`).set(tenant.auth);
    assert.deepEqual({ count: metrics.body.count, nextSince: metrics.body.nextSince, step: metrics.body.step }, { count: 0, nextSince: 0, step: [] });
    const bad = await request(t.app.server).get('/v1/jobs/not-a-uuid').set(tenant.auth);
    assert.equal(bad.status, 400);
  });

  it('lists jobs newest first, filtered by status and dataset, page by page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      await nextMillisecond(); // distinct createdAt: the order asserted is the creation order
      ids.push((await submitJob(t.app, tenant, { datasetId: threeFeatureValues, name: `job ${i}` })).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app.server).get(`/v1/jobs?datasetId=${threeFeatureValues}&limit=2${cursor ? `&cursor=${cursor}` : ''}`).set(tenant.auth);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((j: { id: string }) => j.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const queued = await request(t.app.server).get('/v1/jobs?status=queued&limit=100').set(tenant.auth);
    assert.ok(queued.body.items.length >= 6);
    const none = await request(t.app.server).get('/v1/jobs?status=succeeded').set(tenant.auth);
    assert.deepEqual(none.body.items, []);
    assert.deepEqual((await request(t.app.server).get('/v1/jobs').set(other.auth)).body.items, []);
    const badCursor = await request(t.app.server).get('/v1/jobs?cursor=zzz').set(tenant.auth);
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.code, 'VALIDATION_FAILED');
    const badStatus = await request(t.app.server).get('/v1/jobs?status=done').set(tenant.auth);
    assert.equal(badStatus.status, 400);
  });

  it('cancels a queued job at once (and removes it from BullMQ); a finished job is not cancellable', async () => {
    const job = await submitJob(t.app, tenant, { datasetId: spiralId });
    const foreign = await request(t.app.server).post(`/v1/jobs/${job.id}/cancel`).set(other.auth);
    assert.equal(foreign.status, 404);
    const res = await request(t.app.server).post(`/v1/jobs/${job.id}/cancel`).set(tenant.auth);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    assert.ok(res.body.finishedAt);
    assert.equal(await t.services.trainingQueue.getJobState(job.id), 'unknown');
    assert.equal((await t.services.db.job.findUniqueOrThrow({ where: { id: job.id } })).status, 'cancelled');

    await t.services.db.job.update({ where: { id: job.id }, data: { status: 'succeeded' } });
    const late = await request(t.app.server).post(`/v1/jobs/${job.id}/cancel`).set(tenant.auth);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'JOB_NOT_CANCELLABLE');
  });
});
