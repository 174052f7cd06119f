/** Rows → JSON of the /v1/jobs routes. */
import type { CheckpointSummary, JobRow, MetricRow } from '../../db/repositories/jobs.js';
import { parseWarnings } from '../../queue/job-events.js';
import type { JobPlan, JobSpec } from '../../jobs/plan.js';
import type { JobView } from './schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function jobView(row: JobRow): JobView {
  const spec = row.spec as unknown as JobSpec;
  return {
    id: row.id,
    name: spec.name,
    datasetId: row.datasetId,
    warmStartModelId: row.warmStartId,
    status: row.status,
    attempt: row.attempt,
    cancelRequested: row.cancelRequested,
    epoch: row.epoch,
    step: row.step,
    totalSteps: row.totalSteps,
    parameterCount: row.parameterCount,
    bestMetric: row.bestMetric,
    bestMetrics: row.bestMetrics,
    finalMetrics: row.finalMetrics,
    warnings: parseWarnings(row.warnings),
    failure: row.failureReason && row.status !== 'succeeded' ? { code: row.failureCode, reason: row.failureReason } : null,
    modelId: row.model?.id ?? null,
    sweep: row.sweepId ? { id: row.sweepId, trial: row.sweepTrial ?? 0, parameters: (row.sweepParameters ?? {}) as Record<string, unknown> } : null,
    worker: row.leaseOwner ? { id: row.leaseOwner, leaseExpiresAt: iso(row.leaseExpiresAt) } : null,
    spec: row.spec,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function dryRunView(plan: JobPlan) {
  return {
    dryRun: true as const,
    parameterCount: plan.description.parameterCount,
    layers: plan.description.layers,
    inputs: plan.network.inputs,
    outputs: plan.network.outputs,
    loss: plan.network.loss,
    trainRows: plan.trainRows,
    validationRows: plan.validationRows,
    stepsPerEpoch: plan.stepsPerEpoch,
    totalSteps: plan.totalSteps,
    spec: plan.spec,
  };
}

export function metricColumns(jobId: string, rows: MetricRow[], since: number) {
  return {
    jobId,
    count: rows.length,
    nextSince: rows.length ? rows[rows.length - 1]!.step : since,
    step: rows.map((r) => r.step),
    epoch: rows.map((r) => r.epoch),
    trainLoss: rows.map((r) => r.trainLoss),
    dataLoss: rows.map((r) => r.dataLoss),
    regLoss: rows.map((r) => r.regLoss),
    trainAccuracy: rows.map((r) => r.trainAccuracy),
    valLoss: rows.map((r) => r.valLoss),
    valAccuracy: rows.map((r) => r.valAccuracy),
    valRmse: rows.map((r) => r.valRmse),
    valR2: rows.map((r) => r.valR2),
    learningRate: rows.map((r) => r.learningRate),
    samplesPerSec: rows.map((r) => r.samplesPerSec),
    layers: rows.map((r) => r.layers),
  };
}

export function checkpointList(items: CheckpointSummary[]) {
  return { items: items.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })) };
}
