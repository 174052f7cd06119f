/**
 * The worker's lease on a Job row, and every write a worker makes, fenced by it.
 *
 * Claiming increments `attempt`: that number is the fencing token. Each write below runs in one transaction that first
 * updates the Job row `WHERE id = job AND attempt = ours AND status = 'running'`; zero rows means another worker
 * claimed the job since (or it was finished), so the transaction throws {@link LeaseLostError} and writes nothing. The
 * claim updates the same row, so Postgres orders the two: a write either commits before the takeover or not at all.
 *
 * Every write is safe to retry after an error whose commit is unknown (the connection broke while committing):
 * metrics and checkpoints are upserts, warnings are added once, and a finishing write that finds its own outcome
 * already stored under the same attempt reports success instead of a lost lease.
 *
 * Transactions hold no compute and no network waits besides their own statements: callers prepare everything
 * (checkpoint bytes, model row) before, and publish events after the commit. Sessions carry lock and
 * idle-in-transaction timeouts (src/db/client.ts), so a frozen holder's locks are released.
 */
import type { Db, Job, JobStatus } from '../db/client.js';
import { Prisma } from '../db/client.js';
import { parseWarnings, type JobWarning, type MetricRecord } from '../queue/job-events.js';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(readonly jobId: string, readonly attempt: number) {
    super(`job ${jobId}: attempt ${attempt} no longer holds the lease (another worker took the job over, or it was finished)`);
  }
}

export interface Lease {
  jobId: string;
  tenantId: string;
  /** The fencing token. */
  attempt: number;
  workerId: string;
  /** How long a heartbeat keeps the lease alive (leaseExpiresAt = now + this). */
  leaseMs: number;
}

export type ClaimResult =
  | { kind: 'claimed'; lease: Lease; job: Job }
  /** A cancel had been requested: the job is now cancelled. */
  | { kind: 'cancelled'; job: Job }
  /** No such job, or it already finished: nothing to do. */
  | { kind: 'finished'; status: JobStatus | null };

type Tx = Prisma.TransactionClient;

