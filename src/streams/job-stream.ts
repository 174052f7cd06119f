/**
 * One client's stream of one job (GET /v1/jobs/:id/stream), from catch-up to close.
 *
 * Catch-up, then live, without gaps or duplicates (the order matters; see the contract in src/queue/job-events.ts):
 *   1. subscribe to the job's channel: from here on every published event reaches `onEvent`;
 *   2. read the Job row, then page through the stored metrics with step > the last step sent (`?since` at first) and
 *      send them (`"replayed": true`; `attempt` is the job's current one, Metric rows do not store theirs), pacing on
 *      the socket's buffer; meanwhile live events wait in `pending`. Reads are shared with the process's other streams
 *      and bounded (./stream-reads.ts), replayed events are encoded once for all of them, and replays take turns
 *      on the event loop (./pacer.ts);
 *   3. send the job's current status (the status read in 2);
 *   4. forward what is pending, then go live. Metrics are forwarded only when their step is above the last one sent:
 *      what the replay already covered (and what a resumed attempt publishes again) is dropped.
 * Events are published after their commit, so everything missed between 1 and 2 is in Postgres. If more than
 * PENDING_METRICS metrics pile up during catch-up, the surplus is not kept but read from Postgres in another pass.
 * After a Redis reconnect (events may have been lost) the stream catches up again the same way.
 *
 * The stream closes with the final status event: at once when the job had already ended (replay, status, close), or
 * when the terminal status arrives. Close codes: 1000 job finished; 1008 the client sent a data frame; 1011 internal
 * error; 1013 the client fell too far behind (reconnect with ?since=); 1001 the server is shutting down.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { JobRow } from '../db/repositories/jobs.js';
import type { JobEvent, StatusEvent } from '../queue/job-events.js';
import type { JobEventHub } from './job-event-hub.js';
import { Outbox, type OutboxStats } from './outbox.js';
import { SLICE, type ReplayPacer } from './pacer.js';
import type { StreamReads } from './stream-reads.js';
/** Live metrics kept while catching up; past this they are read from Postgres in another pass. */
const PENDING_METRICS = 1000;
/** Other events (status, checkpoint, warning, decision) waiting for a slow client before it is disconnected (1013). */
export const MAX_WAITING_EVENTS = 256;

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'pruned']);

export const CLOSE = {
  finished: 1000,
  goingAway: 1001,
  policy: 1008,
  internal: 1011,
  tryAgainLater: 1013,
} as const;

export interface JobStreamDeps {
  /** The process's shared, bounded Postgres reads (./stream-reads.ts). */
  reads: StreamReads;
  /** Shares the event loop between the process's replays (./pacer.ts). */
  pacer: ReplayPacer;
  hub: JobEventHub;
  maxBufferedBytes: number;
  log: FastifyBaseLogger;
}

export interface JobStreamTarget {
  tenantId: string;
  jobId: string;
  /** Replay metrics with a step above this (-1: all). */
  since: number;
}

export interface JobStreamStats extends OutboxStats {
  jobId: string;
  phase: JobStream['phase'];
  lastStep: number;
}

function statusOf(job: JobRow): StatusEvent {
  return {
    v: 1,
    type: 'status',
    jobId: job.id,
    attempt: job.attempt,
    step: job.step,
    at: job.updatedAt.toISOString(),
    status: job.status,
    epoch: job.epoch,
    code: job.failureCode,
    reason: job.failureReason,
    modelId: job.model?.id ?? null,
  };
}

export class JobStream {
  phase: 'starting' | 'catching-up' | 'live' | 'closing' | 'closed' = 'starting';
  private readonly outbox: Outbox;
  private lastStep: number;
  private lastStatus = '';
  private pending: { event: JobEvent; text: string; bytes: Buffer }[] = [];
  private pendingMetrics = 0;
  private droppedPending = false;
  private cleanups: (() => void)[] = [];

  constructor(
    private readonly socket: WebSocket,
    private readonly target: JobStreamTarget,
    private readonly deps: JobStreamDeps,
  ) {
    this.lastStep = target.since;
    this.outbox = new Outbox(
      socket,
      deps.maxBufferedBytes,
      MAX_WAITING_EVENTS,
      () => this.close(CLOSE.tryAgainLater, `too far behind; reconnect with ?since=${this.lastStep}`, false),
      () => socket.terminate(),
    );
  }

  /** Runs the stream; resolves once it is live (or closed). */
  async start(): Promise<void> {
    const { socket } = this;
    socket.on('close', () => this.cleanup());
    socket.on('message', () => this.close(CLOSE.policy, 'this stream accepts no messages', false));
    socket.on('pong', () => this.outbox.flush());
    try {
      const unsubscribe = await this.deps.hub.subscribe(this.target.jobId, (event, text, bytes) => this.onEvent(event, text, bytes));
      if (this.isClosed) return unsubscribe(); // closed while subscribing
      this.cleanups.push(unsubscribe);
      this.cleanups.push(this.deps.hub.onReconnect(() => void this.catchUp()));
      await this.catchUp();
    } catch (error) {
      this.fail(error);
    }
  }

