/**
 * MAX_RUNNING_JOBS_PER_TENANT on the workers' side: before a worker claims a job (./lease.ts), the job's tenant must
 * have a free running slot. If it has none, the job goes back to BullMQ's delayed set and is offered again a little
 * later, with its priority (src/queue/priority.ts): it waits, it is not refused, and the wait costs no attempt (BullMQ's
 * moveToDelayed skips the attempt count, and the Job row's attempt, the fencing token, is only raised by the claim).
 *
 * Postgres decides, under the tenant's running-jobs lock (src/db/tenant-locks.ts), so two workers cannot both take
 * the last slot. A slot is held by a job of the tenant that is queued or running with a lease that has not expired:
 * running jobs renew theirs at every heartbeat; a job admitted here gets one of `leaseMs` on its still queued row,
 * which covers the moment until its claim replaces it with the real lease. A dead worker's job stops counting when
 * its lease expires. The row is only written when the job is admitted, and only if it is queued and not locked by
 * another transaction (SKIP LOCKED), so the gate never waits on a row lock.
 */
import { DelayedError, type Job as QueueJob } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db, JobStatus } from '../db/client.js';
import { lockTenant } from '../db/tenant-locks.js';
import type { TrainingJobData } from '../queue/training-queue.js';

/** First wait of a held-back job; it doubles at each refusal (BullMQ's attemptsStarted counts them) up to MAX_WAIT_MS. */
export const FIRST_WAIT_MS = 500;
export const MAX_WAIT_MS = 5000;

export interface TenantGateDeps {
  config: Config;
  db: Db;
  logger: Logger;
}

/**
 * Returns when the job may be claimed; otherwise moves it to BullMQ's delayed set and throws DelayedError, which the
 * processor lets through to BullMQ (the job is then neither failed nor retried, only delayed). An error of Postgres
 * delays the job the same way: a job that has not started waits the outage out.
 */
export async function waitForTenantSlot(deps: TenantGateDeps, job: QueueJob<TrainingJobData>, token: string | undefined): Promise<void> {
  const { config, db, logger } = deps;
  const { jobId, tenantId } = job.data;
  const limit = config.limits.tenantRunningJobs;
  let admitted: boolean;
  try {
    admitted = await admit(db, jobId, tenantId, limit, config.worker.lockMs * 2);
  } catch (error) {
    logger.warn({ err: error, jobId }, 'could not check the tenant\'s running jobs; the job waits');
    admitted = false;
  }
  if (admitted) return;
  const refusals = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
  const wait = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.min(refusals, 16)) * (0.8 + 0.4 * Math.random());
  logger.debug({ jobId, tenantId, limit, waitMs: Math.round(wait) }, 'tenant at its running-jobs limit; the job waits');
  await job.moveToDelayed(Date.now() + wait, token);
  throw new DelayedError();
}

/** Whether the tenant has a free slot for the job; if so, the job's queued row holds it until the claim. */
async function admit(db: Db, jobId: string, tenantId: string, limit: number, leaseMs: number): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await lockTenant(tx, 'runningJobs', tenantId);
    const rows = await tx.$queryRaw<{ status: JobStatus }[]>`SELECT status FROM "Job" WHERE id = ${jobId}::uuid`;
    const status = rows[0]?.status;
    // Gone, finished or cancelled: the claim says so and nothing runs.
    if (status !== 'queued' && status !== 'running') return true;
    const now = new Date();
    const holding = await tx.job.count({
      where: { tenantId, id: { not: jobId }, status: { in: ['queued', 'running'] }, leaseExpiresAt: { gt: now } },
    });
    if (holding >= limit) return false;
    await tx.$executeRaw`
      UPDATE "Job" SET "leaseExpiresAt" = ${new Date(now.getTime() + leaseMs)}
      WHERE id = (SELECT id FROM "Job" WHERE id = ${jobId}::uuid AND status = 'queued' FOR UPDATE SKIP LOCKED)`;
    return true;
  });
}
