/**
 * The SQL of a streamed upload, on its transaction's connection (see upload-pool.ts for why not Prisma): the Dataset
 * row (a placeholder first, completed at the end), the chunks, and the rewrite of the targets into their final
 * encoding. Column names and types are those of prisma/schema.prisma.
 */
import type { Hash } from 'node:crypto';
import { bytesView, storedBytes } from '../codec.js';
import type { DatasetHeader, DatasetSummary } from '../dataset-rows.js';
import type { DatasetEncoding } from '../encoding.js';
import type { PendingChunk } from './table-builder.js';
import type { UploadConnection } from './upload-pool.js';

/** Inserts the placeholder row (no rows yet) and returns its id. */
export async function insertPlaceholder(connection: UploadConnection, header: DatasetHeader): Promise<string> {
  const { rows } = await connection.query<{ id: string }>(
    `INSERT INTO "Dataset" ("tenantId", name, source, "sourceParams", task, rows, features, "featureNames", "targetName",
                            "classNames", "classCounts", stats, "byteSize", "contentHash", "chunkCount")
     VALUES ($1, $2, $3, $4, 'regression', 0, $5, $6, $7, '{}', '{}', '{}', 0, '', 0)
     RETURNING id`,
    [header.tenantId, header.name, header.source, JSON.stringify(header.sourceParams), header.featureNames.length, header.featureNames, header.targetName],
  );
  return rows[0]!.id;
}

export async function insertChunk(connection: UploadConnection, datasetId: string, index: number, chunk: PendingChunk): Promise<void> {
  await connection.query(`INSERT INTO "DatasetChunk" ("datasetId", index, "rowStart", "rowCount", features, targets) VALUES ($1, $2, $3, $4, $5, $6)`, [
    datasetId,
    index,
    chunk.rowStart,
    chunk.rowCount,
    Buffer.from(chunk.features.buffer, chunk.features.byteOffset, chunk.features.byteLength),
    Buffer.from(chunk.targets.buffer, chunk.targets.byteOffset, chunk.targets.byteLength),
  ]);
}

/**
 * Rewrites every chunk's targets from the provisional encoding (R int32 ids, then R float32 values) into the final
 * one, a chunk at a time, feeding the final bytes to `hash` in chunk order.
 */
export async function rewriteTargets(
  connection: UploadConnection,
  datasetId: string,
  chunkCount: number,
  encode: (ids: Int32Array, values: Float32Array) => Int32Array | Float32Array,
  hash: Hash,
): Promise<void> {
  for (let index = 0; index < chunkCount; index++) {
    const { rows } = await connection.query<{ rowCount: number; targets: Buffer }>(
      `SELECT "rowCount", targets FROM "DatasetChunk" WHERE "datasetId" = $1 AND index = $2`,
      [datasetId, index],
    );
    const { rowCount: n, targets } = rows[0]!;
    const provisional = new Uint8Array(targets); // an aligned copy
    const final = encode(new Int32Array(provisional.buffer, 0, n), new Float32Array(provisional.buffer, n * 4, n));
    const bytes = bytesView(final);
    hash.update(bytes);
    await connection.query(`UPDATE "DatasetChunk" SET targets = $3 WHERE "datasetId" = $1 AND index = $2`, [
      datasetId,
      index,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ]);
  }
}

/** The final columns: the feature names once text columns are one-hot encoded, and the encoding (../encoding.ts). */
export interface FinalColumns {
  featureNames: string[];
  encoding: DatasetEncoding;
}

export async function completeRow(connection: UploadConnection, datasetId: string, features: number, s: DatasetSummary, columns: FinalColumns): Promise<void> {
  await connection.query(
    `UPDATE "Dataset" SET task = $2::"DatasetTask", rows = $3, "classNames" = $4, "classCounts" = $5, stats = $6,
                          "byteSize" = $7, "contentHash" = $8, "chunkCount" = $9, features = $10, "featureNames" = $11, encoding = $12
     WHERE id = $1`,
    [
      datasetId, s.task, s.rows, s.classNames, s.classCounts, JSON.stringify(s.stats), storedBytes(s.rows, features), s.contentHash, s.chunkCount,
      features, columns.featureNames, JSON.stringify(columns.encoding),
    ],
  );
}
