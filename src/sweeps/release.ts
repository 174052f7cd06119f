/**
 * Releasing a sweep's trials: a trial becomes an ordinary Job (queued, enqueued with its tenant-fair priority) only
 * when fewer than `maxConcurrent` of the sweep's trials are queued or running, and within the tenant's queued-jobs
 * limit (MAX_QUEUED_JOBS_PER_TENANT: a trial that does not fit now is released by a later call). When every trial has
 * a Job and none is live, the sweep gets its final status.
 *
 * Called by the API (at creation, after a cancel), by the worker when a job of a sweep ends, and by the reconciler for
 * every running sweep — so a crash between a trial's end and the next release never strands a sweep. Postgres is the
 * source of truth: the sweep row is locked (FOR UPDATE) and then the tenant's queued-jobs lock taken, so concurrent
 * callers release each trial once (Job has a unique (sweepId, sweepTrial) as well). Enqueueing happens after the commit;
 * if it fails, the row stays queued and the reconciler enqueues it.
 */
import type { Logger } from 'pino';
import type { Db, JobStatus, Prisma } from '../db/client.js';
import type { SweepStatus } from '../generated/prisma/client.js';
import { findDatasetFacts, findWarmStartFacts } from '../db/repositories/jobs.js';
import { lockTenant } from '../db/tenant-locks.js';
import type { DatasetFacts, PlanLimits, WarmStartFacts } from '../jobs/plan.js';
import { enqueueTraining } from '../queue/enqueue-training.js';
import { trainingPriority } from '../queue/priority.js';
import type { TrainingQueue } from '../queue/training-queue.js';
import { ArtifactError } from '../models/artifact.js';
import { sweepFacts, trialOptions, type StoredTrial, type SweepFacts } from './stored.js';
import { planTrial } from './trial-spec.js';

export interface ReleaseDeps {
  db: Db;
  queue: TrainingQueue;
  limits: PlanLimits & { tenantQueuedJobs: number };
  log: Pick<Logger, 'warn'>;
}

export interface ReleasedTrial {
  jobId: string;
  tenantId: string;
  priority: number | undefined;
}

const LIVE: readonly JobStatus[] = ['queued', 'running'];
const TX = { maxWait: 10_000, timeout: 20_000 } as const;

/** Releases what may run now and finishes the sweep when it is done. Returns the jobs released (already enqueued). */
export async function releaseTrials(deps: ReleaseDeps, sweepId: string): Promise<ReleasedTrial[]> {
  const { db } = deps;
  const row = await db.sweep.findUnique({ where: { id: sweepId } });
  if (!row || row.status !== 'running') return [];
  const sweep = sweepFacts(row);
  const facts = await planningFacts(db, sweep);
  const released = await db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ status: SweepStatus }[]>`
      SELECT status FROM "Sweep" WHERE id = ${sweepId}::uuid FOR UPDATE`;
    if (locked[0]?.status !== 'running') return [];
    const fresh = await tx.sweep.findUniqueOrThrow({ where: { id: sweepId } }); // releasedTrials as of the lock
    return releaseLocked(tx, sweepFacts(fresh), fresh.cancelRequested, facts, deps.limits);
  }, TX);
  await enqueueReleased(deps, released);
  return released;
}

export async function enqueueReleased(deps: Pick<ReleaseDeps, 'queue' | 'log'>, released: readonly ReleasedTrial[]): Promise<void> {
  for (const r of released) {
    await enqueueTraining(deps.queue, { jobId: r.jobId, tenantId: r.tenantId }, r.priority)
      .catch((error: unknown) => deps.log.warn({ err: error, jobId: r.jobId }, 'could not enqueue a sweep trial; the reconciler will'));
  }
}

export interface PlanningFacts {
  dataset: DatasetFacts | null;
  warmStart: WarmStartFacts | null;
}

export async function planningFacts(db: Db, sweep: Pick<SweepFacts, 'tenantId' | 'datasetId' | 'baseSpec'>): Promise<PlanningFacts> {
  const dataset = await findDatasetFacts(db, sweep.tenantId, sweep.datasetId);
  let warmStart: WarmStartFacts | null = null;
  if (sweep.baseSpec.warmStartModelId) {
    warmStart = await findWarmStartFacts(db, sweep.tenantId, sweep.baseSpec.warmStartModelId).catch((error: unknown) => {
      if (error instanceof ArtifactError) return null;
      throw error;
    });
  }
  return { dataset, warmStart };
}

/**
 * In a transaction holding the sweep's row lock: creates the Jobs of the next trials that may run, or finishes the
 * sweep. A trial that no longer plans (its dataset or warm-start model was deleted since) becomes a failed Job.
 */
