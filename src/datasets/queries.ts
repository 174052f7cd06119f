/**
 * The read side of datasets and their deletion, always scoped by tenant: another tenant's dataset is DATASET_NOT_FOUND,
 * exactly like one that never existed.
 *
 * Listing is newest first with an opaque cursor (keyset pagination on (createdAt, id)), so pages stay stable while
 * datasets are added and cost the same at any depth.
 */
import { Prisma, type Db } from '../db/client.js';
import { apiError } from '../errors.js';
import { copyBytesInto } from './codec.js';
import { isUuid } from './ids.js';
import { toMeta } from './meta.js';
import type { DatasetMeta, DatasetSource, DatasetTask } from './types.js';

export interface DatasetSummary {
  id: string;
  name: string;
  source: DatasetSource;
  task: DatasetTask;
  rows: number;
  features: number;
  /** Number of classes; 0 for regression. */
  classes: number;
  byteSize: number;
  contentHash: string;
  createdAt: Date;
}

export interface DatasetPage {
  items: DatasetSummary[];
  nextCursor: string | null;
}

export async function listDatasets(db: Db, tenantId: string, page: { limit: number; cursor?: string | undefined }): Promise<DatasetPage> {
  const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
  const rows = await db.dataset.findMany({
    where: {
      tenantId,
      ...(after && { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
    select: { id: true, name: true, source: true, task: true, rows: true, features: true, classNames: true, byteSize: true, contentHash: true, createdAt: true },
  });
  const items = rows.slice(0, page.limit).map(({ classNames, byteSize, source, ...rest }) => ({
    ...rest,
    source: source as DatasetSource,
    classes: classNames.length,
    byteSize: Number(byteSize),
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > page.limit && last ? encodeCursor(last) : null };
}

/** The dataset, or DATASET_NOT_FOUND. */
export async function getDataset(db: Db, tenantId: string, id: string): Promise<DatasetMeta> {
  const row = isUuid(id) ? await db.dataset.findFirst({ where: { id, tenantId } }) : null;
  if (!row) throw notFound(id);
  return toMeta(row);
}

export interface RowsPage {
  offset: number;
  /** rows×F, row-major. */
  x: Float32Array;
  y: Int32Array | Float32Array;
}

/**
 * Rows [offset, offset + limit) of a dataset the caller may see (from getDataset), fewer at the end and none past it,
 * read from the chunks that hold them.
 */
export async function readRows(db: Db, meta: DatasetMeta, offset: number, limit: number): Promise<RowsPage> {
  const { id, features: F } = meta;
  const end = Math.min(meta.rows, offset + limit);
  const count = Math.max(0, end - offset);
  const x = new Float32Array(count * F);
  const y = meta.task === 'classification' ? new Int32Array(count) : new Float32Array(count);
  if (count === 0) return { offset, x, y };
  const select = { rowStart: true, rowCount: true, features: true, targets: true } as const;
  const first = await db.datasetChunk.findFirst({ where: { datasetId: id, rowStart: { lte: offset } }, orderBy: { rowStart: 'desc' }, select });
  const rest = await db.datasetChunk.findMany({ where: { datasetId: id, rowStart: { gt: offset, lt: end } }, orderBy: { rowStart: 'asc' }, select });
  for (const chunk of first ? [first, ...rest] : rest) {
    const from = Math.max(offset, chunk.rowStart);
    const to = Math.min(end, chunk.rowStart + chunk.rowCount);
    if (to <= from) continue;
    const skip = from - chunk.rowStart;
    copyBytesInto(x, (from - offset) * F, chunk.features.subarray(skip * F * 4, (to - chunk.rowStart) * F * 4));
    copyBytesInto(y, from - offset, chunk.targets.subarray(skip * 4, (to - chunk.rowStart) * 4));
  }
  return { offset, x, y };
}

/**
 * Deletes the dataset and its chunks, or refuses with DATASET_IN_USE while a queued or running job references it.
 * The row is locked FOR UPDATE first: a job being inserted for it (whose foreign key takes a KEY SHARE lock) either
 * committed before (and is seen by the check) or waits and then fails its foreign key.
 */
export async function deleteDataset(db: Db, tenantId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound(id);
  await db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>(
      Prisma.sql`SELECT id FROM "Dataset" WHERE id = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`,
    );
    if (locked.length === 0) throw notFound(id);
    const jobs = await tx.job.findMany({ where: { datasetId: id, status: { in: ['queued', 'running'] } }, select: { id: true }, take: 20 });
    if (jobs.length > 0) {
      throw apiError('DATASET_IN_USE', `Dataset ${id} is used by ${jobs.length === 20 ? 'at least 20' : jobs.length} queued or running job(s); cancel them or wait`, {
        jobs: jobs.map((j) => j.id),
      });
    }
    await tx.dataset.delete({ where: { id } });
  });
}

function notFound(id: string) {
  return apiError('DATASET_NOT_FOUND', `No dataset ${id}`, { id });
}

function encodeCursor(last: { createdAt: Date; id: string }): string {
  return Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw apiError('VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', { errors: [{ path: 'querystring.cursor', message: 'is invalid' }] });
  }
  return { createdAt, id };
}
