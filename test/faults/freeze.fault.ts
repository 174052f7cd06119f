/**
 * A frozen worker (SIGSTOP) does not block failover: the job is claimed by another worker within JOB_LOCK_MS + 10 s,
 * also when the freeze catches the worker inside a transaction holding the Job row's lock (Postgres ends that session
 * after PG_IDLE_IN_TX_TIMEOUT_MS, and the claim waits at most PG_LOCK_TIMEOUT_MS per try). Thawed (SIGCONT), the
 * frozen worker finds its lease gone and writes nothing: every row written is audited with the writing session's
 * application_name (test/faults/helpers.ts), and none of the frozen worker's rows is newer than its freeze.
 *
 * Each trial tries to freeze the lease holder while one of its sessions is inside a transaction (it polls
 * pg_stat_activity and stops the process the moment it sees one); whether it caught one is reported per trial.
 * FAULT_FREEZE_TRIALS sets the number of trials (default 5).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Prisma } from '../../src/db/client.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, submitJob, waitForJob, type Installation } from '../training/helpers.js';
import { claimedAfter, faultWorker, holder, installWriteAudit, jobBody, runningAt, seconds, stopWorkers, writesAfter } from './helpers.js';

const TRIALS = Number(process.env.FAULT_FREEZE_TRIALS ?? 5);
/** The defaults of JOB_LOCK_MS and JOB_STALLED_INTERVAL_MS. */
const LOCK_MS = 4000;
const WORKER = { JOB_LOCK_MS: String(LOCK_MS), JOB_STALLED_INTERVAL_MS: '2000' };
/** Writes already on their way to Postgres when the process stopped may land just after. */
const IN_FLIGHT_MS = 250;

describe('a frozen worker', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('faults_freeze');
    await installWriteAudit(own.env.DATABASE_URL);
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'freeze');
    datasetId = await createSpiral(t.services, tenant.id, 2000);
  });

  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGCONT');
    await stopWorkers(workers, 'freeze');
    await t.services.trainingQueue.obliterate({ force: true }).catch(() => undefined);
    await t.close();
    await own.drop();
  });

  /**
   * Stops the worker the moment one of its sessions is past the first statement of a transaction (or after `windowMs`
   * regardless); tells whether the frozen process left a transaction open (`idle in transaction`, holding its locks).
   */
  async function freezeInTransaction(worker: Running, leaseOwner: string, windowMs = 2000): Promise<{ at: Date; inTransaction: boolean }> {
    const app = `trainyard-worker:${leaseOwner}`.slice(0, 63);
    const sessions = (condition: Prisma.Sql) => t.services.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app} AND ${condition}`.then((rows) => rows[0]!.n > 0);
    const deadline = Date.now() + windowMs;
    while (Date.now() < deadline && !(await sessions(Prisma.sql`xact_start < query_start`))) { /* poll */ }
    const at = new Date();
    worker.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 300)); // statements on their way finish
    return { at, inTransaction: await sessions(Prisma.sql`state = 'idle in transaction'`) };
  }

  it(`fails over within JOB_LOCK_MS + 10 s in ${TRIALS} of ${TRIALS} trials, and the thawed worker writes nothing`, async (ctx) => {
    const db = t.services.db;
    for (let i = 0; i < 3; i++) await faultWorker(own, workers, WORKER);
    const job = await submitJob(t.app, tenant, jobBody(datasetId, 4 + 3 * TRIALS));
    const trials: { owner: string; frozenAt: Date; inTransaction: boolean; failoverMs: number; step: number }[] = [];
    let from = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      // Let the current holder train a little (a stored fact: its progress past where it started), then freeze it.
      const at = await runningAt(db, job.id, from + 100);
      const victim = holder(workers, at);
      const frozen = await freezeInTransaction(victim, at.leaseOwner!);
      const [claimed] = await Promise.all([claimedAfter(db, job.id, at.attempt, 120_000), faultWorker(own, workers, WORKER)]);
      const failoverMs = claimed.at - frozen.at.getTime();
      trials.push({ owner: at.leaseOwner!, frozenAt: frozen.at, inTransaction: frozen.inTransaction, failoverMs, step: at.step });
      // Thawed, it finds its lease gone and stops that job without writing; then it goes (a fresh spare replaces it),
      // so that whatever its application_name wrote after the freeze would be a stale write.
      victim.child.kill('SIGCONT');
      await victim.waitFor(/lease lost/, 60_000);
      victim.child.kill('SIGKILL');
      await victim.exited;
      from = (await db.job.findUniqueOrThrow({ where: { id: job.id } })).step;
    }
    const done = await waitForJob(db, job.id, undefined, 300_000);
    assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
    assert.equal(done.attempt, TRIALS + 1);
    assert.equal(await db.metric.count({ where: { jobId: job.id } }), done.totalSteps, 'one metric row per step');

    for (const [i, trial] of trials.entries()) {
      ctx.diagnostic(`trial ${i + 1}: frozen at step ${trial.step}${trial.inTransaction ? ' holding a transaction open' : ''}; another worker claimed the job after ${seconds(trial.failoverMs)}`);
    }
    const slowest = Math.max(...trials.map((x) => x.failoverMs));
    ctx.diagnostic(`failover: slowest ${seconds(slowest)} (bound JOB_LOCK_MS + 10 s = ${seconds(LOCK_MS + 10_000)}); ${trials.filter((x) => x.inTransaction).length} of ${TRIALS} frozen workers held a transaction open`);
    for (const trial of trials) {
      assert.ok(trial.failoverMs <= LOCK_MS + 10_000, `failover took ${trial.failoverMs} ms`);
      const stale = await writesAfter(db, trial.owner, new Date(trial.frozenAt.getTime() + IN_FLIGHT_MS));
      assert.deepEqual(stale, [], `the frozen worker ${trial.owner} wrote after its freeze`);
    }
  });
});
