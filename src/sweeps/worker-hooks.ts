/**
 * What a worker process does for sweeps: judge ASHA rungs at epoch ends (./pruning.ts), release the next trials when a
 * job of a sweep ends (./release.ts), and — the reconciler's part — give every running sweep a release pass at start
 * and every RECONCILE_INTERVAL_MS, so a worker that died between a trial's end and the release strands nothing.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { MetricRecord } from '../queue/job-events.js';
import type { TrainingQueue } from '../queue/training-queue.js';
import { RungJudge, type TrialRef } from './pruning.js';
import { reconcileSweeps, releaseTrials, type ReleaseDeps } from './release.js';

export interface SweepHooks {
  /** A prune reason, or null to go on. */
  judgeEpochEnd(job: TrialRef, record: MetricRecord): Promise<string | null>;
  /** After a job ended (however): releases the next trials of its sweep, if it has one. Never throws. */
  afterJob(jobId: string): Promise<void>;
  close(): Promise<void>;
}

export function startSweepHooks(deps: { db: Db; queue: TrainingQueue; config: Config; logger: Logger }): SweepHooks {
  const { db, config, logger } = deps;
  const release: ReleaseDeps = { db, queue: deps.queue, limits: config.limits, log: logger };
  const judge = new RungJudge(db);
  let pass: Promise<void> = Promise.resolve();
  let busy = false;
  const reconcile = () => {
    if (busy) return;
    busy = true;
    pass = reconcileSweeps(release).then(
      (released) => void (released && logger.info({ released }, 'sweeps: released trials on a reconcile pass')),
      (error: unknown) => logger.warn({ err: error }, 'sweeps: reconcile pass failed'),
    ).finally(() => (busy = false));
  };
  reconcile();
  const timer = setInterval(reconcile, config.worker.reconcileIntervalMs);
  timer.unref();
  return {
    judgeEpochEnd: (job, record) => judge.judge(job, record),
    async afterJob(jobId) {
      try {
        const job = await db.job.findUnique({ where: { id: jobId }, select: { sweepId: true } });
        if (job?.sweepId) await releaseTrials(release, job.sweepId);
      } catch (error) {
        logger.warn({ err: error, jobId }, 'sweeps: could not release the next trials; the next reconcile pass will');
      }
    },
    async close() {
      clearInterval(timer);
      await pass;
    },
  };
}
