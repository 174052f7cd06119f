/**
 * The worker process: takes training jobs from BullMQ one at a time and runs them (src/training). Nothing numeric
 * lives here. Runs the reconciler (src/queue/reconciler.ts) at start and periodically. SIGTERM/SIGINT hands the
 * running job back (checkpointed, requeued) within SHUTDOWN_GRACE_MS and closes connections.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { createDb } from '../src/db/client.js';
import { loggerOptions } from '../src/logger.js';
import { notifyParent, onShutdownSignal, startupOrExit } from '../src/process/lifecycle.js';
import { startReconciler } from '../src/queue/reconciler.js';
import { createRedis } from '../src/queue/redis.js';
import { createTrainingQueue, TRAINING_QUEUE, type TrainingJobData } from '../src/queue/training-queue.js';
import { createTrainingProcessor } from '../src/training/processor.js';

const config = await startupOrExit('worker');
const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const logger = pino(loggerOptions(config.logLevel, 'worker')).child({ workerId });
const db = createDb(config.databaseUrl, { poolSize: 4 });
const redis = createRedis(config.redisUrl, { name: 'worker' });
const blocking = createRedis(config.redisUrl, { name: 'worker-queue', blocking: true });

const processor = await createTrainingProcessor({ config, db, redis, logger, workerId });
const worker = new Worker<TrainingJobData>(TRAINING_QUEUE, (job, token) => processor.process(job, token), {
  connection: blocking,
  prefix: config.queuePrefix,
  concurrency: 1,
  lockDuration: config.worker.lockMs,
  stalledInterval: config.worker.stalledIntervalMs,
  maxStalledCount: config.worker.maxStalls,
  autorun: false,
});

worker.on('active', (job) => logger.info({ jobId: job.data.jobId, attempt: job.attemptsMade }, 'job started'));
worker.on('completed', (job) => logger.info({ jobId: job.data.jobId }, 'job finished'));
worker.on('failed', (job, error) => logger.warn({ jobId: job?.data.jobId, err: error }, 'job failed'));
worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled; it will be retried'));
worker.on('error', (error) => logger.error({ err: error }, 'worker error'));

const queue = createTrainingQueue(redis, config.queuePrefix);
queue.on('error', (error) => logger.warn({ err: error }, 'queue connection error'));
const reconciler = startReconciler(db, queue, config.worker.reconcileIntervalMs, logger);

onShutdownSignal(async () => {
  await reconciler.stop();
  const handedBack = await processor.handBack();
  if (!handedBack) logger.warn({ graceMs: config.worker.shutdownGraceMs }, 'the running job did not hand back in time; it will be recovered from its last checkpoint');
  await worker.close(!handedBack);
  await processor.close();
  await queue.close();
  redis.disconnect();
  blocking.disconnect();
  await db.$disconnect();
  logger.info('worker stopped');
}, (message) => logger.info(message));

void worker.run();
await worker.waitUntilReady();
logger.info({ queue: TRAINING_QUEUE, prefix: config.queuePrefix }, 'worker ready');
notifyParent({ type: 'worker-ready' });
