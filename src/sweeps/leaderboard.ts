/**
 * Reading sweeps: one with its leaderboard (every planned trial with its parameters, status, metric and best epoch,
 * best first; the best trial that has a model is marked), and the tenant's list, newest first. A trial's metric is
 * the best value of the sweep's metric among its stored Metric rows (its best epoch is that row's epoch, 1-based as in
 * GET /v1/jobs/:id/metrics).
 */
import { Prisma, type Db, type JobStatus } from '../db/client.js';
import type { Sweep } from '../generated/prisma/client.js';
import { metricColumn } from './pruning.js';
import { sweepFacts, type SweepFacts } from './stored.js';
import type { TrialParameters } from './expand.js';

/** `pending`: not released yet; `deleted`: released, but its job was deleted since. */
export type TrialStatus = JobStatus | 'pending' | 'deleted';

export interface TrialRow {
  trial: number;
  parameters: TrialParameters;
  jobId: string | null;
  status: TrialStatus;
  metric: number | null;
  bestEpoch: number | null;
  bestStep: number | null;
  /** Epochs trained so far (the job's epoch counter). */
  epochs: number;
  modelId: string | null;
  best: boolean;
  failure: { code: string | null; reason: string } | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface SweepDetail {
  row: Sweep;
  facts: SweepFacts;
  counts: Record<TrialStatus, number>;
  trials: TrialRow[];
  best: TrialRow | null;
}

const ZERO_COUNTS = (): Record<TrialStatus, number> => ({ pending: 0, deleted: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, pruned: 0 });

export async function getSweep(db: Db, tenantId: string, id: string): Promise<SweepDetail | null> {
  const row = await db.sweep.findFirst({ where: { id, tenantId } });
  if (!row) return null;
  const facts = sweepFacts(row);
  const jobs = await db.job.findMany({
    where: { sweepId: id },
    select: {
      id: true, status: true, sweepTrial: true, epoch: true, failureCode: true, failureReason: true, startedAt: true, finishedAt: true, model: { select: { id: true } },
    },
  });
  const column = Prisma.raw(`"${metricColumn(facts.metric)}"`);
  const order = Prisma.raw(facts.direction === 'min' ? 'ASC' : 'DESC');
  const bests = await db.$queryRaw<{ jobId: string; value: number; epoch: number; step: number }[]>`
    SELECT DISTINCT ON (m."jobId") m."jobId", m.${column} AS value, m.epoch, m.step
    FROM "Metric" m JOIN "Job" j ON j.id = m."jobId"
    WHERE j."sweepId" = ${id}::uuid AND m.${column} IS NOT NULL
    ORDER BY m."jobId", m.${column} ${order}, m.step ASC`;
  const bestOf = new Map(bests.map((b) => [b.jobId, b]));
  const byTrial = new Map(jobs.map((j) => [j.sweepTrial, j]));
  const counts = ZERO_COUNTS();
  const trials: TrialRow[] = facts.trials.map((t) => {
    const job = byTrial.get(t.index);
    const best = job ? bestOf.get(job.id) : undefined;
    const status: TrialStatus = job?.status ?? (t.index < row.releasedTrials ? 'deleted' : 'pending');
    counts[status]++;
    return {
      trial: t.index,
      parameters: t.parameters,
      jobId: job?.id ?? null,
      status,
      metric: best?.value ?? null,
      bestEpoch: best?.epoch ?? null,
      bestStep: best?.step ?? null,
      epochs: job?.epoch ?? 0,
      modelId: job?.model?.id ?? null,
      best: false,
      failure: job?.failureReason && job.status !== 'succeeded' ? { code: job.failureCode, reason: job.failureReason } : null,
      startedAt: job?.startedAt ?? null,
      finishedAt: job?.finishedAt ?? null,
    };
  });
  const sign = facts.direction === 'min' ? 1 : -1;
  trials.sort((a, b) => {
    if (a.metric === null || b.metric === null) return a.metric === b.metric ? a.trial - b.trial : a.metric === null ? 1 : -1;
    return sign * (a.metric - b.metric) || a.trial - b.trial;
  });
  const best = trials.find((t) => t.modelId !== null && t.metric !== null) ?? null;
  if (best) best.best = true;
  return { row, facts, counts, trials, best };
}

export interface SweepCursor {
  createdAt: Date;
  id: string;
}

export async function listSweeps(db: Db, tenantId: string, limit: number, after: SweepCursor | null): Promise<{ items: Sweep[]; counts: Map<string, Record<TrialStatus, number>>; next: SweepCursor | null }> {
  const where: Prisma.SweepWhereInput = { tenantId };
  if (after) where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
  const rows = await db.sweep.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  const items = rows.slice(0, limit);
  const grouped = items.length
    ? await db.job.groupBy({ by: ['sweepId', 'status'], where: { sweepId: { in: items.map((s) => s.id) } }, _count: { _all: true } })
    : [];
  const counts = new Map<string, Record<TrialStatus, number>>();
  for (const s of items) {
    const c = ZERO_COUNTS();
    let created = 0;
    for (const g of grouped) {
      if (g.sweepId !== s.id) continue;
      c[g.status] += g._count._all;
      created += g._count._all;
    }
    c.pending = s.trialCount - s.releasedTrials;
    c.deleted = s.releasedTrials - created;
    counts.set(s.id, c);
  }
  const last = items[items.length - 1];
  return { items, counts, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
