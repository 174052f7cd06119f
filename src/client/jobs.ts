/** /v1/jobs: submit (or dry-run), list, read, metrics, checkpoints, cancel, and the live stream. */
import { TrainyardError } from './errors.js';
import type { HttpCore } from './http.js';
import { JobStream, socketUrl, type StreamOptions, type WebSocketConstructor } from './stream.js';
import {
  isTerminal, type Checkpoints, type DryRun, type Job, type Model, type PromoteOptions, type JobEvent, type JobList, type JobListOptions, type JobSpec, type MetricColumns,
  type MetricsOptions,
} from './types.js';

/** Largest page of GET /v1/jobs/:id/metrics. */
const METRICS_PAGE = 10_000;
/** How often `wait` reopens a stream that closed abnormally (server restart, slow client) before giving up. */
const MAX_RECONNECTS = 5;
/** How often `wait` also reads the job, in case the stream never brings its end (default of `checkEveryMs`). */
const WAIT_CHECK_MS = 10_000;

export interface WaitOptions {
  since?: number;
  onEvent?: (event: JobEvent) => void;
  /**
   * While waiting, read the job this often (ms) and stop once it has ended, even if the stream did not say so: live
   * events are best-effort (a terminal `status` lost in Redis would leave the stream open forever). Default 10 s.
   */
  checkEveryMs?: number;
}

export class Jobs {
  constructor(
    private readonly http: HttpCore,
    private readonly webSocket: () => WebSocketConstructor,
  ) {}

  submit(spec: JobSpec): Promise<Job> {
    return this.http.request('POST', '/v1/jobs', { json: spec });
  }

  /** The plan (layer table, parameter count, steps) without queuing anything. */
  dryRun(spec: JobSpec): Promise<DryRun> {
    return this.http.request('POST', '/v1/jobs', { json: spec, query: { dryRun: true } });
  }

  list(options: JobListOptions = {}): Promise<JobList> {
    return this.http.request('GET', '/v1/jobs', { query: { ...options } });
  }

  get(id: string): Promise<Job> {
    return this.http.request('GET', path(id));
  }

  /** One page of the learning curve (steps above `since`). */
  metrics(id: string, options: MetricsOptions = {}): Promise<MetricColumns> {
    return this.http.request('GET', `${path(id)}/metrics`, { query: { ...options } });
  }

  /** Every stored metrics record above `since`, all pages joined. */
  async allMetrics(id: string, since = -1): Promise<MetricColumns> {
    const all = await this.metrics(id, { since, limit: METRICS_PAGE });
    let page = all;
    while (page.count === METRICS_PAGE) {
      page = await this.metrics(id, { since: page.nextSince, limit: METRICS_PAGE });
      for (const key of COLUMNS) (all[key] as unknown[]).push(...(page[key] as unknown[]));
      all.count += page.count;
      all.nextSince = page.nextSince;
    }
    return all;
  }

  checkpoints(id: string): Promise<Checkpoints> {
    return this.http.request('GET', `${path(id)}/checkpoints`);
  }

  cancel(id: string): Promise<Job> {
    return this.http.request('POST', `${path(id)}/cancel`);
  }

  /** Deletes a finished job with its metrics and checkpoints (its model stays). */
  delete(id: string): Promise<void> {
    return this.http.request('DELETE', path(id));
  }

  /** Makes a model from a stored checkpoint (GET checkpoints lists them). */
  promote(id: string, step: number, options: PromoteOptions = {}): Promise<Model> {
    return this.http.request('POST', `${path(id)}/checkpoints/${step}/promote`, { json: options });
  }

  /** Opens the job's WebSocket stream now. Iterate it (`for await`) or pass `onEvent`. */
  stream(id: string, options: StreamOptions = {}): JobStream {
    const url = socketUrl(this.http.url(`${path(id)}/stream`, { since: options.since, access_token: this.http.key }));
    // The upgrade's HTTP answer (401, 404, 503) is invisible to a browser's WebSocket: ask the REST route why.
    const explain = async () => {
      await this.get(id);
      return new TrainyardError(0, 'STREAM_FAILED', `The stream of job ${id} could not be opened`);
    };
    return new JobStream(url, this.webSocket(), options, explain);
  }

  /**
   * Follows the job's stream until its terminal status, reopening it (from the last step seen) if it closes abnormally;
   * resolves with the finished job. The job is also read every `checkEveryMs`, so a terminal status the stream never
   * delivers still ends the wait.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    let since = options.since ?? -1;
    const checkEveryMs = options.checkEveryMs ?? WAIT_CHECK_MS;
    for (let attempt = 0; ; attempt++) {
      const stream = this.stream(id, { since });
      let terminal = false;
      let ended = null as Job | null;
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
          const job = await this.get(id).catch(() => null);
          if (checking && job && isTerminal(job.status)) {
            ended = job;
            stream.close();
            return;
          }
        }
      };
      const checker = check();
      try {
        for await (const event of stream) {
          if (event.type === 'status' && isTerminal(event.status)) terminal = true;
          options.onEvent?.(event);
        }
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
      since = stream.lastStep;
      if (terminal) return this.get(id);
      const job = await this.get(id);
      if (isTerminal(job.status)) return job;
    }
  }
}

const COLUMNS = [
  'step', 'epoch', 'trainLoss', 'dataLoss', 'regLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'valRmse', 'valR2', 'learningRate',
  'samplesPerSec', 'layers',
] as const satisfies readonly (keyof MetricColumns)[];

function path(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}
