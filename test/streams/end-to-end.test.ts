/**
 * The whole path with real processes: a job posted to one API instance is trained by a real worker process; streams
 * on two API instances both receive every metrics record exactly once and the final status; the model it produced
 * then predicts, on the other instance, exactly what the engine's own forward pass gives on the training rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createFastContext } from '../../src/engine/fast-context.js';
import { artifactFromRow, networkFromArtifact } from '../../src/models/artifact.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';
import { listen, openStream } from '../helpers/streams.js';

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
});
