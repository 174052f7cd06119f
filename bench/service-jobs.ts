/**
 * Many small jobs through the real service (`npm run bench:service -- --only jobs`): the API in this process, one real
 * worker process (WORKER_CONCURRENCY jobs at once), a fresh database.
 *
 *   1. a sweep's worth of jobs: `jobs` CS231n spiral networks (2-100-3 ReLU softmax, SGD 1.0, L2 1e-3, full batch of the
 *      300 rows, `steps` steps each) submitted through POST /v1/jobs at once and run to a model; wall time from the
 *      first submit to the last model, beside a Python loop training the same networks with PyTorch in the same run
 *      (bench/spiral-jobs.py; target: Trainyard ≤ 0.5× PyTorch's wall time);
 *   2. latency: one tiny job (2-10-3, 10 steps) at a time, `latencyRuns` times: submit-to-succeeded from the stored
 *      facts (Job.createdAt → Job.finishedAt; target p50 ≤ 300 ms).
 * A breakdown of the jobs phase goes to stderr (and into the JSON): per-job queue and run medians, the time a worker
 * slot spends between two jobs, rows stored, the bench database's transactions and Redis commands.
 * Diagnostics: BENCH_WORKER_NODE_ARGS adds node flags to the worker (`--cpu-prof --cpu-prof-dir=/tmp/prof`: a profile
 * per thread), BENCH_WORKER_LOG_LEVEL shows its log (e.g. `debug`: job timelines) on stdout.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PYTHON } from './python-baseline.js';
import type { BenchService } from './service-setup.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface JobsOptions {
  jobs: number;
  steps: number;
  concurrency: number;
  latencyRuns: number;
}

export interface JobsResult extends JobsOptions {
  trainyardWallS: number;
  torch: { wallS: number; threads: number; version: string } | { skipped: string };
  ratio: number | null;
  latency: { p50Ms: number; p90Ms: number; maxMs: number; runs: number };
  /** Where the jobs phase went (diagnostics, from stored facts and server counters). */
  breakdown: JobsBreakdown;
}

