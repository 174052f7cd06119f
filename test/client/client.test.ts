/**
 * The typed client (imported as the package exports it, `trainyard/client`) against the real app listening on a port
 * and a real worker process: every resource's methods, problems as TrainyardError, and the job's WebSocket stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Trainyard, TrainyardError, type Dataset, type Job, type JobEvent } from 'trainyard/client';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };

describe('the typed client', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let worker: Running;
  let ty: Trainyard;
  let url: string;

  before(async () => {
    own = await ownInstallation('client');
    t = await buildTestApp(own.env);
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    tenant = await createTenant(t.services, 'client');
    ty = new Trainyard({ url, key: tenant.key });
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
    await worker.waitFor(/worker ready/, 120_000);
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('me, and problems as TrainyardError with status, code, message and details', async () => {
    assert.equal((await ty.me()).tenant.id, tenant.id);
    await assert.rejects(new Trainyard({ url, key: 'ty_nope' }).me(), (e: unknown) => e instanceof TrainyardError && e.status === 401 && e.code === 'UNAUTHENTICATED');
    await assert.rejects(ty.datasets.synthetic({ kind: 'spiral', n: 0 }), (e: unknown) => {
      assert.ok(e instanceof TrainyardError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'VALIDATION_FAILED');
      assert.ok(Array.isArray(e.details.errors), JSON.stringify(e.details));
      assert.ok(e.requestId);
      return true;
    });
    await assert.rejects(new Trainyard({ url: 'http://127.0.0.1:1', key: tenant.key }).me(), (e: unknown) => e instanceof TrainyardError && e.status === 0 && e.code === 'CONNECTION_FAILED');
  });

  it('datasets: synthetic, upload (CSV and JSON), example, list, get, rows, delete', async () => {
    const spiral = await ty.datasets.synthetic({ kind: 'spiral', n: 30, classes: 3, seed: 7, name: 'client-spiral' });
    assert.equal(spiral.rows, 90);
    assert.deepEqual(spiral.classNames.length, 3);
    const csv = await ty.datasets.upload('a,b,label\n1,2,x\n3,4,y\n5,6,x\n', { name: 'tiny', target: 'label' });
    assert.equal(csv.rows, 3);
    assert.deepEqual(csv.featureNames, ['a', 'b']);
    const json = await ty.datasets.upload(JSON.stringify([[1, 0.5], [2, 1.5], [3, 2.5]]), { format: 'json', task: 'regression' });
    assert.equal(json.task, 'regression');
    await assert.rejects(ty.datasets.upload('a,b,c\n1,2,0\n3,x,1\n'), (e: unknown) => e instanceof TrainyardError && e.code === 'DATASET_NON_NUMERIC' && e.details.column === 'b' && typeof e.details.row === 'number');
    const iris = await ty.datasets.example('iris', { name: 'client-iris' });
    assert.equal(iris.rows, 150);
    await assert.rejects(ty.datasets.example('nope'), (e: unknown) => e instanceof TrainyardError && e.code === 'EXAMPLE_NOT_FOUND');

    const page = await ty.datasets.list({ limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.nextCursor);
    const all: string[] = [];
    for await (const d of ty.datasets.all(2)) all.push(d.id);
    assert.deepEqual(new Set(all), new Set([spiral.id, csv.id, json.id, iris.id]));
    assert.deepEqual((await ty.datasets.get(csv.id)).classNames, ['x', 'y']);
    const rows = await ty.datasets.rows(spiral.id, { offset: 10, limit: 5 });
    assert.deepEqual(rows.items.map((r) => r.row), [10, 11, 12, 13, 14]);
    assert.equal(rows.total, 90);
    await ty.datasets.delete(json.id);
    await assert.rejects(ty.datasets.get(json.id), (e: unknown) => e instanceof TrainyardError && e.status === 404 && e.code === 'DATASET_NOT_FOUND');
  });

  describe('jobs and models', () => {
    let dataset: Dataset;
    let job: Job;
    const events: JobEvent[] = [];

    before(async () => {
      dataset = await ty.datasets.synthetic({ kind: 'spiral', n: 40, classes: 3, seed: 5 });
    });

    it('jobs: dry run, submit, stream to the end (iterated), get, list, metrics, checkpoints', async () => {
      const spec = {
        datasetId: dataset.id, network: { layers: [{ units: 16 }] }, training: { epochs: 6, batchSize: 16, seed: 3 }, metrics: { everySteps: 2 },
      };
      const plan = await ty.jobs.dryRun(spec);
      assert.equal(plan.dryRun, true);
      assert.equal(plan.parameterCount, 2 * 16 + 16 + 16 * 3 + 3);
      job = await ty.jobs.submit(spec);
      assert.equal(job.status, 'queued');
      const stream = ty.jobs.stream(job.id);
      for await (const event of stream) events.push(event);
      const close = await stream.closed;
      assert.equal(close.code, 1000);
      assert.equal(close.error, null);
      const last = events.at(-1)!;
      assert.ok(last.type === 'status' && last.status === 'succeeded', JSON.stringify(last));

      job = await ty.jobs.get(job.id);
      assert.equal(job.status, 'succeeded');
      assert.equal(last.modelId, job.modelId);
      const metrics = await ty.jobs.allMetrics(job.id);
      const streamed = events.flatMap((e) => (e.type === 'metrics' ? [e.step] : []));
      assert.deepEqual(streamed, metrics.step, 'every stored record streamed once, in order');
      assert.equal(stream.lastStep, metrics.step.at(-1));
      const page = await ty.jobs.metrics(job.id, { since: metrics.step[2], limit: 3 });
      assert.deepEqual(page.step, metrics.step.slice(3, 6));
      assert.ok((await ty.jobs.checkpoints(job.id)).items.some((c) => c.isFinal));
      assert.ok((await ty.jobs.list({ status: 'succeeded', datasetId: dataset.id })).items.some((j) => j.id === job.id));
      await assert.rejects(ty.jobs.cancel(job.id), (e: unknown) => e instanceof TrainyardError && e.status === 409 && e.code === 'JOB_NOT_CANCELLABLE');
    });

    it('jobs: a finished job streams its replay again with onEvent, resumes after since, and wait() resolves with it', async () => {
      const replayed: JobEvent[] = [];
      const stream = ty.jobs.stream(job.id, { since: 10, onEvent: (e) => replayed.push(e) });
      assert.equal((await stream.closed).code, 1000);
      const steps = replayed.flatMap((e) => (e.type === 'metrics' ? [e.step] : []));
      assert.ok(steps.length > 0 && steps.every((s) => s > 10), JSON.stringify(steps));
      assert.equal(replayed.at(-1)?.type, 'status');
      const waited = await ty.jobs.wait(job.id);
      assert.equal(waited.status, 'succeeded');
    });

    it('jobs: a stream of an unknown job fails with the API problem; cancel of a queued job', async () => {
      const missing = ty.jobs.stream('00000000-0000-4000-8000-000000000000');
      await assert.rejects(async () => {
        for await (const _ of missing) assert.fail('no event expected');
      }, (e: unknown) => e instanceof TrainyardError && e.code === 'JOB_NOT_FOUND');
      const long = await ty.jobs.submit({ datasetId: dataset.id, training: { epochs: 100_000 } });
      const cancelled = await ty.jobs.cancel(long.id);
      assert.ok(cancelled.status === 'cancelled' || cancelled.cancelRequested, JSON.stringify(cancelled));
      const ended = await ty.jobs.wait(long.id);
      assert.equal(ended.status, 'cancelled');
    });

    it('models: list, get, predict (rows, objects, CSV), decision grid, export, import, delete', async () => {
      const modelId = job.modelId!;
      assert.ok((await ty.models.list()).items.some((m) => m.id === modelId));
      const model = await ty.models.get(modelId);
      assert.deepEqual(model.featureNames, ['x1', 'x2']);
      const byRows = await ty.models.predict(modelId, [[0.1, 0.2], [-0.5, 0.3]]);
      assert.equal(byRows.rows, 2);
      const first = byRows.predictions[0]!;
      assert.ok('probabilities' in first && model.classNames.includes(first.class));
      const byObjects = await ty.models.predict(modelId, [{ x2: 0.2, x1: 0.1 }]);
      assert.deepEqual(byObjects.predictions[0], first);
      const byCsv = await ty.models.predictCsv(modelId, 'x1,x2\n0.1,0.2\n');
      assert.deepEqual(byCsv.predictions[0], first);
      await assert.rejects(ty.models.predict(modelId, [[1, 2, 3]]), (e: unknown) => e instanceof TrainyardError && e.code === 'PREDICT_INPUT_INVALID' && e.details.problem === 'width');

      const grid = await ty.models.decisionGrid(modelId, { resolution: 8 });
      assert.equal(grid.resolution, 8);
      assert.equal(grid.classes?.length, 64);

      const document = await ty.models.export(modelId);
      assert.equal(document.format, 'trainyard-model');
      const imported = await ty.models.import(document);
      assert.notEqual(imported.id, modelId);
      assert.deepEqual((await ty.models.predict(imported.id, [[0.1, 0.2]])).predictions[0], first);
      await ty.models.delete(imported.id);
      await assert.rejects(ty.models.get(imported.id), (e: unknown) => e instanceof TrainyardError && e.code === 'MODEL_NOT_FOUND');
    });
  });
});
