/**
 * ASHA's decision for one trial at one epoch end, read from stored metrics: the trial's metric at the rung (its
 * epoch-end Metric row, committed before this runs) against the same epoch's rows of every trial of the sweep that
 * reached it (./asha.ts). Serialized per sweep by the sweep's row lock, so two trials reaching a rung at once see each
 * other. A promotion is recorded (Job.sweepRung), so a resumed attempt that reaches the rung again is not judged twice.
 */
import { Prisma, type Db } from '../db/client.js';
import type { MetricRecord } from '../queue/job-events.js';
import { MONITOR_METRICS, type MonitorMetric } from '../jobs/spec-schema.js';
import { decideRung } from './asha.js';
import { sweepFacts, type SweepFacts } from './stored.js';

/** What the worker knows of the job: its id and sweep. */
export interface TrialRef {
  id: string;
  sweepId: string | null;
}

export class RungJudge {
  /** Sweeps by id (their method and metric never change). */
  private readonly sweeps = new Map<string, SweepFacts | null>();

  constructor(private readonly db: Db) {}

  /** A prune reason when the trial is pruned at this record's epoch end; null to continue. */
  async judge(job: TrialRef, record: MetricRecord): Promise<string | null> {
    if (!job.sweepId) return null;
    const sweep = await this.sweep(job.sweepId);
    const asha = sweep?.options.asha;
    if (!sweep || !asha) return null;
    const value = record[sweep.metric];
    const epochs = record.epoch; // 1-based: the epoch-end record of the n-th epoch says n
    if (value === null || !asha.rungs.includes(epochs)) return null;
    const column = Prisma.raw(`"${metricColumn(sweep.metric)}"`);
    return this.db.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM "Sweep" WHERE id = ${sweep.id}::uuid FOR UPDATE`;
      if (locked[0]?.status !== 'running') return null;
      const row = await tx.job.findUnique({ where: { id: job.id }, select: { sweepRung: true } });
      if ((row?.sweepRung ?? 0) >= epochs) return null;
      const reached = await tx.$queryRaw<{ value: number }[]>`
        SELECT m.${column} AS value FROM "Metric" m JOIN "Job" j ON j.id = m."jobId"
        WHERE j."sweepId" = ${sweep.id}::uuid AND m.epoch = ${record.epoch} AND m.${column} IS NOT NULL`;
      const competing = reached.map((r) => r.value);
      if (!competing.includes(value)) competing.push(value);
      const decision = decideRung(value, competing, asha.reductionFactor, sweep.direction);
      if (decision.promote) {
        await tx.job.update({ where: { id: job.id }, data: { sweepRung: epochs } });
        return null;
      }
      return `pruned by ASHA at rung ${epochs} epochs: ${sweep.metric} ${format(value)} is not in the top ${decision.kept} of the ${decision.reached} trials `
        + `that reached the rung (1/${asha.reductionFactor}; needed ${sweep.direction === 'min' ? '≤' : '≥'} ${format(decision.cutoff)})`;
    }, { maxWait: 10_000, timeout: 20_000 });
  }

  private async sweep(id: string): Promise<SweepFacts | null> {
    if (!this.sweeps.has(id)) {
      const row = await this.db.sweep.findUnique({ where: { id } });
      this.sweeps.set(id, row ? sweepFacts(row) : null);
    }
    return this.sweeps.get(id)!;
  }
}

/** The Metric column of a metric name (a whitelist: the name goes into SQL). */
export function metricColumn(metric: MonitorMetric): MonitorMetric {
  if (!MONITOR_METRICS.includes(metric)) throw new TypeError(`not a metric: ${metric}`);
  return metric;
}

function format(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
