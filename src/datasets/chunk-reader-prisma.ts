/**
 * Reads a dataset's chunks through Prisma, a few per query (never the whole table in one). Prisma receives bytea as
 * hex text and decodes it, so this is the slow way (see ./chunk-reader-copy.ts); it is kept for clients that were not
 * made by createDb (no node-postgres pool to borrow) and as the reference the COPY reader is tested against.
 */
import type { Db } from '../db/client.js';
import type { MatrixAssembly } from './matrix-assembly.js';
import type { DatasetMeta } from './types.js';

/** Chunks fetched per query: bounds the bytes one query returns to about 8 MiB. */
const CHUNKS_PER_QUERY = 8;

export async function readChunksWithPrisma(db: Db, meta: DatasetMeta, assembly: MatrixAssembly): Promise<void> {
  for (let index = 0; index < meta.chunkCount; index += CHUNKS_PER_QUERY) {
    const chunks = await db.datasetChunk.findMany({
      // The last query takes every chunk left, so that one beyond the declared count is refused rather than ignored.
      where: { datasetId: meta.id, index: { gte: index, ...(index + CHUNKS_PER_QUERY < meta.chunkCount ? { lt: index + CHUNKS_PER_QUERY } : {}) } },
      orderBy: { index: 'asc' },
      select: { index: true, rowStart: true, rowCount: true, features: true, targets: true },
    });
    for (const chunk of chunks) {
      const { index, rowStart, rowCount } = chunk;
      assembly.chunk({ index, rowStart, rowCount, featureBytes: chunk.features.byteLength }).set(chunk.features);
      assembly.targets(chunk.targets.byteLength).set(chunk.targets);
      assembly.chunkDone();
    }
  }
}
