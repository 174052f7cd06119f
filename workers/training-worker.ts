/**
 * The worker process: takes training jobs from BullMQ, up to WORKER_CONCURRENCY at a time, and runs them
 * (src/training) on trainer threads it keeps between jobs, with the datasets it has decoded cached by content hash
 * (WORKER_DATASET_CACHE_MB). Nothing numeric lives here. Runs the reconciler (src/queue/reconciler.ts) at start and periodically. SIGTERM/SIGINT hands the
 * running job back (checkpointed, requeued) within SHUTDOWN_GRACE_MS and closes connections.
 *
 * Postgres and Redis outages are waited out (src/training/processor.ts): connection errors are logged (at most once a
 * minute per message), never fatal. The worker's Postgres sessions are named after it (application_name
 * `trainyard-worker:<workerId>`), so pg_stat_activity shows which worker holds what.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'bullmq';
import { createDb } from '../src/db/client.js';
import { describeKernel } from '../src/engine/kernels/native-choice.js';
import { throttledErrorLog } from '../src/infra/log.js';
import { createLogger } from '../src/logger.js';
import { serveWorkerMetrics } from '../src/metrics/metrics-server.js';
import { notifyParent, onShutdownSignal, startupOrExit } from '../src/process/lifecycle.js';
import { startReconciler } from '../src/queue/reconciler.js';
import { createRedis } from '../src/queue/redis.js';
import { createTrainingQueue, TRAINING_QUEUE, type TrainingJobData } from '../src/queue/training-queue.js';
import { createTrainingProcessor } from '../src/training/processor.js';
import { TrainerThreads } from '../src/training/trainer-host.js';
import { DatasetCache } from '../src/datasets/dataset-cache.js';

const config = await startupOrExit('worker');
const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const logger = createLogger(config.logLevel, 'worker').child({ workerId });
// Which kernel this worker's engine runs (native GEMM, or WebAssembly and why): checked now, so that an ENGINE_KERNEL
// this machine cannot run stops the worker at start rather than failing its jobs.
let kernel: string;
try {
  kernel = describeKernel(config.worker.engineKernel);
} catch (error) {
  logger.fatal(`ENGINE_KERNEL=${config.worker.engineKernel}: ${(error as Error).message}`);
  process.exit(1);
}
const db = createDb(config, {
  poolSize: 4 + 2 * config.worker.concurrency, applicationName: `trainyard-worker:${workerId}`, onConnectionError: throttledErrorLog(logger, 'postgres connection error'),
});
const redis = createRedis(config.redisUrl, { name: 'worker' });
const blocking = createRedis(config.redisUrl, { name: 'worker-queue', blocking: true });
const logRedisError = throttledErrorLog(logger, 'redis connection error');
redis.on('error', logRedisError);
blocking.on('error', logRedisError);

const { concurrency, engineThreads, engineKernel } = config.worker;
// Trainer threads are started now (with an engine context each), so the first jobs do not wait for them.
const trainers = new TrainerThreads({ threads: Math.max(1, Math.floor(engineThreads / concurrency)), kernel: engineKernel, initialMemoryMiB: 16, maxMemoryMiB: 256 });
trainers.prestart(concurrency);
const datasets = config.worker.datasetCacheBytes > 0 ? new DatasetCache(config.worker.datasetCacheBytes) : null;
const processor = await createTrainingProcessor({ config, db, redis, logger, workerId, trainers, datasets });
// GET /metrics on WORKER_METRICS_PORT (0: off): steps/s, samples/s, write latencies (src/metrics/worker-metrics.ts)
const metricsServer = await serveWorkerMetrics(config, logger);
const worker = new Worker<TrainingJobData>(TRAINING_QUEUE, (job, token) => processor.process(job, token), {
  connection: blocking,
  prefix: config.queuePrefix,
  concurrency: config.worker.concurrency,
  lockDuration: config.worker.lockMs,
  stalledInterval: config.worker.stalledIntervalMs,
  maxStalledCount: config.worker.maxStalls,
  autorun: false,
});

worker.on('active', (job) => logger.info({ jobId: job.data.jobId, attempt: job.attemptsMade }, 'job started'));
worker.on('completed', (job) => logger.info({ jobId: job.data.jobId }, 'job finished'));
worker.on('failed', (job, error) => logger.warn({ jobId: job?.data.jobId, err: error }, 'job failed'));
worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled; it will be retried'));
worker.on('error', throttledErrorLog(logger, 'worker error'));

const queue = createTrainingQueue(redis, config.queuePrefix);
queue.on('error', logRedisError);
const reconciler = startReconciler(db, queue, config.worker.reconcileIntervalMs, logger);

onShutdownSignal(async () => {
  await reconciler.stop();
  const handedBack = await processor.handBack();
  if (!handedBack) logger.warn({ graceMs: config.worker.shutdownGraceMs }, 'the running job did not hand back in time; it will be recovered from its last checkpoint');
  await worker.close(!handedBack);
  await processor.close();
  await trainers.close();
  await queue.close();
  redis.disconnect();
  blocking.disconnect();
  await db.$disconnect();
  await metricsServer?.close();
  logger.info('worker stopped');
}, (message) => logger.info(message));

void worker.run();
await worker.waitUntilReady();
logger.info({ queue: TRAINING_QUEUE, prefix: config.queuePrefix, kernel, engineThreads, concurrency, datasetCacheMiB: config.worker.datasetCacheBytes / 2 ** 20 }, 'worker ready');
notifyParent({ type: 'worker-ready' });
