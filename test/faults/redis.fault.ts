/**
 * Redis forgets: FLUSHALL mid-training, and a Redis restart without persistence after an outage longer than the job
 * lock (FAULT_REDIS_DOWN_MS, default 10 s). Postgres is the source of truth: running jobs go on under their Postgres
 * lease, queued ones are enqueued again by the workers' reconcilers, and every job finishes, none failed.
 * And Redis away as long with its data kept: the jobs' BullMQ locks expire, so BullMQ offers them again as stalled;
 * a free worker's claim takes the lease over and the previous holder stops without writing. Every job finishes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../../src/db/client.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, submitJob, waitForJob, type Installation } from '../training/helpers.js';
import { killRedis, redisCommand, startRedis, stopRedis, suiteRedis } from './infra.js';
import { faultWorker, jobBody, runningAt, seconds, stopWorkers } from './helpers.js';

const DOWN_MS = Number(process.env.FAULT_REDIS_DOWN_MS ?? 10_000);

describe('Redis loses everything', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let datasetId: string;
  const workers: Running[] = [];
  const redis = suiteRedis();
  /** Training speed on this machine now, measured by the first test (jobs must outlast an outage, not just the wait). */
  let stepsPerSecond = 130;

  before(async () => {
    own = await ownInstallation('faults_redis');
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'redis');
    datasetId = await createSpiral(t.services, tenant.id, 2000);
    await faultWorker(own, workers);
    await faultWorker(own, workers);
  });

  after(async () => {
    await stopWorkers(workers, 'redis');
    await t.services.trainingQueue.obliterate({ force: true }).catch(() => undefined);
    await t.close();
    await own.drop();
  });

  /** Jobs of these epochs, submitted in order; resolves once the first trains. */
  async function jobs(...epochs: number[]): Promise<string[]> {
    const ids: string[] = [];
    for (const e of epochs) ids.push((await submitJob(t.app, tenant, jobBody(datasetId, e))).id);
    await runningAt(t.services.db, ids[0]!, 100);
    return ids;
  }

  async function allSucceed(ids: string[], since: number): Promise<string[]> {
    const figures: string[] = [];
    for (const id of ids) {
      const done: Job = await waitForJob(t.services.db, id, undefined, 300_000);
      assert.equal(done.status, 'succeeded', `${done.status}: ${done.failureReason}`);
      figures.push(`${id.slice(0, 8)} succeeded ${seconds(done.finishedAt!.getTime() - since)} after the fault (claimed ${done.attempt}×)`);
    }
    return figures;
  }

  it('FLUSHALL mid-training: every job finishes', async (ctx) => {
    const ids = await jobs(6, 6, 6); // two train, one waits
    const flushedAt = Date.now();
    assert.equal(await redisCommand(redis.port, 'FLUSHALL'), 'OK');
    for (const f of await allSucceed(ids, flushedAt)) ctx.diagnostic(`FLUSHALL: ${f}`);
    // Steps stored per second while two jobs trained side by side, as they will in the tests below: the fastest second
    // of the run, not its mean, since a machine busy now may be quiet during the outage (jobs sized from a slow moment
    // would end before Redis is back).
    const rows = await t.services.db.metric.findMany({ where: { jobId: ids[0]! }, orderBy: { step: 'asc' }, select: { step: true, createdAt: true } });
    stepsPerSecond = peakRate(rows.map((r) => ({ step: r.step, at: r.createdAt.getTime() })), 1000) ?? stepsPerSecond;
    ctx.diagnostic(`training speed: ${Math.round(stepsPerSecond)} steps a second per job (the fastest second)`);
  });

  /** Epochs (of 150 steps) that take at least 1.3 × (`ms` + 5 s) at the measured speed. */
  const outlasting = (ms: number) => Math.ceil((stepsPerSecond * 1.3 * (ms / 1000 + 5)) / 150);

  /** The jobs were still training when Redis came back: they went on through the outage and after it. */
  async function trainedAcross(ids: string[], upAt: number): Promise<void> {
    for (const id of ids) {
      const done = await t.services.db.job.findUniqueOrThrow({ where: { id } });
      assert.ok(done.finishedAt!.getTime() > upAt, `job ${id} finished before Redis was back: make it longer`);
    }
  }

  it(`a restart without persistence after ${seconds(DOWN_MS)} down: every job finishes`, async (ctx) => {
    const ids = await jobs(outlasting(DOWN_MS), outlasting(DOWN_MS), 2); // two train through the outage, one waits
    await killRedis(redis);
    const downAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await startRedis(redis.port);
    const upAt = Date.now();
    ctx.diagnostic(`Redis down for ${seconds(upAt - downAt)}, restarted empty`);
    for (const f of await allSucceed(ids, downAt)) ctx.diagnostic(`restart: ${f}`);
    await trainedAcross(ids.slice(0, 2), upAt);
  });

  it(`away for ${seconds(DOWN_MS)} with its data kept: stalled jobs are taken over safely and every job finishes`, async (ctx) => {
    await faultWorker(own, workers); // a free worker, to take a stalled job over
    const logged = new Map(workers.map((w) => [w, w.output().length]));
    const ids = await jobs(outlasting(DOWN_MS), outlasting(DOWN_MS));
    await runningAt(t.services.db, ids[1]!, 100);
    await stopRedis(redis);
    const downAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await startRedis(redis.port, { keepData: true });
    const upAt = Date.now();
    ctx.diagnostic(`Redis down for ${seconds(upAt - downAt)}, restarted with its data`);
    for (const f of await allSucceed(ids, downAt)) ctx.diagnostic(`outage: ${f}`);
    await trainedAcross(ids, upAt);
    for (const id of ids) {
      const done = await t.services.db.job.findUniqueOrThrow({ where: { id } });
      assert.equal(await t.services.db.metric.count({ where: { jobId: id } }), done.totalSteps, 'one metric row per step');
    }
    const lost = workers.reduce((n, w) => n + (w.output().slice(logged.get(w) ?? 0).match(/lease lost/g)?.length ?? 0), 0);
    ctx.diagnostic(`outage: ${lost} worker(s) found their lease taken over and stopped without writing`);
  });
});

/** The most steps per second over any span of at least `spanMs` in a job's stored steps (null: the job was shorter). */
function peakRate(rows: readonly { step: number; at: number }[], spanMs: number): number | null {
  let best: number | null = null;
  let j = 0;
  for (let i = 0; i < rows.length; i++) {
    while (j < rows.length && rows[j]!.at - rows[i]!.at < spanMs) j++;
    if (j === rows.length) break;
    const rate = ((rows[j]!.step - rows[i]!.step) * 1000) / (rows[j]!.at - rows[i]!.at);
    if (best === null || rate > best) best = rate;
  }
  return best;
}
