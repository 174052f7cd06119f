/**
 * POST /v1/jobs: plan the spec against the tenant's dataset (and warm-start model), then — unless it is a dry run —
 * write the Job row (status queued; within the tenant's queued-jobs limit: ./tenant-limits.ts) and enqueue it with
 * its tenant-fair priority (src/queue/priority.ts). Postgres first: if the enqueue fails, the row stays queued and
 * the workers' reconciler enqueues it later.
 */
import type { FastifyBaseLogger } from 'fastify';
import { findDatasetFacts, findWarmStartFacts, type JobRow } from '../db/repositories/jobs.js';
import { apiError } from '../errors.js';
import { ArtifactError } from '../models/artifact.js';
import { enqueueTraining } from '../queue/enqueue-training.js';
import type { Services } from '../services.js';
import { planJob, type JobPlan, type WarmStartFacts } from './plan.js';
import type { JobSpecBody } from './spec-schema.js';
import { createJobWithinLimits } from './tenant-limits.js';

export type Submission = { kind: 'dry-run'; plan: JobPlan } | { kind: 'created'; job: JobRow };

export async function submitJob(services: Services, tenantId: string, body: JobSpecBody, dryRun: boolean, log: FastifyBaseLogger): Promise<Submission> {
  const { db, config, trainingQueue } = services;
  const dataset = await findDatasetFacts(db, tenantId, body.datasetId);
  if (!dataset) throw apiError('DATASET_NOT_FOUND', `No dataset ${body.datasetId}`, { datasetId: body.datasetId });
  let warmStart: WarmStartFacts | null = null;
  if (body.warmStartModelId) {
    try {
      warmStart = await findWarmStartFacts(db, tenantId, body.warmStartModelId);
    } catch (error) {
      if (!(error instanceof ArtifactError)) throw error;
      throw apiError('JOB_SPEC_INVALID', `warmStartModelId: the model cannot be used (${error.message})`, { errors: [{ path: 'warmStartModelId', message: error.message }] });
    }
    if (!warmStart) throw apiError('MODEL_NOT_FOUND', `No model ${body.warmStartModelId}`, { modelId: body.warmStartModelId });
  }
  const plan = planJob(body, dataset, config.limits, { warmStart });
  if (dryRun) return { kind: 'dry-run', plan };
  const { job, priority } = await createJobWithinLimits(db, tenantId, plan, config.limits.tenantQueuedJobs);
  try {
    await enqueueTraining(trainingQueue, { jobId: job.id, tenantId }, priority);
  } catch (error) {
    log.warn({ err: error, jobId: job.id }, 'could not enqueue the job; the reconciler will');
  }
  return { kind: 'created', job };
}
