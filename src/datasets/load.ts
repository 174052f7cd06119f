/**
 * Reading a dataset back for training: its chunks are read in order straight into one x and one y, with the checks of
 * ./matrix-assembly.ts on the way (rows continue, shapes match, content hash), so a worker never trains on torn data.
 *
 *   loadDataset(db, tenantId, datasetId, cache?) → { meta, x: Float32Array (R×F row-major), y: Int32Array | Float32Array } | null
 *
 * null when the dataset does not exist or belongs to another tenant. With a cache (a worker's, ./dataset-cache.ts) the
 * dataset's row is still read (so the tenant check and the metadata are always current), but its chunks only when no
 * dataset with the same content hash is cached; the arrays are then shared (SharedArrayBuffer) and must not be written.
 *
 * The chunks are read with a binary COPY on a connection of the client's own node-postgres pool
 * (./chunk-reader-copy.ts, several times faster than Prisma, which receives bytea as hex text); through Prisma only
 * when the client has no such pool (not made by createDb).
 */
import type { Db } from '../db/client.js';
import { underlyingPool } from '../db/pool-stats.js';
import { readChunksWithCopy } from './chunk-reader-copy.js';
import { readChunksWithPrisma } from './chunk-reader-prisma.js';
import type { CachedMatrix, DatasetCache } from './dataset-cache.js';
import { isUuid } from './ids.js';
import { MatrixAssembly } from './matrix-assembly.js';
import { toMeta } from './meta.js';
import type { DatasetMeta, LoadedDataset } from './types.js';

export async function loadDataset(db: Db, tenantId: string, datasetId: string, cache?: DatasetCache): Promise<LoadedDataset | null> {
  if (!isUuid(datasetId)) return null;
  const row = await db.dataset.findFirst({ where: { id: datasetId, tenantId } });
  if (!row) return null;
  const meta = toMeta(row);
  if (!cache) return { meta, ...(await readMatrix(db, meta, 'own')) };
  return { meta, ...(await cache.get(meta.contentHash, () => readMatrix(db, meta, 'shared'))) };
}

/** The chunks of `meta`'s dataset, in order, into new arrays (over SharedArrayBuffers when `memory` is 'shared'). */
async function readMatrix(db: Db, meta: DatasetMeta, memory: 'own' | 'shared'): Promise<CachedMatrix> {
  const assembly = new MatrixAssembly(meta, memory);
  const pool = underlyingPool(db);
  if (pool) await readChunksWithCopy(pool, meta, assembly);
  else await readChunksWithPrisma(db, meta, assembly);
  return assembly.finish();
}
