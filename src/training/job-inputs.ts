/**
 * Everything a claimed job needs before training starts, read from Postgres: the stored spec re-planned against the
 * dataset, the dataset's matrix, the checkpoints to resume from (newest, and the best when it is another one) and a
 * warm-start model, and for a sweep's trial the epochs whose end must be recorded (its ASHA rungs, judged from their
 * stored epoch-end rows: ./record-schedule.ts). A problem that no retry can fix comes back as a failure with a stable code.
 */
import type { Db, Job } from '../db/client.js';
import type { DatasetCache } from '../datasets/dataset-cache.js';
import { loadDataset } from '../datasets/load.js';
import type { DatasetMeta } from '../datasets/types.js';
import { ApiError } from '../errors.js';
import { planJob, type JobPlan, type JobSpec, type WarmStartFacts } from '../jobs/plan.js';
import { ArtifactError, artifactFromRow, type ModelArtifact } from '../models/artifact.js';
import { sweepFacts } from '../sweeps/stored.js';
import type { TrainerInput } from './trainer-protocol.js';

export type JobInputs =
  | { kind: 'ready'; plan: JobPlan; meta: DatasetMeta; trainer: Omit<TrainerInput, 'control' | WorkerSettings> }
  | { kind: 'failed'; code: 'DATASET_GONE' | 'WARM_START_GONE' | 'SPEC_INVALID'; reason: string };

/** What the trainer takes from the worker's configuration rather than from the job. */
export type WorkerSettings = 'engineThreads' | 'engineKernel' | 'health' | 'decisionGrid';

/** The worker re-plans accepted jobs without the API's size limits (they were checked when the job was accepted). */
const NO_LIMITS = { parameters: Number.MAX_SAFE_INTEGER, epochRows: Number.MAX_SAFE_INTEGER };

export async function loadJobInputs(db: Db, job: Job, datasets?: DatasetCache): Promise<JobInputs> {
  const spec = job.spec as unknown as JobSpec;
  const dataset = job.datasetId ? await loadDataset(db, job.tenantId, job.datasetId, datasets) : null;
  if (!dataset) return { kind: 'failed', code: 'DATASET_GONE', reason: `the dataset ${spec.datasetId} was deleted` };
  const { meta } = dataset;

  const latest = await db.checkpoint.findFirst({ where: { jobId: job.id }, orderBy: { step: 'desc' }, select: { step: true, state: true } });
  let warm: ModelArtifact | null = null;
  let warmFacts: WarmStartFacts | null = null;
  if (spec.warmStartModelId) {
    const row = await db.model.findFirst({ where: { id: spec.warmStartModelId, tenantId: job.tenantId } });
    if (!row) return { kind: 'failed', code: 'WARM_START_GONE', reason: `the warm-start model ${spec.warmStartModelId} was deleted` };
    try {
      warm = artifactFromRow(row);
    } catch (error) {
      if (!(error instanceof ArtifactError)) throw error;
      return { kind: 'failed', code: 'WARM_START_GONE', reason: `the warm-start model ${spec.warmStartModelId} is unreadable: ${error.message}` };
    }
    warmFacts = { id: row.id, task: warm.task, featureNames: warm.featureNames, classNames: warm.classNames, network: warm.spec };
  }

  let plan: JobPlan;
  try {
    const facts = {
      id: meta.id, name: meta.name, task: meta.task, rows: meta.rows, features: meta.features, classes: meta.classNames.length,
      featureNames: meta.featureNames, classNames: meta.classNames,
    };
    plan = planJob(spec, facts, NO_LIMITS, { warmStart: warmFacts });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { kind: 'failed', code: 'SPEC_INVALID', reason: error.detail };
  }

  const sweep = job.sweepId ? await db.sweep.findUnique({ where: { id: job.sweepId } }) : null;
  const recordEpochs = sweep ? (sweepFacts(sweep).options.asha?.rungs ?? []) : [];

  let resume: TrainerInput['resume'] = null;
  if (latest) {
    const best = await db.checkpoint.findFirst({ where: { jobId: job.id, isBest: true, step: { not: latest.step } }, select: { state: true } });
    resume = { latest: latest.state, best: best?.state ?? null };
  }
  return {
    kind: 'ready',
    plan,
    meta,
    trainer: {
      jobId: job.id,
      attempt: job.attempt,
      spec: plan.spec,
      network: plan.network,
      dataset: { rows: meta.rows, features: meta.features, x: dataset.x, y: dataset.y },
      resume,
      warmStart: warm && !resume ? { weights: warm.weights, preprocessing: warm.preprocessing } : null,
      recordEpochs,
    },
  };
}
