/**
 * Adding a training job to BullMQ, the one way API and reconciler do it: the BullMQ job id is the Postgres Job id, so
 * adding it again while Redis still holds it is a no-op (idempotent). `attempts` covers transient failures of a
 * worker (a database outage mid-write): the retry resumes from the newest checkpoint. Failures a retry cannot fix
 * are recorded in Postgres and thrown as UnrecoverableError by the worker, which skips the remaining attempts.
 */
import type { TrainingJobData, TrainingQueue } from './training-queue.js';

export const TRAINING_ATTEMPTS = 3;

/** `priority`: from ./priority.ts (the job's rank among its tenant's live jobs); undefined for a tenant's first. */
export async function enqueueTraining(queue: TrainingQueue, data: TrainingJobData, priority?: number): Promise<void> {
  await queue.add('train', data, {
    jobId: data.jobId, attempts: TRAINING_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, ...(priority ? { priority } : {}),
  });
}
