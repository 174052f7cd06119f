/** Rows → JSON of the /v1/sweeps routes. */
import type { Sweep } from '../../generated/prisma/client.js';
import type { SweepDetail, TrialStatus } from '../../sweeps/leaderboard.js';
import { sweepFacts } from '../../sweeps/stored.js';
import type { SweepSummary, SweepView } from './schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function sweepSummary(row: Sweep, counts: Record<TrialStatus, number>): SweepSummary {
  const f = sweepFacts(row);
  return {
    id: row.id, name: row.name, datasetId: row.datasetId, status: row.status, cancelRequested: row.cancelRequested, method: f.method,
    sampling: f.options.sampling, seed: f.options.seed, asha: f.options.asha, metric: f.metric, direction: f.direction, maxConcurrent: f.maxConcurrent,
    trialCount: row.trialCount, counts, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), finishedAt: iso(row.finishedAt),
  };
}

export function sweepView(d: SweepDetail): SweepView {
  const best = d.best && d.best.jobId && d.best.modelId && d.best.metric !== null
    ? { trial: d.best.trial, jobId: d.best.jobId, modelId: d.best.modelId, metric: d.best.metric }
    : null;
  return {
    ...sweepSummary(d.row, d.counts),
    parameters: d.row.parameters,
    spec: d.row.baseSpec,
    best,
    bestModelId: best?.modelId ?? null,
    trials: d.trials.map((t) => ({ ...t, startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt) })),
  };
}
