/** Helpers of the training-job tests: datasets, posting jobs, real worker processes, waiting for outcomes. */
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { Db, Job, JobStatus } from '../../src/db/client.js';
import { saveDataset } from '../../src/datasets/store.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import type { JobView } from '../../src/routes/jobs/schemas.js';
import type { Services } from '../../src/services.js';
import { dropDatabase, ensureDatabase } from '../../src/db/ensure-database.js';
import { migrate } from '../../src/db/migrations.js';
import { withDatabase } from '../../src/db/postgres-url.js';
import { testConfig, uniqueName, type TestTenant } from '../helpers/app.js';
import { startProcess, type Running } from '../helpers/processes.js';

/** The CS231n spiral (3 arms of n points), stored for the tenant. Returns the dataset id. */
export async function createSpiral(services: Services, tenantId: string, n = 100, seed = 1): Promise<string> {
  const set = generateSynthetic('spiral', { n, classes: 3, noise: 0.2 }, seed);
  const meta = await saveDataset(services.db, tenantId, {
    name: 'spiral', source: 'synthetic', features: 2, featureNames: set.featureNames, targetName: set.targetName,
    task: 'classification', x: set.x, y: set.y as Int32Array, classNames: set.classNames,
  });
  return meta.id;
}

/** A small dataset of `features` columns: regression (y = a noisy linear function) or classification with `classes`. */
export async function createTable(services: Services, tenantId: string, options: { rows: number; features: number; classes?: number; scale?: number }): Promise<string> {
  const { rows, features, classes = 0, scale = 1 } = options;
  const x = new Float32Array(rows * features);
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < x.length; i++) x[i] = next() * scale;
  const score = (r: number) => {
    let v = 0;
    for (let f = 0; f < features; f++) v += (f + 1) * x[r * features + f]!;
    return v;
  };
  if (classes > 0) {
    const y = new Int32Array(rows);
    for (let r = 0; r < rows; r++) y[r] = r % classes === 0 ? 0 : Math.abs(Math.floor(score(r) * 3)) % classes;
    for (let c = 0; c < classes; c++) y[c] = c; // every class present
    return (await saveDataset(services.db, tenantId, { name: 'table', source: 'synthetic', features, task: 'classification', x, y, classNames: Array.from({ length: classes }, (_, c) => `c${c}`) })).id;
  }
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) y[r] = score(r) + next() * 0.1;
  return (await saveDataset(services.db, tenantId, { name: 'table', source: 'synthetic', features, task: 'regression', x, y })).id;
}

export function postJob(app: FastifyInstance, tenant: TestTenant, body: object, query = '') {
  return request(app.server).post(`/v1/jobs${query}`).set(tenant.auth).send(body);
}

export async function submitJob(app: FastifyInstance, tenant: TestTenant, body: object): Promise<JobView> {
  const res = await postJob(app, tenant, body);
  if (res.status !== 201) throw new Error(`POST /v1/jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as JobView;
}

/** What a test file's own installation is: pass `env` to buildTestApp and startWorker. */
export interface Installation {
  env: { DATABASE_URL: string; QUEUE_PREFIX: string };
  drop(): Promise<void>;
}

/**
 * A database and a queue namespace of the test file's own, migrated: workers (and their reconcilers, which look at
 * every queued or running job of the database) never see the jobs of concurrently running test files.
 */
export async function ownInstallation(name: string): Promise<Installation> {
  const base = testConfig().databaseUrl;
  const databaseUrl = withDatabase(base, uniqueName(`ty_${name}`).replaceAll('-', '_').toLowerCase());
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  return { env: { DATABASE_URL: databaseUrl, QUEUE_PREFIX: uniqueName(`ty-${name}`) }, drop: () => dropDatabase(databaseUrl) };
}

/** Worker settings for tests: one engine thread (2 shared cores), fast stall detection, quiet unless asked. */
export const WORKER_ENV = {
  ENGINE_THREADS: '1',
  JOB_LOCK_MS: '2000',
  JOB_STALLED_INTERVAL_MS: '1000',
  RECONCILE_INTERVAL_MS: '60000',
  LOG_LEVEL: 'info',
};

export async function startWorker(installation: Installation, env: Record<string, string> = {}): Promise<Running> {
  const worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...installation.env, ...env });
  await worker.waitFor(/worker ready/, 120_000);
  return worker;
}

const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Polls Postgres until the job is in one of `statuses` (default: any terminal one). */
export async function waitForJob(db: Db, jobId: string, statuses: readonly JobStatus[] = TERMINAL, timeoutMs = 120_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is still ${job.status} (step ${job.step}) after ${timeoutMs} ms; expected ${statuses.join('/')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until `check` returns a value (not undefined). */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The whole metric curve of a job, without the wall-clock column. */
export async function metricCurve(db: Db, jobId: string) {
  const rows = await db.metric.findMany({ where: { jobId }, orderBy: { step: 'asc' } });
  return rows.map(({ samplesPerSec: _s, createdAt: _c, ...rest }) => rest);
}
