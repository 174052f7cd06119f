/**
 * Postgres over Redis: jobs that Postgres says are queued or running but BullMQ no longer holds (Redis flushed or
 * restored from an old snapshot, an enqueue that failed after the row was written) are enqueued again. Workers run it
 * at start and every RECONCILE_INTERVAL_MS; several workers may run it at once (enqueueing is idempotent).
 *
 * Per job, by BullMQ's state:
 *   waiting / active / delayed / prioritized   fine: BullMQ has it (stalled-job recovery handles dead workers)
 *   unknown (gone) or completed                enqueue again — unless the job is running and its lease is still
 *                                              being renewed: a live worker holds it and will finish it
 *   failed                                     BullMQ gave up (retries exhausted, stalled too often): the Job becomes
 *                                              failed in Postgres with BullMQ's reason, unless a live lease holds it
 * Jobs are enqueued with the priority the API gives them (./priority.ts: their rank among their tenant's live jobs).
 * Only rows unchanged for `minAgeMs` (by default one reconcile interval) are considered: a younger row may be one the
 * API is still enqueueing, and a worker should not adopt what another process wrote a moment ago.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { enqueueTraining } from './enqueue-training.js';
import { trainingPriority } from './priority.js';
import type { TrainingQueue } from './training-queue.js';

export interface ReconcileReport {
  checked: number;
  requeued: string[];
  failed: string[];
}

const HELD = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
const PAGE = 500;

export interface ReconcileOptions {
  /** Rows changed more recently than this are left for the next pass. Default 0. */
  minAgeMs?: number;
  now?: Date;
}

export async function reconcileOnce(db: Db, queue: TrainingQueue, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const settled = new Date(now.getTime() - (options.minAgeMs ?? 0));
  const report: ReconcileReport = { checked: 0, requeued: [], failed: [] };
  let after: string | undefined;
  for (;;) {
    const jobs = await db.job.findMany({
      where: { status: { in: ['queued', 'running'] }, updatedAt: { lte: settled }, ...(after ? { id: { gt: after } } : {}) },
      select: { id: true, tenantId: true, status: true, attempt: true, leaseExpiresAt: true, createdAt: true },
      orderBy: { id: 'asc' },
      take: PAGE,
    });
    for (const job of jobs) {
      report.checked++;
      const state = await queue.getJobState(job.id);
      if (HELD.has(state)) continue;
      const leaseAlive = job.status === 'running' && job.leaseExpiresAt !== null && job.leaseExpiresAt > now;
      if (leaseAlive) continue;
      if (state === 'failed') {
        const reason = (await queue.getJob(job.id))?.failedReason ?? 'unknown';
        const { count } = await db.job.updateMany({
          where: { id: job.id, attempt: job.attempt, status: job.status },
          data: { status: 'failed', failureCode: 'QUEUE_GAVE_UP', failureReason: `The queue gave up on the job: ${reason}`, finishedAt: now, leaseOwner: null, leaseExpiresAt: null },
        });
        if (count) report.failed.push(job.id);
        continue;
      }
      if (state === 'completed') await queue.remove(job.id);
      await enqueueTraining(queue, { jobId: job.id, tenantId: job.tenantId }, await trainingPriority(db, job));
      report.requeued.push(job.id);
    }
    if (jobs.length < PAGE) return report;
    after = jobs[jobs.length - 1]!.id;
  }
}

export interface Reconciler {
  /** Resolves when the first pass is done. */
  readonly firstPass: Promise<ReconcileReport | null>;
  stop(): Promise<void>;
}

/**
 * Runs reconcileOnce now and every intervalMs (never two passes at once), for rows unchanged for an interval; errors
 * are logged, not thrown.
 */
export function startReconciler(db: Db, queue: TrainingQueue, intervalMs: number, logger: Logger): Reconciler {
  let running: Promise<ReconcileReport | null> = Promise.resolve(null);
  let busy = false;
  let stopped = false;
  const pass = (): Promise<ReconcileReport | null> => {
    busy = true;
    running = reconcileOnce(db, queue, { minAgeMs: intervalMs }).then(
      (report) => {
        if (report.requeued.length || report.failed.length) logger.warn(report, 'reconciler: repaired jobs Redis had lost');
        return report;
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'reconciler pass failed');
        return null;
      },
    ).finally(() => {
      busy = false;
    });
    return running;
  };
  const firstPass = pass();
  const timer = setInterval(() => {
    if (!stopped && !busy) void pass();
  }, intervalMs);
  timer.unref();
  return {
    firstPass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