export interface JobsBreakdown {
  /** Per job, medians: submit → claimed (Job.startedAt), claimed → finished. */
  queuedMsP50: number;
  runMsP50: number;
  /** Start of the i-th job (by claim time) after the end of the (i − concurrency)-th: a worker slot's time between jobs. */
  handoverMsP50: number;
  /** Rows stored for the jobs: metrics records, checkpoints. */
  metricsRows: number;
  checkpointRows: number;
  /** The bench database's counters over the jobs phase (pg_stat_database: committed transactions, rows written). */
  pgTransactions: number;
  pgRowsWritten: number;
  /** Redis commands over the jobs phase (INFO commandstats; server-wide, so other clients count too): publish, all. */
  redisPublishes: number;
  redisCommands: number;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function measureJobs(service: BenchService, options: JobsOptions): Promise<JobsResult> {
  // BENCH_WORKER_NODE_ARGS: extra node flags for the worker process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'workers/training-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: service.config.databaseUrl, QUEUE_PREFIX: service.config.queuePrefix, LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn', WORKER_CONCURRENCY: String(options.concurrency) },
    stdio: ['ignore', process.env.BENCH_WORKER_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  try {
    const headers = { authorization: `Bearer ${service.tenant.key}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown): Promise<{ id: string }> => {
      const response = await fetch(`${service.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const json = (await response.json()) as { id: string };
      if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };
    const dataset = await post('/v1/datasets/synthetic', { kind: 'spiral', n: 100, classes: 3, seed: 1 });
    const db = service.services.db;
    const allDone = async (ids: string[]): Promise<void> => {
      for (;;) {
        const open = await db.job.count({ where: { id: { in: ids }, status: { in: ['queued', 'running'] } } });
        if (open === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const failed = await db.job.findMany({ where: { id: { in: ids }, status: { not: 'succeeded' } }, select: { status: true, failureReason: true } });
      if (failed.length) throw new Error(`${failed.length} jobs did not succeed: ${JSON.stringify(failed[0])}`);
    };

    // warm-up: the worker's first job (thread start, kernels)
    await allDone([(await post('/v1/jobs', tinyJob(dataset.id))).id]);

    const spec = {
      datasetId: dataset.id,
      network: { layers: [{ units: 100, activation: 'relu' }] },
      optimizer: { type: 'sgd', learningRate: 1 },
      regularization: { l2: 1e-3 },
      training: { epochs: options.steps, batchSize: 300, validationFraction: 0 },
    };
    const pgBefore = await pgCounters(service), redisBefore = await redisCounters(service);
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: options.jobs }, (_, i) => post('/v1/jobs', { ...spec, training: { ...spec.training, seed: i + 1 } }).then((j) => j.id)));
    await allDone(ids);
    const trainyardWallS = (performance.now() - started) / 1000;
    const pgAfter = await pgCounters(service), redisAfter = await redisCounters(service);
    const facts = await db.job.findMany({ where: { id: { in: ids } }, select: { createdAt: true, startedAt: true, finishedAt: true } });
    const median = (xs: number[]): number => quantile(xs.sort((a, b) => a - b), 0.5);
    const breakdown: JobsBreakdown = {
      queuedMsP50: median(facts.map((f) => f.startedAt!.getTime() - f.createdAt.getTime())),
      runMsP50: median(facts.map((f) => f.finishedAt!.getTime() - f.startedAt!.getTime())),
      handoverMsP50: handover(facts.map((f) => f.startedAt!.getTime()), facts.map((f) => f.finishedAt!.getTime()), options.concurrency),
      metricsRows: await db.metric.count({ where: { jobId: { in: ids } } }),
      checkpointRows: await db.checkpoint.count({ where: { jobId: { in: ids } } }),
      pgTransactions: pgAfter.transactions - pgBefore.transactions,
      pgRowsWritten: pgAfter.rowsWritten - pgBefore.rowsWritten,
      redisPublishes: redisAfter.publish - redisBefore.publish,
      redisCommands: redisAfter.all - redisBefore.all,
    };
    process.stderr.write(`jobs breakdown: ${JSON.stringify(breakdown)}\n`);

    const latencies: number[] = [];
    for (let i = 0; i < options.latencyRuns; i++) {
      const { id } = await post('/v1/jobs', tinyJob(dataset.id));
      await allDone([id]);
      const job = await db.job.findUniqueOrThrow({ where: { id }, select: { createdAt: true, finishedAt: true } });
      latencies.push(job.finishedAt!.getTime() - job.createdAt.getTime());
    }
    latencies.sort((a, b) => a - b);

    const torch = await torchLoop(options);
    return {
      ...options, trainyardWallS, torch,
      ratio: 'wallS' in torch ? trainyardWallS / torch.wallS : null,
      latency: { p50Ms: quantile(latencies, 0.5), p90Ms: quantile(latencies, 0.9), maxMs: latencies.at(-1)!, runs: latencies.length },
      breakdown,
    };
  } finally {
    worker.kill('SIGTERM');
    await exited;
  }
}

function handover(starts: number[], finishes: number[], slots: number): number {
  starts.sort((a, b) => a - b);
  finishes.sort((a, b) => a - b);
  const gaps = starts.slice(slots).map((start, i) => start - finishes[i]!).sort((a, b) => a - b);
  return gaps.length ? quantile(gaps, 0.5) : 0;
}

/** Committed transactions and rows written in the bench's own database (a fresh one: nobody else writes to it). */
async function pgCounters(service: BenchService): Promise<{ transactions: number; rowsWritten: number }> {
  const rows = await service.services.db.$queryRaw<{ transactions: bigint; written: bigint }[]>`
    SELECT xact_commit AS transactions, tup_inserted + tup_updated + tup_deleted AS written FROM pg_stat_database WHERE datname = current_database()`;
  return { transactions: Number(rows[0]!.transactions), rowsWritten: Number(rows[0]!.written) };
}

/** Redis command counts (server-wide): PUBLISH, and all commands. */
async function redisCounters(service: BenchService): Promise<{ publish: number; all: number }> {
  const info = await service.services.redis.info('commandstats');
  let publish = 0, all = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    all += Number(m[2]);
    if (m[1] === 'publish') publish += Number(m[2]);
  }
  return { publish, all };
}

function tinyJob(datasetId: string): object {
  return { datasetId, network: { layers: [{ units: 10, activation: 'relu' }] }, training: { epochs: 1, batchSize: 27 } };
}

/** The same networks trained by PyTorch in a plain Python loop, with the thread count that is fastest for it (1 or all). */
async function torchLoop(options: JobsOptions): Promise<JobsResult['torch']> {
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  const script = fileURLToPath(new URL('./spiral-jobs.py', import.meta.url));
  let best: { wallS: number; threads: number; version: string } | null = null;
  for (const threads of [1, 2]) {
    try {
      const { stdout } = await promisify(execFile)(PYTHON, [script, JSON.stringify({ threads, jobs: options.jobs, steps: options.steps })], { timeout: 900_000 });
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as { wall_s: number; torch: string };
      if (!best || r.wall_s < best.wallS) best = { wallS: r.wall_s, threads, version: r.torch };
    } catch (error) {
      return { skipped: `PyTorch loop failed (python3-torch installed?): ${(error as Error).message.split('\n')[0]}` };
    }
  }
  return best!;
}
