/**
 * Jobs as the API sees them: create, read, list, request a cancel; and their metrics and checkpoints. Every function
 * takes the caller's tenant id and treats another tenant's rows as absent. (The worker's fenced writes are in
 * src/training/lease.ts.)
 */
import type { DatasetFacts, JobPlan, WarmStartFacts } from '../../jobs/plan.js';
import type { Db, Job, JobStatus } from '../client.js';
import { Prisma } from '../client.js';
import { readArtifactSpec } from '../../models/artifact.js';

export type JobRow = Job & { model: { id: string } | null };

const withModel = { model: { select: { id: true } } } as const;

export async function findDatasetFacts(db: Db, tenantId: string, datasetId: string): Promise<DatasetFacts | null> {
  const d = await db.dataset.findFirst({
    where: { id: datasetId, tenantId },
    select: { id: true, name: true, task: true, rows: true, features: true, featureNames: true, classNames: true },
  });
  return d && {
    id: d.id, name: d.name, task: d.task, rows: d.rows, features: d.features, classes: d.classNames.length, featureNames: d.featureNames, classNames: d.classNames,
  };
}

export async function findWarmStartFacts(db: Db, tenantId: string, modelId: string): Promise<WarmStartFacts | null> {
  const m = await db.model.findFirst({ where: { id: modelId, tenantId }, select: { id: true, task: true, featureNames: true, classNames: true, spec: true } });
  return m && { id: m.id, task: m.task, featureNames: m.featureNames, classNames: m.classNames, network: readArtifactSpec(m.spec) };
}

export async function createJob(db: Prisma.TransactionClient, tenantId: string, plan: JobPlan): Promise<JobRow> {
  return db.job.create({
    data: {
      tenantId,
      datasetId: plan.spec.datasetId,
      warmStartId: plan.spec.warmStartModelId,
      spec: plan.spec as unknown as Prisma.InputJsonValue,
      parameterCount: plan.description.parameterCount,
      totalSteps: plan.totalSteps,
    },
    include: withModel,
  });
}

export async function getJob(db: Db, tenantId: string, id: string): Promise<JobRow | null> {
  return db.job.findFirst({ where: { id, tenantId }, include: withModel });
}

export interface JobFilter {
  status?: JobStatus;
  datasetId?: string;
}

/** A position in the newest-first list: the last item of the previous page. */
export interface JobCursor {
  createdAt: Date;
  id: string;
}

export async function listJobs(db: Db, tenantId: string, filter: JobFilter, limit: number, after: JobCursor | null): Promise<{ items: JobRow[]; next: JobCursor | null }> {
  const where: Prisma.JobWhereInput = { tenantId };
  if (filter.status) where.status = filter.status;
  if (filter.datasetId) where.datasetId = filter.datasetId;
  if (after) {
    where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
  }
  const rows = await db.job.findMany({ where, include: withModel, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

export type CancelOutcome =
  /** It was queued: it is cancelled now. */
  | { kind: 'cancelled'; job: JobRow }
  /** It is running: the request is recorded; the worker stops it. */
  | { kind: 'requested'; job: JobRow }
  /** It had already been cancelled. */
  | { kind: 'already-cancelled'; job: JobRow }
  /** It succeeded or failed. */
  | { kind: 'finished'; job: JobRow }
  | { kind: 'not-found' };

/**
 * Records a cancel request. A queued job becomes cancelled at once (a worker that is just claiming it will find it
 * cancelled: claim and cancel both update the row, so Postgres orders them); a running one gets cancelRequested.
 */
export async function requestCancel(db: Db, tenantId: string, id: string): Promise<CancelOutcome> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ status: JobStatus }[]>`
      SELECT status FROM "Job" WHERE id = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
    const status = locked[0]?.status;
    if (!status) return { kind: 'not-found' } as const;
    if (status === 'queued') {
      const job = await tx.job.update({
        where: { id },
        data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date(), failureReason: 'cancelled before it started' },
        include: withModel,
      });
      return { kind: 'cancelled', job } as const;
    }
    if (status === 'running') {
      const job = await tx.job.update({ where: { id }, data: { cancelRequested: true }, include: withModel });
      return { kind: 'requested', job } as const;
    }
    const job = (await tx.job.findUnique({ where: { id }, include: withModel }))!;
    return status === 'cancelled' ? ({ kind: 'already-cancelled', job } as const) : ({ kind: 'finished', job } as const);
  });
}

export type MetricRow = Prisma.MetricGetPayload<object>;

/** Metrics with step > since, in step order, at most `limit`. Null when the job does not exist for the tenant. */
export async function listMetrics(db: Db, tenantId: string, jobId: string, since: number, limit: number): Promise<MetricRow[] | null> {
  const job = await db.job.findFirst({ where: { id: jobId, tenantId }, select: { id: true } });
  if (!job) return null;
  return db.metric.findMany({ where: { jobId, step: { gt: since } }, orderBy: { step: 'asc' }, take: limit });
}

export interface CheckpointSummary {
  id: string;
  attempt: number;
  step: number;
  epoch: number;
  metric: number | null;
  isBest: boolean;
  /** The step of the best weights it carries (null: none). */
  bestStep: number | null;
  isFinal: boolean;
  bytes: number;
  createdAt: Date;
}

/** The job's checkpoints, newest first, without their state. Null when the job does not exist for the tenant. */
export async function listCheckpoints(db: Db, tenantId: string, jobId: string): Promise<CheckpointSummary[] | null> {
  const job = await db.job.findFirst({ where: { id: jobId, tenantId }, select: { id: true } });
  if (!job) return null;
  return db.$queryRaw<CheckpointSummary[]>`
    SELECT id, attempt, step, epoch, metric, "isBest", "bestStep", "isFinal", octet_length(state)::int AS bytes, "createdAt"
    FROM "Checkpoint" WHERE "jobId" = ${jobId}::uuid ORDER BY step DESC`;
}

export type DeleteJobOutcome = 'deleted' | 'not-found' | 'active';

/**
 * Deletes a finished job (succeeded, failed, cancelled, pruned) with its metrics and checkpoints (they cascade in the
 * same statement: nothing is half-deleted). Its model stays, with `jobId` null (and models promoted from its
 * checkpoints keep their `promotedFrom.step`, job null). A queued or running job is not deleted ('active'): the
 * status check and the delete are one statement, so a job that starts meanwhile is never deleted under its worker.
 */
export async function deleteJob(db: Db, tenantId: string, id: string): Promise<DeleteJobOutcome> {
  const deleted = await db.$executeRaw`
    DELETE FROM "Job" WHERE id = ${id}::uuid AND "tenantId" = ${tenantId}::uuid AND status NOT IN ('queued', 'running')`;
  if (deleted > 0) return 'deleted';
  const exists = await db.job.findFirst({ where: { id, tenantId }, select: { id: true } });
  return exists ? 'active' : 'not-found';
}
