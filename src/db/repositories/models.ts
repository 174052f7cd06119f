/**
 * Models as the API sees them: list, read (with or without the weights), delete, create (import, promotion), edit
 * (name, description, tags), and the registry: versions of a name and aliases pointing at one version. Every function
 * takes the caller's tenant id and treats another tenant's rows as absent. (A training job writes its model through
 * src/training/lease.ts.) Version numbers are assigned by the database (src/models/versions.ts).
 */
import type { Db, Model } from '../client.js';
import { Prisma } from '../client.js';
import type { VersionRef } from '../../models/versions.js';

/** Everything but the weights, with the names of the aliases pointing at it. */
export type ModelInfo = Omit<Model, 'weights'> & { aliases: { alias: string }[] };

const infoSelect = {
  id: true, tenantId: true, jobId: true, datasetId: true, name: true, task: true, spec: true, parameterCount: true,
  featureNames: true, classNames: true, preprocessing: true, metrics: true, inputRange: true, inputEncoding: true, createdAt: true,
  version: true, description: true, tags: true, promotedFromJobId: true, promotedFromStep: true,
  aliases: { select: { alias: true }, orderBy: { alias: 'asc' } },
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
 * statement, so the check and the delete see the same snapshot. Its aliases go with it.
 */
export async function deleteModel(db: Db, tenantId: string, id: string): Promise<DeleteOutcome> {
  const deleted = await db.$executeRaw`
    DELETE FROM "Model" m WHERE m.id = ${id}::uuid AND m."tenantId" = ${tenantId}::uuid
      AND NOT EXISTS (SELECT 1 FROM "Job" j WHERE j."warmStartId" = m.id AND j.status IN ('queued', 'running'))`;
  if (deleted > 0) return 'deleted';
  const exists = await db.model.findFirst({ where: { id, tenantId }, select: { id: true } });
  return exists ? 'in-use' : 'not-found';
}

export type NewModel = Omit<Prisma.ModelUncheckedCreateInput, 'tenantId' | 'id' | 'createdAt' | 'version'>;

/** Creates a model; the database makes it the next version of its name. */
export async function createModel(db: Db, tenantId: string, data: NewModel): Promise<ModelInfo> {
  return db.model.create({ data: { ...data, tenantId }, select: infoSelect });
}

export interface ModelPatch {
  name?: string;
  description?: string | null;
  tags?: string[];
}

/**
 * Edits a model. A new name makes it the next version of that name, and the aliases that pointed at it (aliases of
 * its old name) are removed. Null when the model does not exist for the tenant.
 */
export async function updateModel(db: Db, tenantId: string, id: string, patch: ModelPatch): Promise<ModelInfo | null> {
  return db.$transaction(async (tx) => {
    const current = await tx.model.findFirst({ where: { id, tenantId }, select: { name: true } });
    if (!current) return null;
    const data: Prisma.ModelUpdateInput = {};
    if (patch.description !== undefined) data.description = patch.description;
    if (patch.tags !== undefined) data.tags = [...new Set(patch.tags)];
    if (patch.name !== undefined && patch.name !== current.name) {
      data.name = patch.name; // the database makes it the next version of that name
      await tx.modelAlias.deleteMany({ where: { tenantId, modelId: id } });
    }
    return tx.model.update({ where: { id }, data, select: infoSelect });
  });
}

/** The versions of a name, newest first. */
export async function listVersions(db: Db, tenantId: string, name: string): Promise<ModelInfo[]> {
  return db.model.findMany({ where: { tenantId, name }, select: infoSelect, orderBy: { version: 'desc' } });
}

/** The model a reference names (`name@alias`, `name@3`, `name`: the latest), or null. */
export async function resolveVersionRef(db: Db, tenantId: string, ref: VersionRef): Promise<{ id: string; version: number } | null> {
  if ('alias' in ref) {
    const a = await db.modelAlias.findUnique({ where: { tenantId_name_alias: { tenantId, name: ref.name, alias: ref.alias } }, select: { model: { select: { id: true, version: true } } } });
    return a?.model ?? null;
  }
  if ('version' in ref) return db.model.findFirst({ where: { tenantId, name: ref.name, version: ref.version }, select: { id: true, version: true } });
  return db.model.findFirst({ where: { tenantId, name: ref.name }, orderBy: { version: 'desc' }, select: { id: true, version: true } });
}

/** Points `alias` of `name` at `version` (created or moved). Null when there is no such version. */
export async function setAlias(db: Db, tenantId: string, name: string, alias: string, version: number): Promise<ModelInfo | null> {
  return db.$transaction(async (tx) => {
    const model = await tx.model.findFirst({ where: { tenantId, name, version }, select: { id: true } });
    if (!model) return null;
    await tx.modelAlias.upsert({
      where: { tenantId_name_alias: { tenantId, name, alias } },
      create: { tenantId, name, alias, modelId: model.id },
      update: { modelId: model.id },
    });
    return tx.model.findUniqueOrThrow({ where: { id: model.id }, select: infoSelect });
  });
}

/** Removes an alias; false when it did not exist. */
export async function deleteAlias(db: Db, tenantId: string, name: string, alias: string): Promise<boolean> {
  const { count } = await db.modelAlias.deleteMany({ where: { tenantId, name, alias } });
  return count > 0;
}
