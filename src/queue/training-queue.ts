/** The queue contract shared by the API (producer) and workers (consumer). */
import { Queue } from 'bullmq';
import type { Redis } from './redis.js';

export const TRAINING_QUEUE = 'training';

/** The BullMQ job's data. The BullMQ job id is always the Postgres Job id. */
export interface TrainingJobData {
  jobId: string;
  tenantId: string;
}

export type TrainingQueue = Queue<TrainingJobData, void, 'train'>;

export function createTrainingQueue(connection: Redis, prefix: string): TrainingQueue {
  return new Queue<TrainingJobData, void, 'train'>(TRAINING_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
  });
}
