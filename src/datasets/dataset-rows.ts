/**
 * The Prisma writes of an in-memory dataset (store.ts), inside the caller's transaction: the Dataset row and its
 * chunks. Nobody sees a dataset before its transaction commits, and a failed one leaves nothing behind. (Streamed
 * uploads write the same rows through node-postgres: ingest/pg-writes.ts.)
 */
import { Prisma, type Dataset } from '../db/client.js';
import { storedBytes } from './codec.js';
import type { StoredStats } from './meta.js';
import type { DatasetSource, DatasetTask, JsonValue } from './types.js';

export type Tx = Prisma.TransactionClient;

/** A dataset is written in one transaction; MNIST-sized sets take a few seconds. */
export const WRITE_TRANSACTION = { timeout: 120_000, maxWait: 30_000 } as const;

export interface DatasetHeader {
  tenantId: string;
  name: string;
  source: DatasetSource;
  sourceParams: { [key: string]: JsonValue };
  featureNames: string[];
  targetName: string;
}

export interface DatasetSummary {
  task: DatasetTask;
  rows: number;
  classNames: string[];
  classCounts: number[];
  stats: StoredStats;
  contentHash: string;
  chunkCount: number;
}

export interface ChunkBytes {
  rowStart: number;
  rowCount: number;
  features: Uint8Array<ArrayBuffer>;
  targets: Uint8Array<ArrayBuffer>;
}

export async function createDataset(tx: Tx, header: DatasetHeader, s: DatasetSummary): Promise<Dataset> {
  return tx.dataset.create({
    data: {
      ...header,
      sourceParams: header.sourceParams as Prisma.InputJsonObject,
      features: header.featureNames.length,
      ...summaryColumns(s, header.featureNames.length),
    },
  });
}

export async function insertChunk(tx: Tx, datasetId: string, index: number, chunk: ChunkBytes): Promise<void> {
  await tx.datasetChunk.createMany({ data: [{ datasetId, index, ...chunk }] });
}

function summaryColumns(s: DatasetSummary, features: number) {
  return {
    task: s.task,
    rows: s.rows,
    classNames: s.classNames,
    classCounts: s.classCounts,
    stats: s.stats as unknown as Prisma.InputJsonObject,
    byteSize: BigInt(storedBytes(s.rows, features)),
    contentHash: s.contentHash,
    chunkCount: s.chunkCount,
  };
}
