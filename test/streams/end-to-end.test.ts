/**
 * The whole path with real processes: a job posted to one API instance is trained by a real worker process; streams
 * on two API instances both receive every metrics record exactly once and the final status; the model it produced
 * then predicts, on the other instance, exactly what the engine's own forward pass gives on the training rows. Streams
 * that join a running job at different moments each account for every stored record exactly once (events are
 * published only while a job is watched: joining must not open a gap).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createFastContext } from '../../src/engine/fast-context.js';
import { artifactFromRow, networkFromArtifact } from '../../src/models/artifact.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';
import { listen, openStream, type StreamClient } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };

describe('a training job watched from two API instances, then served', () => {
  let own: Installation;
  let a: TestApp;
  let b: TestApp;
  let baseA: string;
  let baseB: string;
  let tenant: TestTenant;
  let worker: Running;

  before(async () => {
    own = await ownInstallation('stream-e2e');
    [a, b] = await Promise.all([buildTestApp(own.env), buildTestApp(own.env)]);
    [baseA, baseB] = await Promise.all([listen(a.app), listen(b.app)]);
    tenant = await createTenant(a.services);
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
    await worker.waitFor(/worker ready/);
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await a?.services.trainingQueue.obliterate({ force: true });
    await Promise.all([a?.close(), b?.close()]);
    await own?.drop();
  });

  it('streams every metrics record to both instances and ends with the model, which predicts like the engine', async () => {
    const dataset = await request(a.app.server).post('/v1/datasets/synthetic').set(tenant.auth)
      .send({ kind: 'spiral', n: 40, classes: 3, seed: 5 }).expect(201);
    const posted = await request(a.app.server).post('/v1/jobs').set(tenant.auth).send({
      datasetId: dataset.body.id,
      network: { layers: [{ units: 12, activation: 'relu' }] },
      training: { epochs: 8, batchSize: 16, validationFraction: 0.2, seed: 3 },
      metrics: { everySteps: 1 },
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const jobId: string = posted.body.id;
    const streams = [await openStream(baseA, jobId, { key: tenant.key }), await openStream(baseB, jobId, { key: tenant.key })];
    for (const s of streams) assert.equal((await s.closed).code, 1000);

    const stored = await a.services.db.metric.findMany({ where: { jobId }, orderBy: { step: 'asc' }, select: { step: true, trainLoss: true } });
    assert.ok(stored.length > 10, `${stored.length} metrics records`);
    const final = streams[0]!.messages.at(-1)!;
    assert.equal(final.type, 'status');
    assert.equal(final.status, 'succeeded');
    for (const s of streams) {
      assert.deepEqual(s.metricSteps(), stored.map((m) => m.step));
      const losses = s.messages.filter((m) => m.type === 'metrics').map((m) => (m.record as { trainLoss: number }).trainLoss);
      assert.deepEqual(losses, stored.map((m) => m.trainLoss));
      assert.deepEqual(s.messages.at(-1), final);
    }

    const modelId = final.modelId as string;
    const row = await a.services.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const rows = (await request(b.app.server).get(`/v1/datasets/${dataset.body.id}/rows?limit=1000`).set(tenant.auth).expect(200)).body.items as { x: number[] }[];
    const predicted = await request(b.app.server).post(`/v1/models/${modelId}/predict`).set(tenant.auth).send({ rows: rows.map((r) => r.x) }).expect(200);

    const artifact = artifactFromRow(row);
    const { network, preprocessor } = networkFromArtifact(await createFastContext({ threads: 1, initialMemoryMiB: 1 }), artifact);
    const n = rows.length;
    const expected = network.predict(preprocessor.apply(Float32Array.from(rows.flatMap((r) => r.x)), n), n);
    predicted.body.predictions.forEach((p: { probabilities: Record<string, number> }, i: number) => {
      assert.deepEqual(p.probabilities, Object.fromEntries(artifact.classNames.map((c, j) => [c, expected[i * 3 + j]])), `row ${i}`);
    });
  });

  it('gives streams that join a running job at different moments every stored record, once, in order', async () => {
    const dataset = await request(a.app.server).post('/v1/datasets/synthetic').set(tenant.auth)
      .send({ kind: 'spiral', n: 100, classes: 3, seed: 6 }).expect(201);
    // A job that would run for hours: every stream joins it while it runs; it is cancelled once they all have.
    const posted = await request(a.app.server).post('/v1/jobs').set(tenant.auth).send({
      datasetId: dataset.body.id,
      network: { layers: [{ units: 16, activation: 'relu' }] },
      training: { epochs: 1_000_000, batchSize: 30, validationFraction: 0.2, seed: 4 },
      // A record every 25 steps (a few hundred a second): a stream can replay them and catch up with the live ones.
      metrics: { everySteps: 25 },
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const jobId: string = posted.body.id;

    const streams: StreamClient[] = [];
    const liveMetrics = (s: StreamClient) => s.messages.filter((m) => m.type === 'metrics' && !m.replayed).length;
    for (let i = 0; i < 5; i++) {
      // Stream i joins (alternating instances, replaying from the start) after the job has stored more records.
      const stored = await a.services.db.metric.count({ where: { jobId } });
      await waitFor(`more than ${stored} stored records`, async () => ((await a.services.db.metric.count({ where: { jobId } })) > stored + 20 ? true : undefined));
      const stream = await openStream(i % 2 === 0 ? baseA : baseB, jobId, { key: tenant.key });
      streams.push(stream);
      await stream.waitFor((messages) => messages.some((m) => m.type === 'metrics' && !m.replayed));
    }
    await request(a.app.server).post(`/v1/jobs/${jobId}/cancel`).set(tenant.auth).expect((r) => assert.ok([200, 202].includes(r.status), r.text));
    for (const s of streams) assert.equal((await s.closed).code, 1000);

    const stored = (await a.services.db.metric.findMany({ where: { jobId }, orderBy: { step: 'asc' }, select: { step: true } })).map((m) => m.step);
    const storedSet = new Set(stored);
    const job = await a.services.db.job.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(job.status, 'cancelled');
    streams.forEach((s, i) => {
      assert.ok(liveMetrics(s) > 0, `stream ${i} joined while the job ran`);
      const steps = s.metricSteps();
      // A slow reader may get metrics coalesced: the newest with "skipped": n for the n it replaced. Nothing else may go.
      const skipped = s.messages.reduce((sum, m) => sum + (m.type === 'metrics' ? (m.skipped ?? 0) : 0), 0);
      assert.ok(steps.every((step, k) => k === 0 || step > steps[k - 1]!), `stream ${i}: steps in order, no duplicates`);
      assert.ok(steps.every((step) => storedSet.has(step)), `stream ${i}: only stored steps`);
      assert.equal(steps.length + skipped, stored.length, `stream ${i}: ${steps.length} records + ${skipped} skipped = every stored record`);
      assert.equal(steps.at(-1), stored.at(-1), `stream ${i}: the newest record`);
      const final = s.messages.at(-1)!;
      assert.ok(final.type === 'status' && final.status === 'cancelled', `stream ${i} ends with the final status: ${JSON.stringify(final)}`);
    });
  });
});
