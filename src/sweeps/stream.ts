/**
 * GET /v1/sweeps/:id/stream: every trial's live events on one WebSocket. Each message is a job event exactly as on
 * GET /v1/jobs/:id/stream (src/queue/job-events.ts) plus `sweepId` and `trial` (the trial's index; `jobId` is there
 * already). Besides:
 *   {type: 'sweep', sweepId, status, trials: [{trial, jobId, status}]}   first, and last (with the final status)
 *   {type: 'trial', sweepId, trial, jobId, status}                       when a trial's job appears (is released)
 * Trials are found in Postgres (a poll every POLL_MS, and a few quick ones, QUICK_POLLS_MS, after a followed trial
 * ends: the next trials are released then, and a short trial would be over before the next regular poll) and their
 * Redis channels shared through the process's job event hub (src/streams/job-event-hub.ts). Live only: stored metrics are read with GET /v1/jobs/:id/metrics. A finished
 * sweep's stream sends the final `sweep` message and closes with 1000; a client too slow to take the events (more than
 * STREAM_MAX_BUFFERED_BYTES waiting) is closed with 1013.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Db, JobStatus } from '../db/client.js';
import type { JobEvent } from '../queue/job-events.js';
import type { JobEventHub } from '../streams/job-event-hub.js';
import { CLOSE } from '../streams/job-stream.js';

export const POLL_MS = 500;
/** Delays of the quick polls after a followed trial ends (the release of the next trials follows its end). */
const QUICK_POLLS_MS = [20, 50, 100, 250];
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'pruned']);

export interface SweepStreamDeps {
  db: Db;
  hub: JobEventHub;
  maxBufferedBytes: number;
  log: FastifyBaseLogger;
}

export async function serveSweepStream(socket: WebSocket, deps: SweepStreamDeps, tenantId: string, sweepId: string): Promise<void> {
  const { db, hub, log } = deps;
  const subscriptions = new Map<string, () => void>();
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let finalPasses = 0;
  let polling = false;
  let quick: number[] = [];

  const send = (message: object) => {
    if (closed) return;
    if (socket.bufferedAmount > deps.maxBufferedBytes) return close(CLOSE.tryAgainLater, 'client too slow');
    socket.send(JSON.stringify(message));
  };
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
    socket.close(code, reason);
  };
  socket.once('close', () => close(CLOSE.finished, ''));

  const read = async () => {
    const sweep = await db.sweep.findFirst({ where: { id: sweepId, tenantId }, select: { status: true } });
    const jobs = await db.job.findMany({ where: { sweepId }, select: { id: true, sweepTrial: true, status: true }, orderBy: { sweepTrial: 'asc' } });
    return { status: sweep?.status ?? 'cancelled', jobs };
  };
  const follow = async (job: { id: string; sweepTrial: number | null; status: JobStatus }) => {
    const trial = job.sweepTrial ?? 0;
    subscriptions.set(job.id, () => undefined);
    const unsubscribe = await hub.subscribe(job.id, (event: JobEvent) => {
      send({ ...event, sweepId, trial });
      if (event.type === 'status' && TERMINAL.has(event.status)) {
        subscriptions.get(event.jobId)?.();
        pollQuickly();
      }
    }).catch((error: unknown) => {
      subscriptions.delete(job.id); // the next poll tries again
      throw error;
    });
    if (closed) return unsubscribe();
    subscriptions.set(job.id, unsubscribe);
  };
  const trials = (jobs: { id: string; sweepTrial: number | null; status: JobStatus }[]) => jobs.map((j) => ({ trial: j.sweepTrial, jobId: j.id, status: j.status }));

  /** Reads the trials now and then (a regular poll counts towards closing a finished sweep; a quick one does not). */
  const poll = async (regular: boolean) => {
    polling = true;
    try {
      const { status, jobs } = await read();
      for (const job of jobs) {
        if (subscriptions.has(job.id) || TERMINAL.has(job.status)) continue;
        await follow(job);
        send({ type: 'trial', sweepId, trial: job.sweepTrial, jobId: job.id, status: job.status });
      }
      // A finished sweep: one more regular pass lets the last trials' final events (published after their commit) arrive.
      if (regular && status !== 'running' && ++finalPasses > 1) {
        send({ type: 'sweep', sweepId, status, trials: trials(jobs) });
        return close(CLOSE.finished, `sweep ${status}`);
      }
    } catch (error) {
      log.warn({ err: error, sweepId }, 'sweep stream: poll failed; retrying');
    } finally {
      polling = false;
    }
    schedule();
  };
  /** The next poll: a quick one while any are due, else the regular one POLL_MS on. */
  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    const next = quick.shift();
    timer = setTimeout(() => void poll(next === undefined), next ?? POLL_MS);
  }
  /** A followed trial ended: poll a few times soon, to follow the trials released after it from their start. */
  function pollQuickly(): void {
    quick = QUICK_POLLS_MS.map((ms, i) => ms - (QUICK_POLLS_MS[i - 1] ?? 0));
    if (!polling) schedule(); // else the running poll schedules them when it ends
  }

  const first = await read();
  send({ type: 'sweep', sweepId, status: first.status, trials: trials(first.jobs) });
  for (const job of first.jobs) if (!TERMINAL.has(job.status)) await follow(job);
  await poll(true);
}
