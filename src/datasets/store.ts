/**
 * Storing datasets. Two ways in, one codec (codec.ts):
 *   saveDataset(db, tenantId, input)   an in-memory matrix: synthetic and example sets, and tests that need a dataset.
 *   ingestTable(pool, db, header, events, …)
 *                                      the streaming path of uploads (ingest/ingest.ts), re-exported here; it writes
 *                                      through node-postgres (ingest/upload-pool.ts).
 * Both write the Dataset row and its chunks in one transaction.
 */
import type { Db } from '../db/client.js';
import { apiError } from '../errors.js';
import { bytesOf, bytesView, contentHasher, rowsPerChunk, storedBytes } from './codec.js';
import { createDataset, insertChunk, WRITE_TRANSACTION } from './dataset-rows.js';
import { toMeta } from './meta.js';
import { ColumnStatsAccumulator } from './stats.js';
import { prismaRunner, reserveDatasetBytes } from './storage-quota.js';
import type { DatasetInput, DatasetMeta } from './types.js';

export { ingestTable, type IngestHeader, type IngestHooks } from './ingest/ingest.js';
export { createUploadPool, type UploadPool } from './ingest/upload-pool.js';

/**
 * Stores an in-memory matrix as given: rows keep their order, classification keeps `classNames` in the given order
 * (y indexes it). Statistics, class counts and the content hash are computed here. Throws an ApiError
 * (VALIDATION_FAILED, DATASET_EMPTY, DATASET_MISSING_VALUE, DATASET_SINGLE_CLASS) when the input is inconsistent, and
 * TENANT_STORAGE_FULL when `tenantBytes` (MAX_DATASET_BYTES_PER_TENANT; unchecked when absent) would be exceeded.
 */
export async function saveDataset(db: Db, tenantId: string, input: DatasetInput, quota: { tenantBytes?: number } = {}): Promise<DatasetMeta> {
  const { features: F, x, y } = input;
  const rows = checkShape(input);
  const featureNames = input.featureNames ?? Array.from({ length: F }, (_, i) => `x${i}`);
  const stats = new ColumnStatsAccumulator(F);
  stats.pushRows(x, rows);
  let classNames: string[] = [];
  let classCounts: number[] = [];
  let target = null;
  if (input.task === 'classification') {
    classNames = input.classNames;
    classCounts = countClasses(input.y, classNames.length);
  } else {
    const targetStats = new ColumnStatsAccumulator(1);
    targetStats.pushRows(input.y, rows);
    target = targetStats.result()[0]!;
  }
  const hash = contentHasher().update(bytesView(x)).update(bytesView(y)).digest('hex');
  const perChunk = rowsPerChunk(F);
  const chunkCount = Math.ceil(rows / perChunk);

  const row = await db.$transaction(async (tx) => {
    const dataset = await createDataset(
      tx,
      { tenantId, name: input.name, source: input.source, sourceParams: input.sourceParams ?? {}, featureNames, targetName: input.targetName ?? 'y' },
      { task: input.task, rows, classNames, classCounts, stats: { features: stats.result(), target }, contentHash: hash, chunkCount },
    );
    for (let index = 0; index < chunkCount; index++) {
      const start = index * perChunk;
      const end = Math.min(rows, start + perChunk);
      await insertChunk(tx, dataset.id, index, {
        rowStart: start,
        rowCount: end - start,
        features: bytesOf(x.subarray(start * F, end * F)),
        targets: bytesOf(y.subarray(start, end)),
      });
    }
    if (quota.tenantBytes !== undefined) await reserveDatasetBytes(prismaRunner(tx), tenantId, dataset.id, storedBytes(rows, F), quota.tenantBytes);
    return dataset;
  }, WRITE_TRANSACTION);
  return toMeta(row);
}

/** R, after checking that x, y, names and values agree. */
function checkShape(input: DatasetInput): number {
  const { features: F, x, y } = input;
  const invalid = (detail: string) => apiError('VALIDATION_FAILED', detail);
  if (!Number.isInteger(F) || F < 1) throw invalid(`features must be a positive integer, got ${F}`);
  if (x.length % F !== 0) throw invalid(`x has ${x.length} values, not a multiple of ${F} features`);
  const rows = x.length / F;
  if (rows === 0) throw apiError('DATASET_EMPTY', 'The dataset has no rows');
  if (y.length !== rows) throw invalid(`x has ${rows} rows but y has ${y.length} targets`);
  if (input.featureNames && input.featureNames.length !== F) throw invalid(`${input.featureNames.length} feature names for ${F} features`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw apiError('DATASET_MISSING_VALUE', `x[${i}] (row ${Math.floor(i / F)}) is not finite`, { row: Math.floor(i / F), columnIndex: i % F });
    }
  }
  if (input.task === 'classification') {
    if (!(y instanceof Int32Array)) throw invalid('classification targets must be an Int32Array of class indices');
    if (input.classNames.length < 2) throw apiError('DATASET_SINGLE_CLASS', 'Classification needs at least two class names', { classes: input.classNames });
    if (new Set(input.classNames).size !== input.classNames.length) throw invalid('class names must be unique');
    const bad = y.findIndex((c) => c < 0 || c >= input.classNames.length);
    if (bad >= 0) throw invalid(`y[${bad}] = ${y[bad]} is not a class index below ${input.classNames.length}`);
  } else {
    if (!(y instanceof Float32Array)) throw invalid('regression targets must be a Float32Array');
    const bad = y.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw apiError('DATASET_MISSING_VALUE', `y[${bad}] (row ${bad}) is not finite`, { row: bad });
  }
  return rows;
}

function countClasses(y: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]!++;
  return counts;
}
