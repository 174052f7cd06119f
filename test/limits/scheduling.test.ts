/**
 * Scheduling between tenants in real worker processes, asserted on stored facts (Postgres' startedAt/finishedAt and
 * attempt, BullMQ's attempt counters), never on sampled positions:
 *   - MAX_RUNNING_JOBS_PER_TENANT: with a limit of 1 and two idle workers, a tenant's jobs run one after the other;
 *     the one held back waits (longer than its attempt budget) without losing an attempt, then succeeds.
 *   - Fairness: with one worker, another tenant's single job overtakes a tenant's burst of 20, waiting for at most the
 *     job in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import type { Job } from '../../src/db/client.js';
import { TRAINING_ATTEMPTS } from '../../src/queue/enqueue-training.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, waitUntil, type Installation } from '../training/helpers.js';

/** A job of a second or so. */
const SHORT = { network: { layers: [{ units: 16 }] }, training: { epochs: 30, batchSize: 32, seed: 1 }, metrics: { everySteps: 50 } };
/** A job that trains until it is cancelled. */
const LONG = { network: { layers: [{ units: 64 }] }, training: { epochs: 100_000, batchSize: 32, seed: 2 }, metrics: { everySteps: 50 } };
/** A job that is over in a moment. */
const TINY = { network: { layers: [{ units: 4 }] }, training: { epochs: 1, batchSize: 32, seed: 3 }, metrics: { everySteps: 50 } };

const overlap = (a: Job, b: Job) => a.startedAt! < b.finishedAt! && b.startedAt! < a.finishedAt!;

describe('MAX_RUNNING_JOBS_PER_TENANT=1 with two workers', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('running');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'running');
    spiralId = await createSpiral(t.services, tenant.id, 100);
    const env = { MAX_RUNNING_JOBS_PER_TENANT: '1' };
    workers.push(...(await Promise.all([startWorker(own, env), startWorker(own, env)])));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await t.services.trainingQueue.obliterate({ force: true });
    await t.close();
    await own.drop();
  });

  it("a tenant's two jobs never run at the same time, and both succeed on their first attempt", async (ctx) => {
    const a = await submitJob(t.app, tenant, { datasetId: spiralId, ...SHORT });
    const b = await submitJob(t.app, tenant, { datasetId: spiralId, ...SHORT });
    const [ja, jb] = [await waitForJob(t.services.db, a.id), await waitForJob(t.services.db, b.id)];
    assert.deepEqual([ja.status, jb.status], ['succeeded', 'succeeded'], `${ja.failureReason} ${jb.failureReason}`);
    assert.ok(!overlap(ja, jb), `ran together: ${ja.startedAt?.toISOString()}–${ja.finishedAt?.toISOString()} and ${jb.startedAt?.toISOString()}–${jb.finishedAt?.toISOString()}`);
    assert.deepEqual([ja.attempt, jb.attempt], [1, 1], 'one claim each');
    // Postgres says succeeded a moment before BullMQ marks the job completed: wait for BullMQ's own record.
    const queued = await Promise.all([a, b].map((j) => completedInQueue(t, j.id)));
    assert.deepEqual(queued.map((q) => q.attemptsMade), [1, 1], 'BullMQ counted one attempt each');
    ctx.diagnostic(`offered ${queued.map((q) => q.attemptsStarted).join(' and ')} times; ran ${ja.finishedAt!.getTime() - ja.startedAt!.getTime()} and ${jb.finishedAt!.getTime() - jb.startedAt!.getTime()} ms`);
  });

  it('a job held back for longer than its attempt budget is still queued with no attempt spent, and runs once the slot frees', async () => {
    const { db, trainingQueue } = t.services;
    const long = await submitJob(t.app, tenant, { datasetId: spiralId, ...LONG });
    await waitForJob(db, long.id, ['running']);
    const held = await submitJob(t.app, tenant, { datasetId: spiralId, ...SHORT });
    // The idle worker takes it again and again (BullMQ counts each start), and each time puts it back.
    await waitUntil(`job ${held.id} offered more than ${TRAINING_ATTEMPTS} times`, async () => {
      const q = await trainingQueue.getJob(held.id);
      return q && q.attemptsStarted > TRAINING_ATTEMPTS ? q : undefined;
    }, 120_000, 100);
    const waiting = await db.job.findUniqueOrThrow({ where: { id: held.id } });
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.attempt, 0);
    assert.equal(waiting.startedAt, null);
    const q = (await trainingQueue.getJob(held.id))!;
    assert.equal(q.attemptsMade, 0, 'waiting spent no BullMQ attempt');
    assert.notEqual(await q.getState(), 'failed');

    await request(t.app.server).post(`/v1/jobs/${long.id}/cancel`).set(tenant.auth).expect(202);
    const stopped = await waitForJob(db, long.id);
    const done = await waitForJob(db, held.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
    assert.equal(done.attempt, 1);
    assert.ok(done.startedAt! >= stopped.finishedAt!, 'started after the other job stopped');
    assert.equal((await completedInQueue(t, held.id)).attemptsMade, 1);
  });
});

