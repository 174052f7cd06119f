/** A Dataset row as the rest of Trainyard sees it (DatasetMeta). */
import type { Dataset } from '../db/client.js';
import { readEncoding } from './encoding.js';
import type { ColumnStats, DatasetMeta, DatasetSource, JsonValue } from './types.js';

/** How `Dataset.stats` is stored. */
export interface StoredStats {
  features: ColumnStats[];
  target: ColumnStats | null;
}

export function toMeta(row: Dataset): DatasetMeta {
  const stats = row.stats as unknown as StoredStats;
  return {
    id: row.id,
    name: row.name,
    source: row.source as DatasetSource,
    sourceParams: row.sourceParams as { [key: string]: JsonValue },
    task: row.task,
    rows: row.rows,
    features: row.features,
    featureNames: row.featureNames,
    targetName: row.targetName,
    classNames: row.classNames,
    classCounts: row.classCounts,
    stats: stats.features,
    targetStats: stats.target,
    byteSize: Number(row.byteSize),
    contentHash: row.contentHash,
    chunkCount: row.chunkCount,
    encoding: readEncoding(row.encoding, row.featureNames),
    createdAt: row.createdAt,
  };
}
