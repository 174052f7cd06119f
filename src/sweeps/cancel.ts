/**
 * POST /v1/sweeps/:id/cancel: no more trials are released, and every trial not finished is cancelled as
 * POST /v1/jobs/:id/cancel would (queued ones at once, running ones by their worker after the current step). The
 * sweep becomes cancelled when no trial is live anymore (here, or when the last running trial's worker ends it).
 * Returns whether trials are still stopping (202) or the sweep is cancelled already (200).
 */
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, apiError } from '../errors.js';
import { cancelJob } from '../jobs/cancel.js';
import type { Services } from '../services.js';
import { releaseTrials } from './release.js';

export async function cancelSweep(services: Services, tenantId: string, id: string, log: FastifyBaseLogger): Promise<{ stopping: boolean }> {
  const { db } = services;
  const outcome = await db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ status: string }[]>`
      SELECT status FROM "Sweep" WHERE id = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
    const status = locked[0]?.status;
    if (!status) throw apiError('SWEEP_NOT_FOUND', `No sweep ${id}`, { sweepId: id });
    if (status === 'cancelled') return 'already';
    if (status !== 'running') throw apiError('SWEEP_NOT_CANCELLABLE', `Sweep ${id} has already ${status}`, { sweepId: id, status });
    await tx.sweep.update({ where: { id }, data: { cancelRequested: true } });
    return 'requested';
  });
  if (outcome === 'already') return { stopping: false };
  const live = await db.job.findMany({ where: { sweepId: id, status: { in: ['queued', 'running'] } }, select: { id: true } });
  let stopping = false;
  for (const job of live) {
    try {
      stopping = (await cancelJob(services, tenantId, job.id, log)).accepted || stopping;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'JOB_NOT_CANCELLABLE')) throw error; // it finished meanwhile
    }
  }
  await releaseTrials({ db, queue: services.trainingQueue, limits: services.config.limits, log }, id);
  return { stopping };
}
