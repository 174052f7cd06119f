/**
 * Postgres goes away mid-training (`pg_ctlcluster … stop -m fast`) for FAULT_PG_DOWN_MS (default 30 s) and comes
 * back. The workers pause their jobs and retry with backoff; when Postgres is back they continue under the same lease
 * (no new claim, no BullMQ attempt used) and every job finishes. The API answers 503 while Postgres is away (never
 * 500) and 2xx again by itself afterwards. An outage longer than INFRA_FAILURE_BUDGET_MS gives the attempt up, and the
 * job is requeued (BullMQ retries it), not failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERRORS } from '../../src/errors.js';
import { isTransient } from '../../src/infra/errors.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, submitJob, waitUntil, type Installation } from '../training/helpers.js';
import { startCluster, stopCluster, suiteCluster } from './infra.js';
import { faultWorker, jobBody, runningAt, seconds, stopWorkers } from './helpers.js';

const DOWN_MS = Number(process.env.FAULT_PG_DOWN_MS ?? 30_000);

describe('a Postgres outage', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  let base: string;
  const workers: Running[] = [];
  const cluster = suiteCluster();

  before(async () => {
    own = await ownInstallation('faults_postgres');
    t = await buildTestApp({ ...own.env });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'postgres');
    datasetId = await createSpiral(t.services, tenant.id, 2000);
    await faultWorker(own, workers);
    await faultWorker(own, workers);
  });

  after(async () => {
    await startCluster(cluster).catch(() => undefined);
    await stopWorkers(workers, 'postgres');
    await t.services.trainingQueue.obliterate({ force: true }).catch(() => undefined);
    await t.close();
    await own.drop();
  });

  /** Reads through the test's own client, riding out the errors of a connection that broke with the outage. */
  async function job(id: string) {
    for (;;) {
      try {
        return await t.services.db.job.findUniqueOrThrow({ where: { id } });
      } catch (error) {
        if (!isTransient(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  const api = async (method: 'GET' | 'POST', path: string, body?: object): Promise<{ status: number; code?: string; retryAfter: string | null }> => {
    const res = await fetch(`${base}${path}`, {
      method, headers: { authorization: tenant.auth.authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json().catch(() => ({}))) as { code?: string };
    return { status: res.status, code: json.code, retryAfter: res.headers.get('retry-after') };
  };

  it(`down for ${seconds(DOWN_MS)} mid-training: every job finishes under its first lease; the API answers 503, then 2xx`, async (ctx) => {
    // Two jobs train (two workers), a third waits.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submitJob(t.app, tenant, jobBody(datasetId, 10))).id);
    await Promise.all(ids.slice(0, 2).map((id) => runningAt(t.services.db, id, 100)));

    const downAt = Date.now();
    await stopCluster(cluster);
    const during: { status: number; code?: string; retryAfter: string | null }[] = [];
    while (Date.now() - downAt < DOWN_MS) {
      during.push(await api('GET', `/v1/jobs/${ids[0]}`), await api('POST', '/v1/jobs', jobBody(datasetId, 1)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await startCluster(cluster);
    // When it accepted connections again: the server's own start time.
    const upAt = (await waitUntil('a connection', async () => {
      try {
        return (await t.services.db.$queryRaw<{ at: Date }[]>`SELECT pg_postmaster_start_time() AS at`)[0]!.at.getTime();
      } catch (error) {
        if (!isTransient(error)) throw error;
        return undefined;
      }
    }, 60_000, 100));
    ctx.diagnostic(`Postgres down for ${seconds(upAt - downAt)}`);

    const recovered = await waitUntil('the API to answer 2xx again', async () => {
      const res = await api('GET', `/v1/jobs/${ids[0]}`);
      return res.status < 300 ? Date.now() : undefined;
    }, 60_000, 100);
    ctx.diagnostic(`API: ${during.length} requests during the outage answered ${[...new Set(during.map((r) => `${r.status} ${r.code ?? ''}`.trim()))].join(', ')}; 2xx again ${seconds(recovered - upAt)} after Postgres was back`);

    for (const id of ids) {
      const done = await waitUntil(`job ${id} to finish`, async () => {
        const row = await job(id);
        return ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      }, 300_000, 100);
      assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
      const bull = await t.services.trainingQueue.getJob(id);
      assert.equal(bull?.failedReason, undefined, 'no BullMQ attempt failed');
      ctx.diagnostic(`job ${id.slice(0, 8)}: succeeded ${seconds(done.finishedAt!.getTime() - upAt)} after Postgres was back, claimed ${done.attempt}×`);
    }
    for (const id of ids.slice(0, 2)) assert.equal((await job(id)).attempt, 1, 'the jobs that trained through the outage kept their first lease');

    // The workers' log lines "database is back" (src/training/job-run.ts): when each resumed writing, after how long a wait.
    const resumed = workers.flatMap((w) => w.output().split('\n').filter((line) => line.includes('"msg":"database is back'))
      .map((line) => JSON.parse(line) as { time: number; waitedMs: number; what: string }));
    for (const r of resumed) ctx.diagnostic(`a worker's ${r.what} write went through ${seconds(r.time - upAt)} after Postgres was back (it had waited ${seconds(r.waitedMs)})`);
    assert.ok(resumed.length >= 2, 'both training workers waited the outage out');

    // The API's answers during the outage: 503 with Retry-After (src/http: DATABASE_UNAVAILABLE), never a 500.
    if ('DATABASE_UNAVAILABLE' in ERRORS) {
      for (const r of during) {
        assert.equal(r.status, 503, JSON.stringify(r));
        assert.ok(r.code === 'DATABASE_UNAVAILABLE' || r.code === 'QUEUE_UNAVAILABLE', JSON.stringify(r));
        assert.ok(r.retryAfter, 'Retry-After');
      }
    } else {
      ctx.diagnostic('the API has no DATABASE_UNAVAILABLE code yet: its answers during the outage are reported, not asserted');
    }
  });

  it('an outage longer than INFRA_FAILURE_BUDGET_MS gives the attempt up; the job is requeued, not failed', async (ctx) => {
    await stopWorkers(workers.splice(0), 'postgres');
    const worker = await faultWorker(own, workers, { INFRA_FAILURE_BUDGET_MS: '2000', INFRA_RETRY_MAX_MS: '500' });
    const id = (await submitJob(t.app, tenant, jobBody(datasetId, 6))).id;
    const at = await runningAt(t.services.db, id, 100);
    const downAt = Date.now();
    await stopCluster(cluster);
    await worker.waitFor(/gave up after waiting/, 60_000);
    const gaveUpAt = Date.now();
    await startCluster(cluster); // BullMQ's retry comes a second later (backoff), and its claim waits the rest out
    const done = await waitUntil(`job ${id} to finish`, async () => {
      const row = await job(id);
      return ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
    }, 300_000, 100);
    assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
    assert.ok(done.attempt > at.attempt, 'the job was claimed again after the attempt was given up');
    const bull = await t.services.trainingQueue.getJob(id);
    assert.ok((bull?.attemptsMade ?? 0) >= 2, 'BullMQ counted the given-up attempt and retried');
    ctx.diagnostic(`budget 2 s: the attempt was given up ${seconds(gaveUpAt - downAt)} into the outage; the job succeeded after ${done.attempt} claims (BullMQ attempts made: ${bull?.attemptsMade})`);
  });
});
