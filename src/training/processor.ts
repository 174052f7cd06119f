/**
 * What a worker process does with one BullMQ training job. The training loop itself arrives with the training-jobs
 * issue; until then a job is refused explicitly rather than pretending to train.
 */
import { UnrecoverableError, type Job as QueueJob } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { TrainingJobData } from '../queue/training-queue.js';
import type { Redis } from '../queue/redis.js';

export interface ProcessorDeps {
  config: Config;
  db: Db;
  /** Non-blocking connection for publishing events and reading signals. */
  redis: Redis;
  logger: Logger;
  /** Identifies this worker process in leases and logs. */
  workerId: string;
}

export interface TrainingProcessor {
  process(job: QueueJob<TrainingJobData>, token: string | undefined): Promise<void>;
  /** Asks the running job (if any) to checkpoint and hand itself back; resolves when it has. */
  handBack(): Promise<void>;
  close(): Promise<void>;
}

export async function createTrainingProcessor(deps: ProcessorDeps): Promise<TrainingProcessor> {
  return {
    async process(job) {
      deps.logger.warn({ jobId: job.data.jobId }, 'training is not available in this build');
      throw new UnrecoverableError('Training is not available in this build');
    },
    async handBack() {},
    async close() {},
  };
}
