/** /v1/sweeps: hyperparameter sweeps whose trials are ordinary jobs, and their live stream (every trial's events). */
import { TrainyardError } from './errors.js';
import type { HttpCore } from './http.js';
import { EventStream, socketUrl, type EventStreamOptions, type WebSocketConstructor } from './stream.js';
import type { Sweep, SweepEvent, SweepList, SweepListOptions, SweepSpec } from './types.js';

/** How often `wait` reopens a stream that closed abnormally before giving up. */
const MAX_RECONNECTS = 5;
/** How often `wait` also reads the sweep, in case the stream never brings its end (default of `checkEveryMs`). */
const WAIT_CHECK_MS = 10_000;

export type SweepStreamOptions = EventStreamOptions<SweepEvent>;

/**
 * GET /v1/sweeps/:id/stream: a `sweep` message (status, released trials), then every trial's job events tagged with
 * `trial`, a `trial` message when a trial is released, and a last `sweep` message with the end status (close 1000).
 * Live only: stored curves are read with `ty.jobs.metrics(jobId)`.
 */
export class SweepStream extends EventStream<SweepEvent> {
  /** The sweep's status as last reported by a `sweep` message. */
  status: Sweep['status'] | null = null;

  protected override observe(event: SweepEvent): void {
    if (event.type === 'sweep') this.status = event.status;
  }
}

export interface SweepWaitOptions {
  onEvent?: (event: SweepEvent) => void;
  /** While waiting, read the sweep this often (ms) and stop once it has ended even if the stream did not say so. Default 10 s. */
  checkEveryMs?: number;
}

export class Sweeps {
  constructor(
    private readonly http: HttpCore,
    private readonly webSocket: () => WebSocketConstructor,
  ) {}

  create(spec: SweepSpec): Promise<Sweep> {
    return this.http.request('POST', '/v1/sweeps', { json: spec });
  }

  list(options: SweepListOptions = {}): Promise<SweepList> {
    return this.http.request('GET', '/v1/sweeps', { query: { ...options } });
  }

  /** The sweep with its leaderboard (trials best first). */
  get(id: string): Promise<Sweep> {
    return this.http.request('GET', path(id));
  }

  cancel(id: string): Promise<Sweep> {
    return this.http.request('POST', `${path(id)}/cancel`);
  }

  /** Opens the sweep's WebSocket stream now. Iterate it (`for await`) or pass `onEvent`. */
  stream(id: string, options: SweepStreamOptions = {}): SweepStream {
    const url = socketUrl(this.http.url(`${path(id)}/stream`, { access_token: this.http.key }));
    const explain = async () => {
      await this.get(id);
      return new TrainyardError(0, 'STREAM_FAILED', `The stream of sweep ${id} could not be opened`);
    };
    return new SweepStream(url, this.webSocket(), options, explain);
  }

  /**
   * Follows the sweep's stream until the sweep ends (its last `sweep` message), reopening it if it closes abnormally;
   * resolves with the finished sweep and its leaderboard. A reopened stream is live only: events in between are lost
   * (the stored metrics are not).
   */
  async wait(id: string, options: SweepWaitOptions = {}): Promise<Sweep> {
    const checkEveryMs = options.checkEveryMs ?? WAIT_CHECK_MS;
    for (let attempt = 0; ; attempt++) {
      const stream = this.stream(id);
      let ended = null as Sweep | null;
      let checking = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stop!: () => void;
      const stopped = new Promise<'closed'>((resolve) => (stop = () => resolve('closed')));
      const check = async (): Promise<void> => {
        while (checking) {
          const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), checkEveryMs)));
          const why = await Promise.race([stream.closed.then(() => 'closed' as const), stopped, tick]);
          clearTimeout(timer);
          if (why === 'closed' || !checking) return;
          const sweep = await this.get(id).catch(() => null);
          if (checking && sweep && sweep.status !== 'running') {
            ended = sweep;
            stream.close();
            return;
          }
        }
      };
      const checker = check();
      try {
        for await (const event of stream) options.onEvent?.(event);
      } catch (error) {
        if (!(error instanceof TrainyardError) || error.code !== 'STREAM_FAILED' || attempt >= MAX_RECONNECTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      } finally {
        checking = false;
        stop();
        clearTimeout(timer);
        stream.close();
        await checker;
      }
      if (ended) return ended;
      const sweep = await this.get(id);
      if (sweep.status !== 'running') return sweep;
    }
  }
}

function path(id: string): string {
  return `/v1/sweeps/${encodeURIComponent(id)}`;
}
