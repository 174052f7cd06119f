/**
 * Postgres over Redis: jobs Postgres calls queued or running that BullMQ lost are enqueued again (and finish), live
 * leases are left alone, and a job BullMQ gave up on becomes failed in Postgres.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { reconcileOnce } from '../../src/queue/reconciler.js';
import { createRedis } from '../../src/queue/redis.js';
import { TRAINING_QUEUE } from '../../src/queue/training-queue.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, type Installation, startWorker, submitJob, waitForJob, waitUntil } from './helpers.js';

describe('reconciler', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('reconciler');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'reconcile');
    spiralId = await createSpiral(t.services, tenant.id, 30);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('re-enqueues queued and orphaned running jobs that Redis lost, leaves live leases alone, and fails what BullMQ gave up on', async () => {
    const { db, trainingQueue } = t.services;
    const [queued, orphaned, alive, gaveUp] = await Promise.all([0, 1, 2, 3].map(() => submitJob(t.app, tenant, { datasetId: spiralId, training: { epochs: 2 } })));
    // BullMQ gives up on one job: a consumer that fails it for good.
    const connection = createRedis(t.config.redisUrl, { name: 'test-failer', blocking: true });
    await Promise.all([queued, orphaned, alive].map((j) => trainingQueue.remove(j!.id)));
    const failer = new Worker(TRAINING_QUEUE, async () => {
      throw new UnrecoverableError('the disk is on fire');
    }, { connection, prefix: t.config.queuePrefix });
    await waitForState(gaveUp!.id, 'failed');
    await failer.close();
    connection.disconnect();
    // Redis lost the other three; Postgres says one is queued and two are running, one of them with a live lease.
    const past = new Date(Date.now() - 60_000);
    await db.job.update({ where: { id: orphaned!.id }, data: { status: 'running', attempt: 1, leaseOwner: 'dead', leaseExpiresAt: past } });
    await db.job.update({ where: { id: alive!.id }, data: { status: 'running', attempt: 1, leaseOwner: 'alive', leaseExpiresAt: new Date(Date.now() + 60_000) } });

    assert.equal((await reconcileOnce(db, trainingQueue, { minAgeMs: 60_000 })).checked, 0, 'rows younger than minAgeMs are left alone');
    const report = await reconcileOnce(db, trainingQueue);
    assert.deepEqual(new Set(report.requeued), new Set([queued!.id, orphaned!.id]));
    assert.deepEqual(report.failed, [gaveUp!.id]);
    // Waiting, or prioritized behind the tenant's older live jobs (src/queue/priority.ts).
    for (const j of [queued!, orphaned!]) assert.match(await trainingQueue.getJobState(j.id), /^(waiting|prioritized)$/);
    assert.equal(await trainingQueue.getJobState(alive!.id), 'unknown');
    const failed = await db.job.findUniqueOrThrow({ where: { id: gaveUp!.id } });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failureCode, 'QUEUE_GAVE_UP');
    assert.match(failed.failureReason!, /the disk is on fire/);
    assert.deepEqual((await reconcileOnce(db, trainingQueue)).requeued, [], 'a second pass finds nothing to do');
    await db.job.update({ where: { id: alive!.id }, data: { status: 'cancelled' } });
  });

  it('a worker reconciles (at start and then periodically): a job flushed from Redis is enqueued again and finishes', async () => {
    const job = await submitJob(t.app, tenant, { datasetId: spiralId, training: { epochs: 3, seed: 1 } });
    await t.services.trainingQueue.obliterate({ force: true }); // Redis forgets everything of this queue
    assert.equal(await t.services.trainingQueue.getJobState(job.id), 'unknown');
    const worker = await startWorker(own, { RECONCILE_INTERVAL_MS: '500' });
    workers.push(worker);
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
    assert.match(worker.output(), /reconciler: repaired jobs Redis had lost/);
  });

  /** A final state (BullMQ keeps it): waiting for it cannot miss it. */
  async function waitForState(id: string, state: string): Promise<void> {
    await waitUntil(`BullMQ job ${id} to become ${state}`, async () => ((await t.services.trainingQueue.getJobState(id)) === state ? true : undefined));
  }
});
