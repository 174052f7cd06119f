/**
 * Fair order between tenants: a training job's BullMQ priority is its rank among its tenant's live (queued or running)
 * jobs, oldest first. A tenant's first live job has rank 0 and no priority: it goes to BullMQ's wait list, which
 * workers empty before they take any prioritized job. Its n-th live job has priority n (BullMQ: lower first; equal
 * priorities in the order they were added). So a tenant that submits a burst of 200 jobs gets priorities 1…199 for
 * all but the first, and another tenant's single job goes ahead of all of them: it waits for at most the jobs already
 * running. Workers take jobs round-robin by rank across tenants.
 *
 * The API (src/jobs/tenant-limits.ts, at submit) and the reconciler (./reconciler.ts, re-enqueueing what Redis lost)
 * both call {@link trainingPriority}, so a job gets the same place whichever enqueues it.
 */
import { Prisma } from '../db/client.js';

/** The largest priority BullMQ accepts (2^21). Ranks beyond it share it. */
export const MAX_PRIORITY = 2 ** 21;

/** BullMQ's priority for a job with `ahead` live jobs of its tenant before it; undefined (no priority) for none. */
export function priorityForRank(ahead: number): number | undefined {
  return ahead <= 0 ? undefined : Math.min(ahead, MAX_PRIORITY);
}

export interface RankedJob {
  id: string;
  tenantId: string;
  /**
   * Orders the tenant's jobs. Null at submit, where the new job comes after every other live job by construction (the
   * tenant's submit lock serializes them), whatever the clocks of concurrent transactions say.
   */
  createdAt: Date | null;
}

/** The job's priority: its tenant's queued or running jobs created before it, ordered by (createdAt, id). */
export async function trainingPriority(db: Prisma.TransactionClient, job: RankedJob): Promise<number | undefined> {
  const before = job.createdAt ? Prisma.sql`AND ("createdAt", id) < (${job.createdAt}::timestamptz, ${job.id}::uuid)` : Prisma.empty;
  const rows = await db.$queryRaw<{ ahead: number }[]>`
    SELECT count(*)::int AS ahead FROM "Job"
    WHERE "tenantId" = ${job.tenantId}::uuid AND status IN ('queued', 'running') AND id <> ${job.id}::uuid ${before}`;
  return priorityForRank(rows[0]?.ahead ?? 0);
}