/**
 * The BullMQ job once BullMQ has recorded it completed (it does so just after the worker's last Postgres write). The
 * state is read first and the job after it: a job read before its state could predate the completion that the state
 * then shows, with its attempt not yet counted.
 */
async function completedInQueue(t: TestApp, id: string) {
  const { trainingQueue } = t.services;
  await waitUntil(`BullMQ job ${id} completed`, async () => ((await trainingQueue.getJobState(id)) === 'completed' ? true : undefined), 120_000, 50);
  const q = await trainingQueue.getJob(id);
  assert.ok(q, `BullMQ job ${id} is gone`);
  return q;
}

describe('fair scheduling between tenants, one worker', () => {
  let own: Installation;
  let t: TestApp;
  let worker: Running;

  before(async () => {
    own = await ownInstallation('fairness');
    t = await buildTestApp({ ...own.env });
    worker = await startWorker(own);
  });

  after(async () => {
    await worker.stop('SIGKILL');
    await t.services.trainingQueue.obliterate({ force: true });
    await t.close();
    await own.drop();
  });

  it("another tenant's single job overtakes a burst of 20, waiting for at most the job in flight", async (ctx) => {
    const { db } = t.services;
    const a = await createTenant(t.services, 'burst');
    const b = await createTenant(t.services, 'single');
    const [spiralA, spiralB] = await Promise.all([createSpiral(t.services, a.id, 30), createSpiral(t.services, b.id, 30)]);
    const burst = [];
    for (let i = 0; i < 20; i++) burst.push(await submitJob(t.app, a, { datasetId: spiralA, ...TINY }));
    const single = await submitJob(t.app, b, { datasetId: spiralB, ...TINY });
    const done = await waitForJob(db, single.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');

    const rows = await db.job.findMany({ where: { id: { in: burst.map((j) => j.id) } } });
    // Finished after B was submitted and before it started: the one in flight (and, at most, the one a worker took
    // between B's row and B's enqueue).
    const ahead = rows.filter((r) => r.finishedAt && r.finishedAt > done.createdAt && r.finishedAt <= done.startedAt!);
    const overtaken = rows.filter((r) => !r.startedAt || r.startedAt > done.startedAt!);
    ctx.diagnostic(`B waited for ${ahead.length} of A's jobs and overtook ${overtaken.length}`);
    assert.ok(ahead.length <= 2, `B waited for ${ahead.length} of A's jobs`);
    assert.ok(overtaken.length >= 1, "B ran before the end of A's burst");
    // The rest of the burst is not needed.
    await Promise.all(rows.filter((r) => r.status === 'queued').map((r) => request(t.app.server).post(`/v1/jobs/${r.id}/cancel`).set(a.auth)));
  });
});
