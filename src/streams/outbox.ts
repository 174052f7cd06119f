/**
 * A client's bounded send queue. Messages go straight to the socket while its buffer (`bufferedAmount`: bytes queued
 * but not yet handed to the kernel) is at most `maxBufferedBytes`. Past that the client is slow, and messages wait
 * here, bounded:
 *   - `metrics` coalesce: only the newest waits, and when it is finally sent it carries `"skipped": n`, the number of
 *     metrics messages dropped just before it (the client can fetch them from GET /v1/jobs/:id/metrics);
 *   - `decision` grids coalesce the same way (only the newest grid matters);
 *   - any other message (status, checkpoint, warning) waits in order, at most `maxWaiting` of them; one more and the
 *     outbox overflows: everything waiting is dropped and `onOverflow` runs (the stream closes the connection, and the
 *     client reconnects with ?since=).
 * A coalesced message moves to the end of the queue, so messages still leave in publishing order. A push never waits,
 * so a slow client never slows the others; its memory is bounded by maxBufferedBytes plus what waits here.
 */

/** The part of a WebSocket the outbox uses. */
export interface SendTarget {
  readonly bufferedAmount: number;
  send(data: string | Buffer, options: { binary: boolean }, callback: (error?: Error) => void): void;
}

/** Sent as text frames; a Buffer is the text already encoded (UTF-8), shared by every client of a fan-out. */
const TEXT = { binary: false };

export type OutboxKind = 'metrics' | 'decision' | 'other';

interface Waiting {
  kind: OutboxKind;
  /** A JSON object's text, and its UTF-8 bytes when the sender had them. */
  text: string;
  bytes: Buffer | undefined;
  skipped: number;
}

export interface OutboxStats {
  /** Messages waiting here, and their characters. */
  waiting: number;
  waitingChars: number;
  /** Messages replaced by a newer one of the same kind, over the outbox's life. */
  coalesced: number;
  /** The socket's own buffer, in bytes. */
  bufferedAmount: number;
}

/** Adds `"skipped": n` (n > 0) to a JSON object's text. */
function withSkipped(text: string, skipped: number): string {
  return `${text.slice(0, text.lastIndexOf('}'))},"skipped":${skipped}}`;
}

export class Outbox {
  private readonly queue: Waiting[] = [];
  private idleWaiters: (() => void)[] = [];
  private coalescedTotal = 0;
  private overflowed = false;

  constructor(
    private readonly target: SendTarget,
    private readonly maxBufferedBytes: number,
    private readonly maxWaiting: number,
    /** Called once, when the outbox overflows. */
    private readonly onOverflow: () => void,
    /** Called with a send error (the socket is closing). */
    private readonly onSendError: (error: Error) => void,
  ) {}

  private readonly sent = (error?: Error): void => {
    if (error) this.onSendError(error);
    else this.flush();
  };

  private get roomy(): boolean {
    return this.target.bufferedAmount <= this.maxBufferedBytes;
  }

  /**
   * Sends one message (`text`: a JSON object; `bytes`: the same, UTF-8 encoded once for all clients), or queues it
   * when the client is behind.
   */
  push(kind: OutboxKind, text: string, bytes?: Buffer): void {
    if (this.overflowed) return;
    if (this.queue.length === 0 && this.roomy) {
      this.target.send(bytes ?? text, TEXT, this.sent);
      return;
    }
    let skipped = 0;
    if (kind !== 'other') {
      const at = this.queue.findIndex((w) => w.kind === kind);
      if (at >= 0) {
        skipped = this.queue[at]!.skipped + 1;
        this.queue.splice(at, 1);
        this.coalescedTotal++;
      }
    } else if (this.queue.reduce((n, w) => n + (w.kind === 'other' ? 1 : 0), 0) >= this.maxWaiting) {
      this.overflowed = true;
      this.queue.length = 0;
      this.onOverflow();
      return;
    }
    this.queue.push({ kind, text, bytes, skipped });
  }

  /** Sends what waits while the socket's buffer has room. Runs after each completed send. */
  flush(): void {
    while (this.queue.length > 0 && this.roomy) {
      const w = this.queue.shift()!;
      this.target.send(w.skipped === 0 ? (w.bytes ?? w.text) : withSkipped(w.text, w.skipped), TEXT, this.sent);
    }
    if (this.queue.length === 0 && this.roomy && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Nothing waits and the socket's buffer is within bounds. */
  get isIdle(): boolean {
    return this.queue.length === 0 && this.roomy;
  }

  /** Resolves once nothing waits and the socket's buffer is within bounds: lets a producer (the replay) pace itself. */
  idle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Releases idle() waiters (the socket closed; nothing will drain). */
  abandon(): void {
    this.queue.length = 0;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  get stats(): OutboxStats {
    let waitingChars = 0;
    for (const w of this.queue) waitingChars += w.text.length;
    return { waiting: this.queue.length, waitingChars, coalesced: this.coalescedTotal, bufferedAmount: this.target.bufferedAmount };
  }
}
