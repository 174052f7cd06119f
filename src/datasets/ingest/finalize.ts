/**
 * The rewrite of a streamed upload that has a categorical column or imputed cells (see ../encoding.ts), inside the
 * upload's transaction, after the last row:
 *
 *   1. fill values: a numeric column's mean (kept while streaming) or median (below), a categorical column's most
 *      frequent category (ties: the first in category order);
 *   2. every stored ("raw") chunk i — features as upload columns with provisional category ids and NaN for missing
 *      cells, targets provisional (targets.ts) — is read once, in order, and its rows are written in the final
 *      encoding (one-hot, imputed; targets final) into new chunks of rowsPerChunk(final F) rows, numbered -1, -2, …;
 *   3. the raw chunks are deleted and the new ones renumbered 0, 1, … (index = −index − 1: no collision);
 *   4. statistics are recomputed over the final values, and the content hash is computed in codec.ts's order (every
 *      chunk's features, then every chunk's targets: a last pass reads the new chunks' targets back, a chunk at a time).
 *
 * Memory: one raw chunk plus one output chunk. The median needs a column's present values: they are gathered by
 * extra passes over the raw chunks, for as many columns at a time as fit in MEDIAN_BUFFER_VALUES float32s (64 MiB),
 * then sorted; so memory stays bounded whatever the table's size, at the cost of one pass per group of columns.
 */
import type { Hash } from 'node:crypto';
import { apiError } from '../../errors.js';
import { bytesView, rowsPerChunk } from '../codec.js';
import { expandedFeatureNames, orderCategories, type DatasetEncoding, type ImputedColumn, type InputColumn, type MissingStrategy } from '../encoding.js';
import { ColumnStatsAccumulator } from '../stats.js';
import type { ColumnStats } from '../types.js';
import type { ColumnsOutcome } from './columns.js';
import type { Layout } from './layout.js';
import type { TargetDecision } from './targets.js';
import type { UploadConnection } from './upload-pool.js';

/** Most values buffered at once to compute medians (float32: 64 MiB). */
export const MEDIAN_BUFFER_VALUES = 16 * 1024 * 1024;

export interface FinalTable {
  features: number;
  featureNames: string[];
  stats: ColumnStats[];
  chunkCount: number;
}

interface RawChunk {
  rowCount: number;
  features: Float32Array;
  /** Provisional targets: rowCount int32 ids, then rowCount float32 values. */
  ids: Int32Array;
  values: Float32Array;
}

async function readRawChunk(connection: UploadConnection, datasetId: string, index: number, withTargets: boolean): Promise<RawChunk> {
  const { rows } = await connection.query<{ rowCount: number; features: Buffer; targets: Buffer | null }>(
    `SELECT "rowCount", features, ${withTargets ? 'targets' : 'NULL AS targets'} FROM "DatasetChunk" WHERE "datasetId" = $1 AND index = $2`,
    [datasetId, index],
  );
  const { rowCount, features, targets } = rows[0]!;
  const f = new Uint8Array(features); // aligned copies
  const t = targets ? new Uint8Array(targets) : new Uint8Array(0);
  return {
    rowCount,
    features: new Float32Array(f.buffer),
    ids: new Int32Array(t.buffer, 0, targets ? rowCount : 0),
    values: new Float32Array(t.buffer, targets ? rowCount * 4 : 0, targets ? rowCount : 0),
  };
}

/** The encoding the outcome describes (final category order), and the fill value of every column with missing cells. */
export function planEncoding(layout: Layout, outcome: ColumnsOutcome, strategy: MissingStrategy, medians: ReadonlyMap<number, number>): { encoding: DatasetEncoding; fills: (number | null)[]; remaps: (Int32Array | null)[] } {
  const columns: InputColumn[] = [];
  const imputed: ImputedColumn[] = [];
  const fills: (number | null)[] = [];
  const remaps: (Int32Array | null)[] = [];
  outcome.kinds.forEach((kind, c) => {
    const name = layout.featureNames[c]!;
    const missing = outcome.missing[c]!;
    if (kind === 'unknown') {
      throw apiError('DATASET_MISSING_VALUE', `Column "${name}" has no value in any row; there is nothing to impute it from`, { column: name, reason: 'all-missing' });
    }
    if (kind === 'numeric') {
      columns.push({ name, kind: 'numeric' });
      remaps.push(null);
      if (missing === 0) return fills.push(null);
      const value = strategy === 'median' ? medians.get(c)! : Math.fround(outcome.sums[c]! / outcome.present[c]!);
      fills.push(value);
      imputed.push({ column: name, cells: missing, value });
      return;
    }
    const provisional = outcome.categories[c]!;
    const categories = orderCategories(provisional);
    const final = new Map(categories.map((k, i) => [k, i]));
    const remap = Int32Array.from(provisional, (k) => final.get(k)!);
    columns.push({ name, kind: 'categorical', categories });
    remaps.push(remap);
    if (missing === 0) return fills.push(null);
    // The most frequent category; ties go to the first in the final order.
    const counts = outcome.categoryCounts[c]!;
    let best = -1;
    for (let id = 0; id < provisional.length; id++) {
      if (best < 0 || counts[id]! > counts[best]! || (counts[id] === counts[best] && remap[id]! < remap[best]!)) best = id;
    }
    fills.push(best);
    imputed.push({ column: name, cells: missing, value: provisional[best]! });
  });
  return { encoding: { columns, missing: { strategy, droppedRows: outcome.droppedRows, imputed } }, fills, remaps };
}

