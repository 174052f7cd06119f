/**
 * Live WebSocket streams of the API, with the browser's WebSocket or any constructor with the same surface (the `ws`
 * package in Node 20); they authenticate with `?access_token=` (browsers cannot set headers). {@link EventStream} is
 * the common part (JSON messages as an async iterable or to `onEvent`, close and failure handling); {@link JobStream}
 * is a job's stream (GET /v1/jobs/:id/stream): stored metrics after `since` (replayed), the job's status, then live
 * events until the terminal status (close 1000). The sweep stream is ./sweep-stream.ts.
 */
import { TrainyardError } from './errors.js';
import type { JobEvent } from './types.js';

/** The ws:// or wss:// URL of an http(s) one; an origin-relative one ('' base URL, in a browser) is resolved against the page. */
export function socketUrl(httpUrl: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const url = new URL(httpUrl, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** The part of the WebSocket interface the stream uses (browser WebSocket and `ws` both have it). */
interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `ws`'s default export. */
export type WebSocketConstructor = new (url: string) => object;

/** How the stream ended. `error` when it did not end normally (the job's terminal status, or `close()`). */
export interface StreamClose {
  code: number;
  reason: string;
  error: TrainyardError | null;
}

/** What every stream takes: a callback per message (instead of iterating), and one when it closed. */
export interface EventStreamOptions<T> {
  /** Called for every event; with it, events are not buffered for `for await`. */
  onEvent?: (event: T) => void;
  onClose?: (close: StreamClose) => void;
}

export interface StreamOptions extends EventStreamOptions<JobEvent> {
  /** Replay stored metrics with a step above this (default: all). */
  since?: number;
}

/** Explains a stream that closed before it opened (the HTTP answer of the upgrade is not visible to a browser). */
export type FailureExplainer = () => Promise<TrainyardError>;

/** One WebSocket of JSON messages of type `T`: iterate it (`for await`) or pass `onEvent`. */
export class EventStream<T> implements AsyncIterable<T> {
  /** Resolves once the socket is closed. */
  readonly closed: Promise<StreamClose>;
  private readonly socket: WebSocketLike;
  private readonly buffered: T[] = [];
  private wake: (() => void) | null = null;
  private ended: StreamClose | null = null;
  private opened = false;
  private closedByUs = false;

  constructor(url: string, WebSocketImpl: WebSocketConstructor, private readonly options: EventStreamOptions<T>, explain: FailureExplainer) {
    this.socket = new WebSocketImpl(url) as WebSocketLike;
    let resolveClosed!: (close: StreamClose) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    let errorMessage = '';
    this.socket.onopen = () => {
      this.opened = true;
    };
    this.socket.onerror = (event) => {
      if (typeof event?.message === 'string') errorMessage = event.message;
    };
    this.socket.onmessage = (message) => this.receive(message.data);
    this.socket.onclose = (event) => {
      void (async () => {
        let error: TrainyardError | null = null;
        if (!this.opened && !this.closedByUs) {
          error = await explain().catch((e: unknown) => (e instanceof TrainyardError ? e : null));
          error ??= new TrainyardError(0, 'STREAM_FAILED', `The stream could not be opened${errorMessage ? ` (${errorMessage})` : ''}`);
        } else if (event.code !== 1000 && !this.closedByUs) {
          error = new TrainyardError(0, 'STREAM_FAILED', `The stream closed with ${event.code}${event.reason ? ` (${event.reason})` : ''}`, { closeCode: event.code });
        }
        this.ended = { code: event.code, reason: event.reason, error };
        resolveClosed(this.ended);
        this.options.onClose?.(this.ended);
        this.wake?.();
      })();
    };
  }

  /** Closes the socket; the iteration ends without an error. */
  close(): void {
    this.closedByUs = true;
    this.socket.close(1000);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    if (this.options.onEvent) throw new Error('This stream delivers to onEvent; it cannot also be iterated');
    try {
      for (;;) {
        const next = this.buffered.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.ended) {
          if (this.ended.error) throw this.ended.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    } finally {
      if (!this.ended) this.close();
    }
  }

  /** Sees every message before it is delivered (subclasses keep their bookkeeping here). */
  protected observe(_event: T): void {}

  private receive(data: unknown): void {
    let event: T;
    try {
      event = JSON.parse(typeof data === 'string' ? data : String(data)) as T;
    } catch {
      return;
    }
    this.observe(event);
    if (this.options.onEvent) {
      this.options.onEvent(event);
      return;
    }
    this.buffered.push(event);
    this.wake?.();
  }
}

/** A job's stream; `lastStep` says where to reconnect from. */
export class JobStream extends EventStream<JobEvent> {
  /** The highest metrics step received (reconnect with `since: lastStep`). */
  lastStep: number;

  constructor(url: string, WebSocketImpl: WebSocketConstructor, options: StreamOptions, explain: FailureExplainer) {
    super(url, WebSocketImpl, options, explain);
    this.lastStep = options.since ?? -1;
  }

  protected override observe(event: JobEvent): void {
    if (event.type === 'metrics') this.lastStep = Math.max(this.lastStep, event.step);
  }
}
