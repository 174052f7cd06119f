/**
 * A worker with WORKER_CONCURRENCY=2 trains two jobs side by side (their stored running intervals overlap), each on
 * its own trainer thread kept between jobs and with the dataset read once (the worker's dataset cache), and the same
 * spec and seed still give the same weights to the bit — beside each other, and compared with a later job on a
 * reused trainer thread.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, type Installation } from './helpers.js';

const SPEC = {
  network: { layers: [{ units: 64, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 60, batchSize: 16, seed: 7 },
};

describe('a worker running two jobs at once (WORKER_CONCURRENCY=2)', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  let worker: Running | undefined;

  before(async () => {
    own = await ownInstallation('concurrency');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'concurrency');
    spiralId = await createSpiral(t.services, tenant.id);
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('trains both at once, and the same seed gives the same bits', async () => {
    // Both jobs wait in the queue before the worker starts, so it takes them together.
    const a = await submitJob(t.app, tenant, { datasetId: spiralId, ...SPEC });
    const b = await submitJob(t.app, tenant, { datasetId: spiralId, ...SPEC });
    worker = await startWorker(own, { WORKER_CONCURRENCY: '2', LOG_LEVEL: 'debug' });
    const [doneA, doneB] = await Promise.all([waitForJob(t.services.db, a.id), waitForJob(t.services.db, b.id)]);
    for (const done of [doneA, doneB]) assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    assert.ok(
      doneA.startedAt! < doneB.finishedAt! && doneB.startedAt! < doneA.finishedAt!,
      `the two jobs ran at the same time (a ${doneA.startedAt!.toISOString()}–${doneA.finishedAt!.toISOString()}, b ${doneB.startedAt!.toISOString()}–${doneB.finishedAt!.toISOString()})`,
    );

    // A third job with the same spec runs on a trainer thread that already ran one, with the dataset from the cache.
    const c = await submitJob(t.app, tenant, { datasetId: spiralId, ...SPEC });
    const doneC = await waitForJob(t.services.db, c.id);
    assert.equal(doneC.status, 'succeeded');

    const weights = await Promise.all([a, b, c].map(async (job) => (await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } })).weights));
    assert.ok(Buffer.from(weights[0]!).equals(Buffer.from(weights[1]!)), 'side by side: the same bits');
    assert.ok(Buffer.from(weights[0]!).equals(Buffer.from(weights[2]!)), 'on a reused trainer thread: the same bits');

    // The worker read the dataset from Postgres once; every later load (3 jobs, more if one was retried) was a cache hit.
    const loads = [...worker.output().matchAll(/"msg":"job inputs loaded"/g)].length;
    assert.ok(loads >= 3, `${loads} loads logged`);
    const lastStats = [...worker.output().matchAll(/"cache":\{"hits":(\d+),"misses":(\d+)/g)].at(-1)!;
    assert.deepEqual([Number(lastStats[1]), Number(lastStats[2])], [loads - 1, 1], 'one read from Postgres, the rest cache hits');
  });
});
