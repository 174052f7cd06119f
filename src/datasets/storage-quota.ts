/**
 * MAX_DATASET_BYTES_PER_TENANT: the stored bytes (Dataset.byteSize) of all of a tenant's datasets, uploaded, synthetic
 * and example alike. A dataset that would take the tenant past it is refused with 403 TENANT_STORAGE_FULL.
 *
 * The check runs inside the dataset's write transaction, under the tenant's storage lock, as its last step before the
 * commit: concurrent writes of one tenant are counted one after another (the lock is held only from there to the
 * commit), and a refused dataset rolls back whole.
 * Both write paths call it: saveDataset (Prisma) and the streamed upload (node-postgres), through {@link SqlRunner}.
 */
import type { Prisma } from '../db/client.js';
import { TENANT_LOCK, TENANT_LOCK_SQL } from '../db/tenant-locks.js';
import { apiError } from '../errors.js';
import type { UploadConnection } from './ingest/upload-pool.js';

/** One statement on the transaction's connection. */
export type SqlRunner = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export const prismaRunner = (tx: Prisma.TransactionClient): SqlRunner => (sql, params) => tx.$queryRawUnsafe(sql, ...params);
export const pgRunner = (connection: UploadConnection): SqlRunner => async (sql, params) => (await connection.query(sql, params)).rows;

/** The bytes of the tenant's datasets but `except` (datasets being written in other transactions not included). */
export async function storedDatasetBytes(run: SqlRunner, tenantId: string, except: string | null = null): Promise<number> {
  const rows = await run(`SELECT coalesce(sum("byteSize"), 0)::float8 AS used FROM "Dataset" WHERE "tenantId" = $1::uuid AND id IS DISTINCT FROM $2::uuid`, [
    tenantId, except,
  ]);
  return Number(rows[0]?.used ?? 0);
}

/**
 * Takes the tenant's storage lock and throws TENANT_STORAGE_FULL when the dataset `datasetId` being written, of
 * `bytes` stored bytes, does not fit beside the tenant's other datasets. Call it last in the dataset's transaction.
 */
export async function reserveDatasetBytes(run: SqlRunner, tenantId: string, datasetId: string, bytes: number, limit: number): Promise<void> {
  await run(`${TENANT_LOCK_SQL}::text`, [TENANT_LOCK.datasetBytes, tenantId]);
  const used = await storedDatasetBytes(run, tenantId, datasetId);
  if (used + bytes <= limit) return;
  throw apiError('TENANT_STORAGE_FULL', `The dataset takes ${bytes} bytes; the tenant's other datasets take ${used} of its ${limit}. Delete datasets to make room.`, {
    limit, used, needed: bytes,
  });
}

/** Outside a transaction, before any work: refuses at once when the tenant's storage is already full. */
export async function refuseWhenFull(run: SqlRunner, tenantId: string, limit: number): Promise<void> {
  const used = await storedDatasetBytes(run, tenantId);
  if (used >= limit) throw apiError('TENANT_STORAGE_FULL', `The tenant's datasets take ${used} bytes of its ${limit}. Delete datasets to make room.`, { limit, used });
}
