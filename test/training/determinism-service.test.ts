/**
 * Issue 9, service-level proof of "same spec and seed → bit-identical weights, whatever the thread count": the MNIST
 * example (784 inputs) trained through the API by real worker processes — twice on a worker with ENGINE_THREADS=1,
 * once on one with ENGINE_THREADS=2 — gives three identical `weights.sha256` in the exported models.
 *
 * The network is the one of the report (784-256 relu-128 tanh-10, Adam, batch 128, a fixed seed), for 2
 * epochs: the epoch-end evaluation between them is what used to overwrite first-layer weights of wide nets.
 * Waits are on stored facts (the job rows in Postgres), with generous limits: on 2 shared cores this takes a while.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { startWorker, submitJob, waitForJob, ownInstallation, type Installation } from './helpers.js';

const MNIST_SPEC = {
  network: { layers: [{ units: 256, activation: 'relu' }, { units: 128, activation: 'tanh' }] },
  optimizer: { type: 'adam', learningRate: 0.001 },
  training: { epochs: 2, batchSize: 128, seed: 20_240_509 },
};

/** How long one MNIST job may take on a loaded 2-core machine (it takes well under a minute on an idle one). */
const JOB_TIMEOUT_MS = 15 * 60_000;

describe('determinism through the service (MNIST, real workers)', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('determinism');
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'determinism');
    const res = await request(t.app.server).post('/v1/datasets/examples/mnist').set(tenant.auth).expect(201);
    assert.deepEqual([res.body.rows, res.body.features], [10_000, 784]);
    datasetId = res.body.id;
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await t.services.trainingQueue.obliterate({ force: true });
    await t.close();
    await own.drop();
  });

  /** Trains the spec on `worker` (the only worker running) and returns the exported model's weights.sha256. */
  async function train(worker: Running, threads: number): Promise<{ sha256: string; accuracy: number | null }> {
    const job = await submitJob(t.app, tenant, { datasetId, ...MNIST_SPEC });
    const done = await waitForJob(t.services.db, job.id, ['succeeded', 'failed', 'cancelled'], JOB_TIMEOUT_MS);
    assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    assert.equal(done.attempt, 1, 'trained in one attempt (no resume)');
    // The worker says which thread count it trained with (its 'training started' log line).
    const started = worker.output().split('\n').find((line) => line.includes(job.id) && line.includes('training started'));
    assert.ok(started, `worker log has the start of job ${job.id}`);
    assert.match(started, new RegExp(`"threads":${threads}\\b`));

    const model = await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    const exported = await request(t.app.server).get(`/v1/models/${model.id}/export`).set(tenant.auth).expect(200);
    const sha256: string = exported.body.weights.sha256;
    assert.equal(sha256, createHash('sha256').update(model.weights).digest('hex'), 'the export states the stored weights');
    return { sha256, accuracy: exported.body.metrics.valAccuracy };
  }

  it('the same spec and seed give identical weights.sha256: twice with ENGINE_THREADS=1, once with 2', async (ctx) => {
    const one = await startWorker(own, { ENGINE_THREADS: '1' });
    workers.push(one);
    const first = await train(one, 1);
    const second = await train(one, 1);
    await one.stop('SIGTERM');

    const two = await startWorker(own, { ENGINE_THREADS: '2' });
    workers.push(two);
    const third = await train(two, 2);

    ctx.diagnostic(`weights.sha256 ${first.sha256}; validation accuracy ${first.accuracy}, ${second.accuracy}, ${third.accuracy}`);
    assert.ok(first.accuracy !== null && first.accuracy > 0.85, `it learned the digits: validation accuracy ${first.accuracy}`);
    assert.equal(second.sha256, first.sha256, 'same worker, same spec and seed');
    assert.equal(third.sha256, first.sha256, '2 engine threads give the weights of 1');
  });
});
