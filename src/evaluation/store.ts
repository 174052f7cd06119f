/** Evaluations in Postgres (the Evaluation table): create, list a model's (newest first), read one. Scoped by tenant. */
import type { Db } from '../db/client.js';
import type { Prisma } from '../db/client.js';
import type { EvaluationMetrics } from './metrics.js';

export interface EvaluationRecord {
  id: string;
  modelId: string;
  source: 'dataset' | 'inline';
  datasetId: string | null;
  task: 'classification' | 'regression';
  rows: number;
  metrics: EvaluationMetrics;
  createdAt: Date;
}

export interface EvaluationCursor {
  createdAt: Date;
  id: string;
}

const select = { id: true, modelId: true, source: true, datasetId: true, task: true, rows: true, metrics: true, createdAt: true } as const satisfies Prisma.EvaluationSelect;

type Row = Prisma.EvaluationGetPayload<{ select: typeof select }>;

function record(row: Row): EvaluationRecord {
  return { ...row, source: row.source as EvaluationRecord['source'], metrics: row.metrics as unknown as EvaluationMetrics };
}

export async function createEvaluation(db: Db, tenantId: string, e: Omit<EvaluationRecord, 'id' | 'createdAt'>): Promise<EvaluationRecord> {
  const row = await db.evaluation.create({
    data: { tenantId, modelId: e.modelId, source: e.source, datasetId: e.datasetId, task: e.task, rows: e.rows, metrics: JSON.parse(JSON.stringify(e.metrics)) as Prisma.InputJsonObject },
    select,
  });
  return record(row);
}

export async function listEvaluations(db: Db, tenantId: string, modelId: string, limit: number, after: EvaluationCursor | null): Promise<{ items: EvaluationRecord[]; next: EvaluationCursor | null }> {
  const where: Prisma.EvaluationWhereInput = { tenantId, modelId };
  if (after) where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
  const rows = await db.evaluation.findMany({ where, select, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  const items = rows.slice(0, limit).map(record);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

export async function getEvaluation(db: Db, tenantId: string, modelId: string, id: string): Promise<EvaluationRecord | null> {
  const row = await db.evaluation.findFirst({ where: { id, tenantId, modelId }, select });
  return row ? record(row) : null;
}
