/**
 * Reading a dataset back for training: the chunks are streamed in order (a few at a time, never the whole table in one
 * query) straight into one x and one y. The content hash is checked on the way, so a worker never trains on torn data.
 *
 *   loadDataset(db, tenantId, datasetId) → { meta, x: Float32Array (R×F row-major), y: Int32Array | Float32Array } | null
 *
 * null when the dataset does not exist or belongs to another tenant.
 */
import type { Db } from '../db/client.js';
import { bytesView, contentHasher, copyBytesInto } from './codec.js';
import { isUuid } from './ids.js';
import { toMeta } from './meta.js';
import type { LoadedDataset } from './types.js';

/** Chunks fetched per query: bounds the bytes one query returns to about 8 MiB. */
const CHUNKS_PER_QUERY = 8;

export async function loadDataset(db: Db, tenantId: string, datasetId: string): Promise<LoadedDataset | null> {
  if (!isUuid(datasetId)) return null;
  const row = await db.dataset.findFirst({ where: { id: datasetId, tenantId } });
  if (!row) return null;
  const meta = toMeta(row);
  const { rows, features } = meta;
  const x = new Float32Array(rows * features);
  const y = meta.task === 'classification' ? new Int32Array(rows) : new Float32Array(rows);
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
  return { meta, x, y };
}
