/**
 * What a worker process does with one BullMQ training job: take the lease on the Job row (./lease.ts), run it
 * (./job-run.ts: trainer thread + fenced writes), and tell BullMQ how it ended:
 *   succeeded, cancelled, already finished  → return (BullMQ: completed)
 *   failed (divergence, bad data, …)        → UnrecoverableError (BullMQ: failed, no retry; Postgres has the reason)
 *   handed back (SIGTERM)                   → moved back to wait, WaitingError (another worker continues it)
 *   lease lost                              → return; the worker that holds the lease now owns the job
 *   anything else                           → thrown: BullMQ retries it, resuming from the newest checkpoint
 * Infrastructure errors do not get that far: Postgres outages are waited out here (the claim) and in the run (its
 * reads and writes), so they do not use up the job's BullMQ attempts. Only an outage longer than
 * INFRA_FAILURE_BUDGET_MS is thrown (OutageBudgetExceededError): BullMQ requeues the job while attempts remain.
 * A Redis outage does not stop the run either; BullMQ may meanwhile hand the job to another worker (its lock could not
 * be renewed), whose claim takes the lease: this run then stops without writing (src/training/lease.ts).
 * Cancel commands arrive on the control channel (src/queue/job-control.ts), subscribed once per process.
 */
import { UnrecoverableError, WaitingError, type Job as QueueJob } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { subscribeJobCommands, type JobCommandSubscription } from '../queue/job-control.js';
import { publishJobEvent } from '../queue/job-events.js';
import { throttledErrorLog } from '../infra/log.js';
import { waitOut } from '../infra/retry.js';
import { createRedis, type Redis } from '../queue/redis.js';
import { createTrainingQueue, type TrainingJobData } from '../queue/training-queue.js';
import { startSweepHooks } from '../sweeps/worker-hooks.js';
import type { DatasetCache } from '../datasets/dataset-cache.js';
import { JobRun } from './job-run.js';
import type { TrainerThreads } from './trainer-host.js';
import { claimJob } from './lease.js';
import { waitForTenantSlot } from './tenant-gate.js';

export interface ProcessorDeps {
  config: Config;
  db: Db;
  /** Non-blocking connection for publishing events and reading signals. */
  redis: Redis;
  logger: Logger;
  /** Identifies this worker process in leases and logs. */
  workerId: string;
  /** The worker's trainer threads, kept between jobs (./trainer-host.ts). */
  trainers?: TrainerThreads;
  /** The worker's decoded datasets, kept between jobs (src/datasets/dataset-cache.ts). */
  datasets?: DatasetCache | null;
}

export interface TrainingProcessor {
  process(job: QueueJob<TrainingJobData>, token: string | undefined): Promise<void>;
  /**
   * Asks the running jobs (if any) to checkpoint and hand themselves back; resolves when they have, or after the
   * configured grace period (a job not handed back is then recovered like a crashed one). Returns whether every job was
   * handed back in time.
   */
  handBack(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createTrainingProcessor(deps: ProcessorDeps): Promise<TrainingProcessor> {
  const { config, db, logger } = deps;
  // The jobs running now (up to WORKER_CONCURRENCY), by job id.
  const running = new Map<string, { run: JobRun; done: Promise<unknown> }>();
  // Sweeps (src/sweeps/worker-hooks.ts): ASHA judges epoch ends; a trial's end releases the next trials.
  const sweepQueue = createTrainingQueue(deps.redis, config.queuePrefix);
  const sweeps = startSweepHooks({ db, queue: sweepQueue, config, logger });
  const subscriber = createRedis(config.redisUrl, { name: 'worker-control', blocking: true });
  subscriber.on('error', throttledErrorLog(logger, 'control channel connection error'));
  const subscription: JobCommandSubscription = await subscribeJobCommands(subscriber, config.queuePrefix, (command) => {
    const target = command.type === 'cancel' ? running.get(command.jobId) : undefined;
    if (target) {
      logger.info({ jobId: command.jobId }, 'cancel requested');
      target.run.cancel();
    }
  });

  /** `facts.sweepless`: set once the claim shows that the job belongs to no sweep (no release to do after it). */
  async function process(job: QueueJob<TrainingJobData>, token: string | undefined, facts: { sweepless: boolean }): Promise<void> {
    await waitForTenantSlot({ config, db, logger }, job, token); // MAX_RUNNING_JOBS_PER_TENANT: ./tenant-gate.ts
    const { jobId } = job.data;
    const leaseMs = config.worker.lockMs * 2;
    const claim = await waitOut(() => claimJob(db, jobId, deps.workerId, leaseMs), {
      what: `job ${jobId}: claim`,
      budgetMs: config.worker.infraBudgetMs,
      backoff: { initialMs: 200, maxMs: config.worker.infraRetryMaxMs },
      onRetry: ({ error, retry, delayMs }) => {
        if (retry === 1) logger.warn({ jobId, err: error, delayMs }, 'cannot claim the job: database unavailable or the row is locked; retrying');
      },
      onRecovered: ({ retries, elapsedMs }) => logger.info({ jobId, retries, waitedMs: elapsedMs }, 'claim went through after retries'),
    });
    if (claim.kind !== 'finished') facts.sweepless = claim.job.sweepId === null;
    if (claim.kind === 'finished') {
      logger.info({ jobId, status: claim.status }, 'job already finished or gone; nothing to do');
      return;
    }
    if (claim.kind === 'cancelled') {
      await publishJobEvent(deps.redis, config.queuePrefix, {
        type: 'status', jobId, attempt: claim.job.attempt, step: claim.job.step, epoch: claim.job.epoch,
        status: 'cancelled', code: null, reason: 'cancelled on request', modelId: null,
      }).catch(() => undefined);
      return;
    }
    const run = new JobRun({
      config, db, redis: deps.redis, logger, judgeEpochEnd: sweeps.judgeEpochEnd, trainers: deps.trainers, datasets: deps.datasets,
    }, claim.lease, claim.job);
    const execution = run.execute();
    running.set(jobId, { run, done: execution.catch(() => undefined) });
    try {
      const result = await execution;
      logger.info({ jobId, attempt: claim.lease.attempt, result: result.kind }, 'training run ended');
      switch (result.kind) {
        case 'failed':
          throw new UnrecoverableError(`${result.code}: ${result.reason}`);
        case 'handed-back':
          await job.moveToWait(token);
          throw new WaitingError();
        default:
          return;
      }
    } finally {
      running.delete(jobId);
    }
  }

  return {
    async process(job, token) {
      const facts = { sweepless: false };
      try {
        await process(job, token, facts);
      } finally {
        if (!facts.sweepless) await sweeps.afterJob(job.data.jobId);
      }
    },
    async handBack() {
      const active = [...running.values()];
      if (!active.length) return true;
      for (const a of active) a.run.handBack();
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        Promise.all(active.map((a) => a.done)).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), config.worker.shutdownGraceMs))),
      ]);
      clearTimeout(timer);
      return inTime;
    },
    async close() {
      await sweeps.close();
      await sweepQueue.close();
      await subscription.close();
      subscriber.disconnect();
    },
  };
}