  private onEvent(event: JobEvent, text: string, bytes: Buffer): void {
    if (this.phase === 'live') return this.forward(event, text, bytes);
    if (this.phase !== 'catching-up' && this.phase !== 'starting') return;
    if (event.type === 'metrics') {
      if (this.pendingMetrics >= PENDING_METRICS) {
        this.droppedPending = true;
        return;
      }
      this.pendingMetrics++;
    } else if (this.pending.length - this.pendingMetrics >= MAX_WAITING_EVENTS) {
      return this.close(CLOSE.tryAgainLater, `too far behind; reconnect with ?since=${this.lastStep}`, false);
    }
    this.pending.push({ event, text, bytes });
  }

  /** Steps 2–4 of the header; also after a Redis reconnect. */
  private async catchUp(): Promise<void> {
    if (this.phase === 'catching-up') {
      this.droppedPending = true; // a reconnect during catch-up: what was published meanwhile may be lost; read again
      return;
    }
    if (this.isClosed) return;
    this.phase = 'catching-up';
    try {
      let job: JobRow;
      do {
        this.droppedPending = false;
        // Reads shared with other streams must have started after this point (after the subscription): see ./stream-reads.ts.
        const mark = this.deps.reads.mark();
        const read = await this.deps.reads.job(this.target.tenantId, this.target.jobId, mark);
        if (this.isClosed) return;
        if (!read) return this.close(CLOSE.internal, 'the job no longer exists', false);
        job = read;
        await this.replayMetrics(job.attempt, mark);
        if (this.isClosed) return;
      } while (this.droppedPending);
      this.sendStatus(statusOf(job), null);
      if (TERMINAL.has(job.status)) return this.close(CLOSE.finished, 'job finished', true);
      const pending = this.pending;
      this.pending = [];
      this.pendingMetrics = 0;
      this.phase = 'live';
      for (const p of pending) if (this.phase === 'live') this.forward(p.event, p.text, p.bytes);
    } catch (error) {
      this.fail(error);
    }
  }

  private async replayMetrics(attempt: number, mark: number): Promise<void> {
    for (;;) {
      const page = await this.deps.reads.metricsPage(this.target.jobId, this.lastStep, mark);
      if (this.isClosed) return;
      const events = page.eventsFor(attempt);
      for (let i = 0; i < events.length; i++) {
        if (i % SLICE === 0) await this.deps.pacer.turn();
        if (!this.outbox.isIdle) await this.outbox.idle();
        if (this.isClosed) return;
        this.outbox.push('metrics', events[i]!.text, events[i]!.bytes);
        this.lastStep = page.rows[i]!.step;
      }
      if (!page.full) return;
    }
  }

  private forward(event: JobEvent, text: string, bytes: Buffer): void {
    switch (event.type) {
      case 'metrics':
        if (event.step <= this.lastStep) return;
        this.lastStep = event.step;
        return this.outbox.push('metrics', text, bytes);
      case 'decision':
        return this.outbox.push('decision', text, bytes);
      case 'status':
        return this.sendStatus(event, text, bytes);
      default:
        return this.outbox.push('other', text, bytes);
    }
  }

  /** Sends a status unless it repeats the last one sent; closes after a terminal one. */
  private sendStatus(event: StatusEvent, text: string | null, bytes?: Buffer): void {
    const key = `${event.status}:${event.attempt}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.outbox.push('other', text ?? JSON.stringify(event), bytes);
    if (TERMINAL.has(event.status) && this.phase === 'live') this.close(CLOSE.finished, 'job finished', true);
  }

  private get isClosed(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  /** Closes the connection, after what waits has been sent when `drain` (a client that stops reading is dropped by the heartbeat). */
  close(code: number, reason: string, drain: boolean): void {
    if (this.isClosed) return;
    this.phase = 'closing';
    this.runCleanups();
    const socket = this.socket;
    if (!drain) {
      this.outbox.abandon();
      socket.close(code, reason);
      return;
    }
    void this.outbox.idle().then(() => socket.close(code, reason));
  }

  private fail(error: unknown): void {
    this.deps.log.error({ err: error, jobId: this.target.jobId }, 'job stream failed');
    this.close(CLOSE.internal, 'internal error', false);
  }

  private runCleanups(): void {
    const cleanups = this.cleanups;
    this.cleanups = [];
    for (const c of cleanups) c();
  }

  private cleanup(): void {
    this.phase = 'closed';
    this.runCleanups();
    this.outbox.abandon();
  }

  get stats(): JobStreamStats {
    return { jobId: this.target.jobId, phase: this.phase, lastStep: this.lastStep, ...this.outbox.stats };
  }
}
