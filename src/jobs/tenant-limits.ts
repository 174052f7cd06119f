/**
 * Creating a job within its tenant's limits: MAX_QUEUED_JOBS_PER_TENANT queued jobs at most (one more is refused,
 * 429 TENANT_QUEUE_FULL, and nothing is written), and the job's queue priority (src/queue/priority.ts). Both are read
 * under the tenant's queued-jobs lock in the transaction that inserts the row, so concurrent submits of one tenant
 * (on any API replica) are counted one after another. (The running limit is the workers' side:
 * src/training/tenant-gate.ts.)
 */
import type { Db } from '../db/client.js';
import { createJob, type JobRow } from '../db/repositories/jobs.js';
import { lockTenant } from '../db/tenant-locks.js';
import { apiError } from '../errors.js';
import { trainingPriority } from '../queue/priority.js';
import type { JobPlan } from './plan.js';

/** Waits for a pool connection and the tenant's lock behind a burst of the tenant's own submits. */
const SUBMIT_TRANSACTION = { maxWait: 10_000, timeout: 10_000 } as const;

export interface CreatedJob {
  job: JobRow;
  /** For enqueueTraining. */
  priority: number | undefined;
}

export async function createJobWithinLimits(db: Db, tenantId: string, plan: JobPlan, maxQueued: number): Promise<CreatedJob> {
  return db.$transaction(async (tx) => {
    await lockTenant(tx, 'queuedJobs', tenantId);
    const queued = await tx.job.count({ where: { tenantId, status: 'queued' } });
    if (queued >= maxQueued) {
      throw apiError('TENANT_QUEUE_FULL', `The tenant already has ${queued} queued jobs; the limit is ${maxQueued}. Submit again when some have started.`, {
        limit: maxQueued, queued,
      });
    }
    const job = await createJob(tx, tenantId, plan);
    return { job, priority: await trainingPriority(tx, { id: job.id, tenantId, createdAt: null }) };
  }, SUBMIT_TRANSACTION);
}
