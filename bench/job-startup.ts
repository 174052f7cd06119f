/**
 * `npx tsx bench/job-startup.ts` — where the time of an MNIST job goes before its first step, through the real
 * service: the API (in this process) and one real worker process against a fresh database. Submits JOBS jobs (default
 * 3) one after the other and prints each one's timeline from the worker's JSON log lines: submitted → claimed ('job
 * started') → inputs loaded (with the worker's own measure of the load) → training started (the trainer's first step
 * follows at once) → finished. The first job of the new worker reads MNIST from Postgres; later ones are served by the
 * worker's dataset cache, unless WORKER_DATASET_CACHE_MB=0 is set, when every job reads Postgres. The machine may be
 * shared: rerun to confirm.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startService } from './service-setup.js';

interface LogLine {
  time: number;
  msg: string;
  jobId?: string;
  ms?: number;
  cache?: { hits: number; misses: number } | null;
}

const JOBS = Number(process.env.JOBS ?? 3);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const service = await startService();
const headers = { authorization: `Bearer ${service.tenant.key}`, 'content-type': 'application/json' };
const worker = spawn(process.execPath, ['--import', 'tsx', 'workers/training-worker.ts'], {
  cwd: ROOT, env: { ...process.env, DATABASE_URL: service.config.databaseUrl, QUEUE_PREFIX: service.config.queuePrefix, LOG_LEVEL: 'debug' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const lines: LogLine[] = [];
let buffered = '';
const waiters: (() => void)[] = [];
worker.stdout.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  let at;
  while ((at = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, at); buffered = buffered.slice(at + 1);
    try { lines.push(JSON.parse(line) as LogLine); } catch { /* not json */ }
    for (const w of waiters.splice(0)) w();
  }
});
/** The worker's first log line `msg` (about `jobId` when given): waits for it as long as it takes. */
const waitFor = (msg: string, jobId?: string) => new Promise<LogLine>((resolve) => {
  const check = () => {
    const l = lines.find((x) => x.msg === msg && (jobId === undefined || x.jobId === jobId));
    if (l) resolve(l); else waiters.push(check);
  };
  check();
});
try {
  await waitFor('worker ready');
  const created = await fetch(`${service.url}/v1/datasets/examples/mnist`, { method: 'POST', headers: { authorization: headers.authorization } });
  const dataset = (await created.json()) as { id: string };
  const rows: Record<string, string | number | undefined>[] = [];
  let misses = 0; // the worker cache's misses so far: one more means this job read Postgres
  for (let n = 0; n < JOBS; n++) {
    const submittedAt = Date.now();
    const submitted = await fetch(`${service.url}/v1/jobs`, {
      method: 'POST', headers,
      body: JSON.stringify({ datasetId: dataset.id, network: { layers: [{ units: 256, activation: 'relu' }] }, training: { epochs: 1, batchSize: 128 } }),
    });
    const job = (await submitted.json()) as { id: string };
    if (!submitted.ok) throw new Error(JSON.stringify(job));
    const claimed = await waitFor('job started', job.id);
    const loaded = await waitFor('job inputs loaded', job.id);
    const started = await waitFor('training started', job.id);
    const finished = await waitFor('job finished', job.id);
    const stored = await service.services.db.job.findUniqueOrThrow({ where: { id: job.id } });
    const firstMetric = await service.services.db.metric.findFirst({ where: { jobId: job.id }, orderBy: { step: 'asc' } });
    const fromPostgres = !loaded.cache || loaded.cache.misses > misses;
    misses = loaded.cache?.misses ?? misses;
    rows.push({
      job: n + 1,
      dataset: fromPostgres ? 'postgres' : 'cache',
      submitToClaimMs: claimed.time - submittedAt,
      claimToInputsLoadedMs: loaded.time - claimed.time,
      loadJobInputsMs: loaded.ms,
      inputsLoadedToTrainingStartedMs: started.time - loaded.time,
      claimToTrainingStartedMs: started.time - claimed.time,
      trainingStartedToFinishedMs: finished.time - started.time,
      status: stored.status, firstMetricStep: firstMetric?.step,
    });
  }
  console.table(rows);
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.on('exit', r));
  await service.close();
}
