/**
 * Reading a dataset back for training: the chunks are streamed in order (a few at a time, never the whole table in one
 * query) straight into one x and one y. The content hash is checked on the way, so a worker never trains on torn data.
 *
 *   loadDataset(db, tenantId, datasetId, cache?) → { meta, x: Float32Array (R×F row-major), y: Int32Array | Float32Array } | null
 *
 * null when the dataset does not exist or belongs to another tenant. With a cache (a worker's, ./dataset-cache.ts) the
 * dataset's row is still read (so the tenant check and the metadata are always current), but its chunks only when no
 * dataset with the same content hash is cached; the arrays are then shared (SharedArrayBuffer) and must not be written.
 */
import type { Db } from '../db/client.js';
import { bytesView, contentHasher, copyBytesInto } from './codec.js';
import type { CachedMatrix, DatasetCache } from './dataset-cache.js';
import { isUuid } from './ids.js';
import { toMeta } from './meta.js';
import type { DatasetMeta, LoadedDataset } from './types.js';

/** Chunks fetched per query: bounds the bytes one query returns to about 8 MiB. */
const CHUNKS_PER_QUERY = 8;

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
  const { id: datasetId, rows, features } = meta;
  const buffer = (bytes: number) => (memory === 'shared' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const x = new Float32Array(buffer(rows * features * 4));
  const y = meta.task === 'classification' ? new Int32Array(buffer(rows * 4)) : new Float32Array(buffer(rows * 4));
  let expectedRow = 0;
  for (let index = 0; index < meta.chunkCount; index += CHUNKS_PER_QUERY) {
    const chunks = await db.datasetChunk.findMany({
      where: { datasetId, index: { gte: index, lt: index + CHUNKS_PER_QUERY } },
      orderBy: { index: 'asc' },
      select: { index: true, rowStart: true, rowCount: true, features: true, targets: true },
    });
    for (const chunk of chunks) {
      const torn = chunk.rowStart !== expectedRow || chunk.features.byteLength !== chunk.rowCount * features * 4 || chunk.targets.byteLength !== chunk.rowCount * 4;
      if (torn) throw new Error(`dataset ${datasetId}: chunk ${chunk.index} does not continue row ${expectedRow} with the declared shape`);
      copyBytesInto(x, chunk.rowStart * features, chunk.features);
      copyBytesInto(y, chunk.rowStart, chunk.targets);
      expectedRow += chunk.rowCount;
    }
  }
  if (expectedRow !== rows) throw new Error(`dataset ${datasetId}: chunks hold ${expectedRow} rows, metadata says ${rows}`);
  const hash = contentHasher().update(bytesView(x)).update(bytesView(y)).digest('hex');
  if (hash !== meta.contentHash) throw new Error(`dataset ${datasetId}: content hash mismatch (stored ${meta.contentHash}, read ${hash})`);
  return { x, y };
}