/** Exact medians of the numeric columns with missing cells, over their present values (see the file comment). */
export async function mediansOf(connection: UploadConnection, datasetId: string, chunkCount: number, rawFeatures: number, outcome: ColumnsOutcome): Promise<Map<number, number>> {
  const wanted = outcome.kinds.flatMap((kind, c) => (kind === 'numeric' && outcome.missing[c]! > 0 ? [c] : []));
  const medians = new Map<number, number>();
  let at = 0;
  while (at < wanted.length) {
    const group: number[] = [];
    let values = 0;
    while (at < wanted.length && (group.length === 0 || values + outcome.present[wanted[at]!]! <= MEDIAN_BUFFER_VALUES)) {
      values += outcome.present[wanted[at]!]!;
      group.push(wanted[at++]!);
    }
    const buffers = group.map((c) => new Float32Array(outcome.present[c]!));
    const filled = new Array<number>(group.length).fill(0);
    for (let index = 0; index < chunkCount; index++) {
      const chunk = await readRawChunk(connection, datasetId, index, false);
      for (let r = 0; r < chunk.rowCount; r++) {
        for (let g = 0; g < group.length; g++) {
          const v = chunk.features[r * rawFeatures + group[g]!]!;
          if (!Number.isNaN(v)) buffers[g]![filled[g]!++] = v;
        }
      }
    }
    group.forEach((c, g) => {
      const sorted = buffers[g]!.sort();
      const n = sorted.length, mid = n >> 1;
      medians.set(c, n % 2 === 1 ? sorted[mid]! : Math.fround((sorted[mid - 1]! + sorted[mid]!) / 2));
    });
  }
  return medians;
}

/**
 * Rewrites the raw chunks 0…chunkCount−1 into the final encoding (see the file comment) and feeds the final bytes to
 * `hash`. Returns the final shape and statistics.
 */
export async function rewriteChunks(
  connection: UploadConnection,
  datasetId: string,
  chunkCount: number,
  layout: Layout,
  encoding: DatasetEncoding,
  fills: readonly (number | null)[],
  remaps: readonly (Int32Array | null)[],
  decision: TargetDecision,
  hash: Hash,
): Promise<FinalTable> {
  const featureNames = expandedFeatureNames(encoding.columns);
  const seen = new Set<string>();
  for (const name of featureNames) {
    if (seen.has(name)) throw apiError('DATASET_MALFORMED', `Two features are named "${name}" once text columns are one-hot encoded; rename a column`, { column: name });
    seen.add(name);
  }
  const rawF = layout.featureNames.length;
  const F = featureNames.length;
  // Where each raw column's values go in a final row.
  const offsets = new Int32Array(rawF);
  for (let c = 0, at = 0; c < rawF; c++) {
    offsets[c] = at;
    const column = encoding.columns[c]!;
    at += column.kind === 'numeric' ? 1 : column.categories.length;
  }
  const capacity = rowsPerChunk(F);
  const out = new Float32Array(capacity * F);
  const outIds = new Int32Array(capacity);
  const outValues = new Float32Array(capacity);
  const stats = new ColumnStatsAccumulator(F);
  let outRows = 0;
  let rowStart = 0;
  let written = 0;
  const flush = async () => {
    if (outRows === 0) return;
    const features = out.subarray(0, outRows * F);
    const targets = decision.encode(outIds.subarray(0, outRows), outValues.subarray(0, outRows));
    const featureBytes = bytesView(features);
    hash.update(featureBytes);
    const targetBytes = bytesView(targets);
    await connection.query(`INSERT INTO "DatasetChunk" ("datasetId", index, "rowStart", "rowCount", features, targets) VALUES ($1, $2, $3, $4, $5, $6)`, [
      datasetId, -1 - written, rowStart, outRows,
      Buffer.from(featureBytes.buffer, featureBytes.byteOffset, featureBytes.byteLength),
      Buffer.from(targetBytes.buffer, targetBytes.byteOffset, targetBytes.byteLength),
    ]);
    written++;
    rowStart += outRows;
    outRows = 0;
  };
  for (let index = 0; index < chunkCount; index++) {
    const chunk = await readRawChunk(connection, datasetId, index, true);
    for (let r = 0; r < chunk.rowCount; r++) {
      const base = outRows * F;
      out.fill(0, base, base + F);
      for (let c = 0; c < rawF; c++) {
        let v = chunk.features[r * rawF + c]!;
        if (Number.isNaN(v)) v = fills[c]!;
        const remap = remaps[c];
        if (remap) out[base + offsets[c]! + remap[v]!] = 1;
        else out[base + offsets[c]!] = v;
      }
      stats.push(out, base);
      outIds[outRows] = chunk.ids[r]!;
      outValues[outRows] = chunk.values[r]!;
      outRows++;
      if (outRows === capacity) await flush();
    }
  }
  await flush();
  await connection.query(`DELETE FROM "DatasetChunk" WHERE "datasetId" = $1 AND index >= 0`, [datasetId]);
  await connection.query(`UPDATE "DatasetChunk" SET index = -index - 1 WHERE "datasetId" = $1 AND index < 0`, [datasetId]);
  for (let index = 0; index < written; index++) {
    const { rows } = await connection.query<{ targets: Buffer }>(`SELECT targets FROM "DatasetChunk" WHERE "datasetId" = $1 AND index = $2`, [datasetId, index]);
    hash.update(rows[0]!.targets);
  }
  return { features: F, featureNames, stats: stats.result(), chunkCount: written };
}
