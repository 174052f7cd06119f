/**
 * HTTP throughput and latency with autocannon (in a worker thread, so the load generator does not share the server's
 * event loop): the same single-row JSON body against
 *   - a bare Fastify route that parses it and answers a small JSON object (the baseline),
 *   - GET /v1/me (authentication through the key cache, the per-key rate limit count, and the API's stack),
 *   - POST /v1/models/:id/predict through the real API (authentication + cached model + forward pass),
 *   - the same predict route without authentication (diagnostic: the route mounted with the tenant preset),
 *   - GET /health of the full API (diagnostic: its stack without authentication and rate limit),
 * each measured in the same process, one after the other.
 */
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerProblemHandlers } from '../src/http/problem-handlers.js';
import { modelRoutes } from '../src/routes/models/index.js';
import type { Services } from '../src/services.js';

export interface HttpResult {
  name: string;
  requestsPerSec: number;
  meanMs: number;
  /** Percentiles at autocannon's 1 ms resolution. */
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx, and socket errors/timeouts: must be 0. */
  failures: number;
}

export interface HttpOptions {
  durationSec: number;
  connections: number;
}

export async function measure(name: string, target: { url: string; method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, options: HttpOptions): Promise<HttpResult> {
  const run = (duration: number) => autocannon({
    url: target.url, method: target.method, headers: { 'content-type': 'application/json', ...target.headers }, body: target.body,
    connections: options.connections, duration, workers: 1,
  });
  await run(1); // warm-up: JIT, caches, connection pools
  const r = await run(options.durationSec);
  return { name, requestsPerSec: r.requests.average, meanMs: r.latency.mean, p50Ms: r.latency.p50, p99Ms: r.latency.p99, failures: r.non2xx + r.errors + r.timeouts };
}

/** The baseline: Fastify as the API builds it, minus everything of ours. */
export async function startBare(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.post('/echo', async (request) => ({ ok: true, rows: (request.body as { rows: unknown[] }).rows.length }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

/** The model routes alone, the caller's tenant preset instead of authenticated (diagnostic only). */
export async function startUnauthenticated(services: Services, tenant: { id: string; name: string }): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.decorate('services', services);
  app.decorateRequest('tenant', null);
  app.addHook('onRequest', async (request) => {
    request.tenant = tenant;
  });
  registerProblemHandlers(app);
  await app.register(modelRoutes, { prefix: '/v1/models' });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}
