/**
 * POST /v1/jobs/:id/cancel. A queued job is cancelled at once (and removed from BullMQ); a running one gets
 * `cancelRequested` in Postgres and a cancel command on the control channel, which whichever worker runs it obeys
 * after its current step (the worker also reads the flag at every lease heartbeat). Checkpoints are kept.
 */
import type { FastifyBaseLogger } from 'fastify';
import { requestCancel, type JobRow } from '../db/repositories/jobs.js';
import { apiError } from '../errors.js';
import { publishJobCommand } from '../queue/job-control.js';
import { publishJobEvent } from '../queue/job-events.js';
import type { Services } from '../services.js';

export async function cancelJob(services: Services, tenantId: string, id: string, log: FastifyBaseLogger): Promise<{ job: JobRow; accepted: boolean }> {
  const { db, redis, trainingQueue, config } = services;
  const outcome = await requestCancel(db, tenantId, id);
  switch (outcome.kind) {
    case 'not-found':
      throw apiError('JOB_NOT_FOUND', `No job ${id}`, { jobId: id });
    case 'finished':
      throw apiError('JOB_NOT_CANCELLABLE', `Job ${id} has already ${outcome.job.status}`, { jobId: id, status: outcome.job.status });
    case 'already-cancelled':
      return { job: outcome.job, accepted: false };
    case 'cancelled': {
      const { job } = outcome;
      // A worker that took it from BullMQ in the meantime holds its lock (remove fails) and finds it cancelled.
      await trainingQueue.remove(id).catch((error: unknown) => log.warn({ err: error, jobId: id }, 'could not remove the cancelled job from the queue'));
      await publishJobEvent(redis, config.queuePrefix, {
        type: 'status', jobId: id, attempt: job.attempt, step: job.step, epoch: job.epoch, status: 'cancelled', code: null, reason: job.failureReason, modelId: null,
      }).catch((error: unknown) => log.warn({ err: error, jobId: id }, 'could not publish the cancel event'));
      return { job, accepted: false };
    }
    case 'requested':
      await publishJobCommand(redis, config.queuePrefix, { type: 'cancel', jobId: id })
        .catch((error: unknown) => log.warn({ err: error, jobId: id }, 'could not signal the cancel; the worker sees it at its next heartbeat'));
      return { job: outcome.job, accepted: true };
  }
}
