/**
 * Models as the API sees them: list, read (with or without the weights), delete, create (import). Every function takes
 * the caller's tenant id and treats another tenant's rows as absent. (A training job writes its model through
 * src/training/lease.ts.)
 */
import type { Db, Model } from '../client.js';
import { Prisma } from '../client.js';

/** Everything but the weights. */
export type ModelInfo = Omit<Model, 'weights'>;

const infoSelect = {
  id: true, tenantId: true, jobId: true, datasetId: true, name: true, task: true, spec: true, parameterCount: true,
  featureNames: true, classNames: true, preprocessing: true, metrics: true, inputRange: true, createdAt: true,
} as const satisfies Prisma.ModelSelect;

/** A position in the newest-first list: the last item of the previous page. */
export interface ModelCursor {
  createdAt: Date;
  id: string;
}

export async function listModels(db: Db, tenantId: string, limit: number, after: ModelCursor | null): Promise<{ items: ModelInfo[]; next: ModelCursor | null }> {
  const where: Prisma.ModelWhereInput = { tenantId };
  if (after) where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
  const rows = await db.model.findMany({ where, select: infoSelect, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

export async function getModelInfo(db: Db, tenantId: string, id: string): Promise<ModelInfo | null> {
  return db.model.findFirst({ where: { id, tenantId }, select: infoSelect });
}

/** The whole row, weights included (inference, export). */
export async function getModel(db: Db, tenantId: string, id: string): Promise<Model | null> {
  return db.model.findFirst({ where: { id, tenantId } });
}

export type DeleteOutcome = 'deleted' | 'not-found' | 'in-use';

/**
 * Deletes the model unless a queued or running job warm-starts from it (that job still needs its weights). One
 * statement, so the check and the delete see the same snapshot.
 */
export async function deleteModel(db: Db, tenantId: string, id: string): Promise<DeleteOutcome> {
  const deleted = await db.$executeRaw`
    DELETE FROM "Model" m WHERE m.id = ${id}::uuid AND m."tenantId" = ${tenantId}::uuid
      AND NOT EXISTS (SELECT 1 FROM "Job" j WHERE j."warmStartId" = m.id AND j.status IN ('queued', 'running'))`;
  if (deleted > 0) return 'deleted';
  const exists = await db.model.findFirst({ where: { id, tenantId }, select: { id: true } });
  return exists ? 'in-use' : 'not-found';
}

export type NewModel = Omit<Prisma.ModelUncheckedCreateInput, 'tenantId' | 'id' | 'createdAt'>;

export async function createModel(db: Db, tenantId: string, data: NewModel): Promise<ModelInfo> {
  return db.model.create({ data: { ...data, tenantId }, select: infoSelect });
}