export async function releaseLocked(
  tx: Prisma.TransactionClient, sweep: SweepFacts, cancelRequested: boolean, facts: PlanningFacts, limits: ReleaseDeps['limits'],
): Promise<ReleasedTrial[]> {
  await lockTenant(tx, 'queuedJobs', sweep.tenantId);
  const jobs = await tx.job.findMany({ where: { sweepId: sweep.id }, select: { status: true, sweepTrial: true } });
  const created = new Set(jobs.map((j) => j.sweepTrial));
  for (const t of sweep.trials) if (t.index < sweep.releasedTrials) created.add(t.index);
  let live = jobs.filter((j) => LIVE.includes(j.status)).length;
  let queued = await tx.job.count({ where: { tenantId: sweep.tenantId, status: 'queued' } });
  const released: ReleasedTrial[] = [];
  const statuses = jobs.map((j) => j.status);
  if (!cancelRequested) {
    for (const trial of sweep.trials) {
      if (live >= sweep.maxConcurrent || queued >= limits.tenantQueuedJobs) break;
      if (created.has(trial.index)) continue;
      const job = await createTrialJob(tx, sweep, trial, facts, limits);
      created.add(trial.index);
      statuses.push(job.status);
      if (job.status !== 'queued') continue;
      live++;
      queued++;
      released.push({ jobId: job.id, tenantId: sweep.tenantId, priority: await trainingPriority(tx, { id: job.id, tenantId: sweep.tenantId, createdAt: null }) });
    }
  }
  const allCreated = sweep.trials.every((t) => created.has(t.index));
  const firstUnreleased = sweep.trials.findIndex((t) => !created.has(t.index));
  const releasedTrials = firstUnreleased < 0 ? sweep.trials.length : firstUnreleased;
  if (releasedTrials !== sweep.releasedTrials) await tx.sweep.update({ where: { id: sweep.id }, data: { releasedTrials } });
  if (live === 0 && (allCreated || cancelRequested)) {
    await tx.sweep.update({ where: { id: sweep.id }, data: { status: finalStatus(statuses, cancelRequested), finishedAt: new Date() } });
  }
  return released;
}

/** cancelled when asked to; otherwise succeeded when a trial succeeded, failed when none did. */
export function finalStatus(statuses: readonly JobStatus[], cancelRequested: boolean): SweepStatus {
  if (cancelRequested) return 'cancelled';
  return statuses.includes('succeeded') ? 'succeeded' : 'failed';
}

async function createTrialJob(tx: Prisma.TransactionClient, sweep: SweepFacts, trial: StoredTrial, facts: PlanningFacts, limits: PlanLimits) {
  const link = { sweepId: sweep.id, sweepTrial: trial.index, sweepParameters: trial.parameters as Prisma.InputJsonObject };
  const select = { id: true, status: true } as const;
  const failed = (code: string, reason: string, spec: unknown) => tx.job.create({
    data: {
      tenantId: sweep.tenantId, spec: spec as Prisma.InputJsonValue, parameterCount: 0, totalSteps: 0, status: 'failed', failureCode: code, failureReason: reason,
      finishedAt: new Date(), ...link,
    },
    select,
  });
  if (!facts.dataset) return failed('DATASET_GONE', `dataset ${sweep.datasetId} was deleted before this trial was released`, sweep.baseSpec);
  if (sweep.baseSpec.warmStartModelId && !facts.warmStart) {
    return failed('MODEL_GONE', `warm-start model ${sweep.baseSpec.warmStartModelId} is gone or unusable`, sweep.baseSpec);
  }
  const planned = planTrial(sweep.baseSpec, trial.parameters, trialOptions(sweep, trial.index), trial.index, facts.dataset, limits, facts.warmStart);
  if (!planned.ok) return failed('JOB_SPEC_INVALID', planned.issues.map((i) => `${i.path}: ${i.message}`).join('; '), planned.body);
  const { plan } = planned;
  return tx.job.create({
    data: {
      tenantId: sweep.tenantId, datasetId: plan.spec.datasetId, warmStartId: plan.spec.warmStartModelId, spec: plan.spec as unknown as Prisma.InputJsonValue,
      parameterCount: plan.description.parameterCount, totalSteps: plan.totalSteps, ...link,
    },
    select,
  });
}

/** Every running sweep gets a release pass (the reconciler's part). Returns how many trials were released. */
export async function reconcileSweeps(deps: ReleaseDeps): Promise<number> {
  const running = await deps.db.sweep.findMany({ where: { status: 'running' }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: 1000 });
  let released = 0;
  for (const { id } of running) released += (await releaseTrials(deps, id)).length;
  return released;
}
