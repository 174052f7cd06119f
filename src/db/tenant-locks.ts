/**
 * Per-tenant advisory locks, one namespace per quota, held to the end of the caller's transaction: the check of a
 * per-tenant limit and the write it allows run one tenant's transaction at a time, so two replicas (or two workers)
 * cannot both pass a limit that only one more fits under. Postgres' two-int key space (namespace, hash of the tenant
 * id) does not overlap the single-key locks used elsewhere (src/db/repositories/tenants.ts, src/db/migrations.ts).
 *
 * Take the lock in its own statement before the counting query: under READ COMMITTED each statement reads a fresh
 * snapshot, so the count then sees what the previous holder committed.
 */
import type { Prisma } from './client.js';

export const TENANT_LOCK = {
  /** Creating jobs: MAX_QUEUED_JOBS_PER_TENANT and the queue priority (src/jobs/tenant-limits.ts). */
  queuedJobs: 7270101,
  /** Starting jobs: MAX_RUNNING_JOBS_PER_TENANT (src/training/tenant-gate.ts). */
  runningJobs: 7270102,
  /** Storing datasets: MAX_DATASET_BYTES_PER_TENANT (src/datasets/storage-quota.ts). */
  datasetBytes: 7270103,
} as const;

export type TenantLock = keyof typeof TENANT_LOCK;

/** The statement that takes a lock, for node-postgres: parameters [TENANT_LOCK[lock], tenantId]. */
export const TENANT_LOCK_SQL = 'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))';

/** Takes the tenant's `lock` until the end of the transaction `tx`. */
export async function lockTenant(tx: Prisma.TransactionClient, lock: TenantLock, tenantId: string): Promise<void> {
  await tx.$executeRawUnsafe(TENANT_LOCK_SQL, TENANT_LOCK[lock], tenantId);
}
