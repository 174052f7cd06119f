/**
 * The typed Trainyard client: `new Trainyard({ url, key })` then `ty.datasets`, `ty.jobs` (the live stream included),
 * `ty.models`, `ty.sweeps` (their live stream too). Browser-safe: global fetch and WebSocket (or injected ones), no
 * Node imports. In Node 20, which has no global WebSocket, import `./node.js` instead (it falls back to `ws`).
 */
import { Datasets } from './datasets.js';
import { TrainyardError } from './errors.js';
import { HttpCore, type FetchLike } from './http.js';
import { Jobs } from './jobs.js';
import { Models } from './models.js';
import { Sweeps } from './sweeps.js';
import type { WebSocketConstructor } from './stream.js';
import type { Me } from './types.js';

export interface TrainyardOptions {
  /** The server, e.g. `http://127.0.0.1:3000`; default '' (the page's own origin, in a browser). */
  url?: string;
  /** An API key (`ty_…`). */
  key?: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Default: the global WebSocket. */
  WebSocket?: WebSocketConstructor;
}

export class Trainyard {
  readonly datasets: Datasets;
  readonly jobs: Jobs;
  readonly models: Models;
  readonly sweeps: Sweeps;
  protected readonly http: HttpCore;

  constructor(options: TrainyardOptions = {}) {
    const fetchImpl = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
    this.http = new HttpCore(options.url ?? '', options.key, fetchImpl);
    const webSocket = () => {
      const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!impl) throw new TrainyardError(0, 'STREAM_FAILED', 'No WebSocket implementation: pass one as the WebSocket option');
      return impl;
    };
    this.datasets = new Datasets(this.http);
    this.jobs = new Jobs(this.http, webSocket);
    this.models = new Models(this.http);
    this.sweeps = new Sweeps(this.http, webSocket);
  }

  /** The server's base URL, as given. */
  get url(): string {
    return this.http.baseUrl;
  }

  /** The API key, as given. */
  get key(): string | undefined {
    return this.http.key;
  }

  /** The tenant of the key. */
  me(): Promise<Me> {
    return this.http.request('GET', '/v1/me');
  }

  /** Liveness: `{ status: 'ok' }`-like JSON of GET /health. */
  health(): Promise<unknown> {
    return this.http.request('GET', '/health');
  }
}

export { TrainyardError, isTrainyardError, type ClientErrorCode } from './errors.js';
export { EventStream, JobStream, type EventStreamOptions, type StreamClose, type StreamOptions, type WebSocketConstructor } from './stream.js';
export { SweepStream, type SweepStreamOptions, type SweepWaitOptions } from './sweeps.js';
export type { WaitOptions } from './jobs.js';
export type { PredictRows } from './models.js';
export type { FetchLike } from './http.js';
export * from './types.js';
