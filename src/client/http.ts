/**
 * The HTTP core of the client: base URL, Bearer key, JSON in and out, problem+json → TrainyardError. Uses the global
 * fetch (Node ≥ 18 and browsers) or an injected one; imports nothing from Node.
 */
import { TrainyardError } from './errors.js';

export type QueryValue = string | number | boolean | undefined | null;
export type Query = Readonly<Record<string, QueryValue>>;

export interface RequestOptions {
  query?: Query;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: BodyInit;
  contentType?: string;
}

/** Retries of a GET answered 503 or 429 with Retry-After, and the longest wait honoured (seconds). */
const GET_RETRIES = 3;
const MAX_RETRY_WAIT_S = 5;

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class HttpCore {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly key: string | undefined,
    private readonly fetchImpl: FetchLike,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** The absolute (or, with an empty base URL, origin-relative) URL of a path with a query string. */
  url(path: string, query: Query = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) search.set(name, String(value));
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      body = options.body;
      if (options.contentType) headers['content-type'] = options.contentType;
    }
    const url = this.url(path, options.query);
    let response: Response;
    for (let attempt = 0; ; attempt++) {
      try {
        response = await this.fetchImpl(url, { method, headers, body });
      } catch (error) {
        const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
        throw new TrainyardError(0, 'CONNECTION_FAILED', `Cannot reach Trainyard at ${this.baseUrl || 'this origin'} (${cause})`, { url });
      }
      // A read the server asks to retry (503 overloaded or a dependency down, 429 rate limited) is retried a few times.
      const retryAfter = Number(response.headers.get('retry-after'));
      if (method !== 'GET' || (response.status !== 503 && response.status !== 429) || attempt >= GET_RETRIES || !(retryAfter >= 0)) break;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, MAX_RETRY_WAIT_S) * 1000 + 100));
    }
    const requestId = response.headers.get('x-request-id');
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const parsed = text && type.includes('json') ? parseJson(text) : undefined;
    if (!response.ok) {
      if (parsed !== undefined) throw TrainyardError.fromProblem(response.status, parsed, requestId);
      throw new TrainyardError(response.status, `HTTP_${response.status}`, text.slice(0, 200) || `HTTP ${response.status}`, {}, requestId);
    }
    if (response.status === 204 || text === '') return undefined as T;
    if (parsed === undefined) throw new TrainyardError(response.status, 'UNEXPECTED_RESPONSE', `Expected JSON from ${method} ${path}, got ${type || 'no content type'}`, {}, requestId);
    return parsed as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