/** Takes the lease: attempt + 1, status running. Works for queued jobs and for running ones whose worker died. */
export async function claimJob(db: Db, jobId: string, workerId: string, leaseMs: number): Promise<ClaimResult> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ status: JobStatus; cancelRequested: boolean; startedAt: Date | null }[]>`
      SELECT status, "cancelRequested", "startedAt" FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    const row = rows[0];
    if (!row || (row.status !== 'queued' && row.status !== 'running')) return { kind: 'finished', status: row?.status ?? null } as const;
    if (row.cancelRequested) {
      const job = await tx.job.update({
        where: { id: jobId },
        data: { status: 'cancelled', finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null, failureReason: 'cancelled on request' },
      });
      return { kind: 'cancelled', job } as const;
    }
    const job = await tx.job.update({
      where: { id: jobId },
      data: {
        attempt: { increment: 1 },
        status: 'running',
        leaseOwner: workerId,
        leaseExpiresAt: new Date(Date.now() + leaseMs),
        startedAt: row.startedAt ?? new Date(),
        failureCode: null,
        failureReason: null,
      },
    });
    return { kind: 'claimed', job, lease: { jobId, tenantId: job.tenantId, attempt: job.attempt, workerId, leaseMs } } as const;
  });
}

/**
 * The fence: updates our Job row (with `data`) only while we hold the lease; throws LeaseLostError otherwise. A
 * finishing write names the status it sets (`finishing`): when the row already has it under our attempt, our own
 * earlier try committed (its reply was lost) and the fence returns false: nothing more to write.
 */
async function fence(tx: Tx, lease: Lease, data: Prisma.JobUpdateManyMutationInput = {}, finishing?: JobStatus): Promise<boolean> {
  const { count } = await tx.job.updateMany({
    where: { id: lease.jobId, attempt: lease.attempt, status: 'running' },
    data: { leaseExpiresAt: new Date(Date.now() + lease.leaseMs), ...data },
  });
  if (count > 0) return true;
  if (finishing) {
    const row = await tx.job.findUnique({ where: { id: lease.jobId }, select: { status: true, attempt: true } });
    if (row?.status === finishing && row.attempt === lease.attempt) return false;
  }
  throw new LeaseLostError(lease.jobId, lease.attempt);
}

/** Renews the lease; returns whether a cancel was requested. */
export async function heartbeat(db: Db, lease: Lease): Promise<{ cancelRequested: boolean }> {
  return db.$transaction(async (tx) => {
    await fence(tx, lease);
    const job = await tx.job.findUnique({ where: { id: lease.jobId }, select: { cancelRequested: true } });
    return { cancelRequested: job?.cancelRequested ?? false };
  });
}

export interface Progress {
  epoch: number;
  step: number;
}

/**
 * Upserts metric records on (jobId, step), adds the training-health warnings raised at them and moves the job's
 * progress. Returns the warnings that were new (see {@link addWarnings}).
 */
export async function writeMetrics(
  db: Db, lease: Lease, records: readonly MetricRecord[], progress: Progress, warnings: readonly JobWarning[] = [],
): Promise<JobWarning[]> {
  if (records.length === 0 && warnings.length === 0) return [];
  return db.$transaction(async (tx) => {
    await fence(tx, lease, { epoch: progress.epoch, step: progress.step });
    await upsertMetrics(tx, lease.jobId, records);
    return addWarnings(tx, lease.jobId, warnings);
  });
}

/**
 * Appends warnings to Job.warnings, except those already there (same code and layer: a resumed attempt raises again
 * what the previous one raised after its last checkpoint); returns the ones added. Runs after the fence, which holds
 * the row's lock until the commit.
 */
async function addWarnings(tx: Tx, jobId: string, warnings: readonly JobWarning[]): Promise<JobWarning[]> {
  if (warnings.length === 0) return [];
  const row = await tx.job.findUniqueOrThrow({ where: { id: jobId }, select: { warnings: true } });
  const stored = parseWarnings(row.warnings);
  const added: JobWarning[] = [];
  for (const w of warnings) {
    if (![...stored, ...added].some((s) => s.code === w.code && s.layer === w.layer)) added.push(w);
  }
  if (added.length > 0) await tx.job.update({ where: { id: jobId }, data: { warnings: [...stored, ...added] as unknown as Prisma.InputJsonArray } });
  return added;
}

/**
 * The records as one JSON parameter, expanded by Postgres (jsonb_array_elements): a batch of a hundred records is one
 * bound value rather than 1,400, which the client would otherwise encode one by one (it was most of a short job's
 * database time on the worker). Numbers are exact: a JSON number's digits are parsed as float8 as a parameter's text
 * would be; non-finite ones travel as the strings float8 reads ('Infinity', 'NaN').
 */
async function upsertMetrics(tx: Tx, jobId: string, records: readonly MetricRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = JSON.stringify(records.map((r) => ({
    step: r.step, epoch: r.epoch, trainLoss: exact(r.trainLoss), dataLoss: exact(r.dataLoss), regLoss: exact(r.regLoss),
    trainAccuracy: exact(r.trainAccuracy), valLoss: exact(r.valLoss), valAccuracy: exact(r.valAccuracy), valRmse: exact(r.valRmse),
    valR2: exact(r.valR2), learningRate: exact(r.learningRate), samplesPerSec: exact(r.samplesPerSec), layers: r.layers,
  })));
  await tx.$executeRaw`
    INSERT INTO "Metric" ("jobId", step, epoch, "trainLoss", "dataLoss", "regLoss", "trainAccuracy", "valLoss", "valAccuracy",
      "valRmse", "valR2", "learningRate", "samplesPerSec", layers)
    SELECT ${jobId}::uuid, (e->>'step')::int, (e->>'epoch')::int, (e->>'trainLoss')::float8, (e->>'dataLoss')::float8,
      (e->>'regLoss')::float8, (e->>'trainAccuracy')::float8, (e->>'valLoss')::float8, (e->>'valAccuracy')::float8,
      (e->>'valRmse')::float8, (e->>'valR2')::float8, (e->>'learningRate')::float8, (e->>'samplesPerSec')::float8, e->'layers'
    FROM jsonb_array_elements(${rows}::jsonb) AS e
    ON CONFLICT ("jobId", step) DO UPDATE SET epoch = EXCLUDED.epoch, "trainLoss" = EXCLUDED."trainLoss",
      "dataLoss" = EXCLUDED."dataLoss", "regLoss" = EXCLUDED."regLoss", "trainAccuracy" = EXCLUDED."trainAccuracy",
      "valLoss" = EXCLUDED."valLoss", "valAccuracy" = EXCLUDED."valAccuracy", "valRmse" = EXCLUDED."valRmse",
      "valR2" = EXCLUDED."valR2", "learningRate" = EXCLUDED."learningRate", "samplesPerSec" = EXCLUDED."samplesPerSec",
      layers = EXCLUDED.layers`;
}

/** A number for the JSON above: finite ones as they are, the others as float8's spelling of them. */
function exact(x: number | null): number | string | null {
  return x === null || Number.isFinite(x) ? x : String(x);
}

export interface CheckpointWrite {
  step: number;
  epoch: number;
  state: Uint8Array<ArrayBuffer>;
  /** The monitored metric at this checkpoint (epoch ends), else null. */
  metric: number | null;
  /** It holds the best weights so far: the previous best loses the mark. */
  isBest: boolean;
  /** The step of the best weights it holds (null: none). */
  bestStep?: number | null;
  /** The best monitored value so far and the metrics of that epoch (copied to the Job row). */
  best: { metric: number; metrics: Prisma.InputJsonObject } | null;
}

/**
 * Stores a checkpoint, with the metric records not yet written (all of them up to its step) and their warnings, and
 * prunes: keeps the newest `keep` and the best one (the newest is the one a resume needs, so it is never deleted). One
 * transaction: all or nothing. Returns the checkpoint's id and the warnings that were new. `prune: false` skips the
 * pruning statement, for a caller that knows the job has at most `keep` checkpoints with this one.
 */
export async function writeCheckpoint(
  db: Db, lease: Lease, cp: CheckpointWrite, keep: number, metrics: readonly MetricRecord[] = [], warnings: readonly JobWarning[] = [],
  options: { prune?: boolean } = {},
): Promise<{ checkpointId: string; warnings: JobWarning[] }> {
  return db.$transaction(async (tx) => {
    await fence(tx, lease, { epoch: cp.epoch, step: cp.step, ...(cp.best ? { bestMetric: cp.best.metric, bestMetrics: cp.best.metrics } : {}) });
    await upsertMetrics(tx, lease.jobId, metrics);
    const added = await addWarnings(tx, lease.jobId, warnings);
    if (cp.isBest) await tx.checkpoint.updateMany({ where: { jobId: lease.jobId, isBest: true }, data: { isBest: false } });
    const data = { attempt: lease.attempt, epoch: cp.epoch, state: cp.state, metric: cp.metric, isBest: cp.isBest, bestStep: cp.bestStep ?? null };
    const row = await tx.checkpoint.upsert({
      where: { jobId_step: { jobId: lease.jobId, step: cp.step } },
      create: { jobId: lease.jobId, step: cp.step, ...data },
      update: data,
      select: { id: true },
    });
    if (options.prune !== false) {
      await tx.$executeRaw`
        DELETE FROM "Checkpoint" WHERE "jobId" = ${lease.jobId}::uuid AND NOT "isBest" AND NOT "isFinal"
          AND step NOT IN (SELECT step FROM "Checkpoint" WHERE "jobId" = ${lease.jobId}::uuid ORDER BY step DESC LIMIT ${keep})`;
    }
    return { checkpointId: row.id, warnings: added };
  });
}

export interface ModelWrite {
  name: string;
  datasetId: string | null;
  task: 'classification' | 'regression';
  spec: Prisma.InputJsonValue;
  parameterCount: number;
  featureNames: string[];
  classNames: string[];
  preprocessing: Prisma.InputJsonValue;
  weights: Uint8Array<ArrayBuffer>;
  metrics: Prisma.InputJsonValue;
  inputRange: Prisma.InputJsonValue;
  /** The dataset's encoding (src/datasets/encoding.ts); {} for none. */
  inputEncoding?: Prisma.InputJsonValue;
}

/**
 * Success: the model (exactly one per job: Model.jobId is unique and this runs under the fence), the final metrics, the
 * final checkpoint marked, status succeeded. Returns the model id.
 */
export async function finishSucceeded(
  db: Db, lease: Lease, model: ModelWrite, result: { finalMetrics: Prisma.InputJsonObject; finalStep: number; epoch: number },
): Promise<string> {
  return db.$transaction(async (tx) => {
    const first = await fence(tx, lease, {
      status: 'succeeded', finishedAt: new Date(), finalMetrics: result.finalMetrics, step: result.finalStep, epoch: result.epoch,
      leaseOwner: null, leaseExpiresAt: null,
    }, 'succeeded');
    const existing = await tx.model.findUnique({ where: { jobId: lease.jobId }, select: { id: true } });
    if (!first && existing) return existing.id;
    const id = existing?.id ?? (await tx.model.create({ data: { ...model, tenantId: lease.tenantId, jobId: lease.jobId }, select: { id: true } })).id;
    await tx.checkpoint.updateMany({ where: { jobId: lease.jobId, step: result.finalStep }, data: { isFinal: true } });
    return id;
  });
}

/** Terminal failure (divergence, a dataset that vanished, an engine error): checkpoints are kept. */
export async function finishFailed(db: Db, lease: Lease, code: string, reason: string): Promise<void> {
  await db.$transaction((tx) => fence(tx, lease, { status: 'failed', failureCode: code, failureReason: reason, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null }, 'failed'));
}

export async function finishCancelled(db: Db, lease: Lease, reason: string): Promise<void> {
  await db.$transaction((tx) => fence(tx, lease, { status: 'cancelled', failureReason: reason, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null }, 'cancelled'));
}

/** Stopped by its sweep's ASHA pruning (src/sweeps/pruning.ts): status pruned, the reason kept; checkpoints are kept. */
export async function finishPruned(db: Db, lease: Lease, reason: string): Promise<void> {
  await db.$transaction((tx) => fence(tx, lease, { status: 'pruned', failureCode: 'PRUNED', failureReason: reason, finishedAt: new Date(), leaseOwner: null, leaseExpiresAt: null }, 'pruned'));
}

/** Gives the job back to the queue (a stopping worker): status queued, no lease holder. */
export async function handBackJob(db: Db, lease: Lease): Promise<void> {
  await db.$transaction((tx) => fence(tx, lease, { status: 'queued', leaseOwner: null, leaseExpiresAt: null }, 'queued'));
}
