/**
 * Abuse and overload protection of the API, registered at the root before any route (src/app.ts), in this order of
 * onRequest hooks:
 *   1. the x-request-id header and the security headers (@fastify/helmet's, computed once: {@link securityHeaders}): a strict CSP (`default-src 'self'`, so a dashboard served at / may load its
 *      own scripts, styles and images and open WebSockets to its own origin, nothing else), nosniff, frame-ancestors
 *      none, HSTS, and the rest of helmet's defaults; on every response, errors included;
 *   2. CORS (@fastify/cors) for the origins of CORS_ORIGINS only (default none: no CORS headers at all); preflights
 *      of those origins are answered here, any other OPTIONS by the not-found handler (204 with Allow);
 *   3. overload (@fastify/under-pressure): while the event loop's mean delay over the last second exceeds
 *      MAX_EVENT_LOOP_DELAY_MS (or its utilization MAX_EVENT_LOOP_UTILIZATION), requests answer 503 OVERLOADED with
 *      Retry-After; /health stays up (a liveness probe must not restart a busy process);
 *   4. content negotiation: an Accept header that admits no JSON answers 406 NOT_ACCEPTABLE (pages and their files
 *      excepted: /, /docs, /assets/…; HTML answers get {@link pagePolicy} instead of the strict CSP);
 *   5. (the same hook as 4) the rate limit (@fastify/rate-limit, ./rate-limiter.ts, counted in Redis so it holds across replicas, one
 *      command per bucket at a time: src/http/coalescing-rate-store.ts): RATE_LIMIT_PER_MINUTE
 *      requests per minute per API key (bucket: the key's prefix), and as many per client IP for requests without a
 *      valid key. Authenticated /v1 routes are counted by the auth hook once it knows whether the key is valid, so a
 *      flood of made-up keys counts against its IP; everything else here. Every counted response carries
 *      RateLimit-Limit/-Remaining/-Reset (IETF draft); over the limit: 429 RATE_LIMITED with Retry-After. /health and
 *      /ready are exempt. If Redis is unavailable the limit is not applied (fail open: the API stays usable).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { prefixOf, bearerToken } from '../auth/api-keys.js';
import { apiError } from '../errors.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { isUpgradeRequest, takeAccessToken } from '../routes/streams/upgrade-requests.js';
import type { Services } from '../services.js';

/** Routes never limited, never refused for overload (probes). */
const EXEMPT = new Set(['/health', '/ready']);
const UNDER_PRESSURE_EXEMPT = new Set(['/health']);

/**
 * The security headers of @fastify/helmet for our options, computed once. The plugin builds helmet's middleware anew
 * for every request (measured: it cut GET /v1/me from about 4,000 to 700 requests/s on 2 cores); the headers are the
 * same for every response, so they are taken from one answer of a throwaway instance and set by a plain hook.
 */
export async function securityHeaders(crossOrigin: boolean): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'connect-src': ["'self'"],
        'font-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'img-src': ["'self'", 'data:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
      },
    },
    // The API is called cross-origin when CORS_ORIGINS allows it; CORP must not block those responses.
    crossOriginResourcePolicy: { policy: crossOrigin ? 'cross-origin' : 'same-origin' },
  });
  probe.get('/', async () => '');
  const res = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const generic = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (!generic.has(name) && typeof value === 'string') headers[name] = value;
  return headers;
}

function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The API's rate limiter (./rate-limiter.ts); null when RATE_LIMIT_PER_MINUTE is 0. */
    rateLimiter: RateLimiter | null;
  }
}

/** The key prefix of the credentials the request carries (header, or access_token on an upgrade), if well-formed. */
function presentedKeyPrefix(request: FastifyRequest): string | null {
  const header = bearerToken(request.headers.authorization);
  if (header) return prefixOf(header);
  if (isUpgradeRequest(request) && request.url.includes('=')) {
    const { token } = takeAccessToken(request.url);
    return token ? prefixOf(token) : null;
  }
  return null;
}

export async function registerProtection(app: FastifyInstance, services: Services): Promise<void> {
  const { config, redis } = services;

  const headers = await securityHeaders(config.http.corsOrigins.length > 0);
  // Hooks that await nothing take Fastify's callback form: no promise and no microtask per request. The request's
  // id goes out here too (x-request-id, src/app.ts), first, as it did from a hook of its own.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    reply.headers(headers);
    done();
  });
  // HTML pages (the dashboard at /, Swagger UI at /docs) get the page policy; every other answer keeps the strict one.
  app.addHook('onSend', (request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) reply.header('content-security-policy', pagePolicy(request.headers.host));
    done(null, payload);
  });

  if (config.http.corsOrigins.length > 0) {
    const any = config.http.corsOrigins.includes('*');
    const allowed = new Set(config.http.corsOrigins);
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && (any || allowed.has(origin)) ? origin : false),
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      maxAge: 600,
      strictPreflight: false,
    });
  }

  if (config.http.maxEventLoopDelayMs > 0 || config.http.maxEventLoopUtilization > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.http.maxEventLoopDelayMs,
      maxEventLoopUtilization: config.http.maxEventLoopUtilization,
      eventLoopUtilizationMode: 'interval',
      sampleInterval: 1000,
      pressureHandler: (request, _reply, type, value) => {
        if (UNDER_PRESSURE_EXEMPT.has(pathOf(request))) return;
        // No delay sample in the last interval (the loop was blocked across it once, e.g. at start): under-pressure
        // reports Infinity; the block itself shows in the next interval's mean, so nothing is lost by waiting for it.
        if (type === 'eventLoopDelay' && value === Infinity) return;
        const measured = type === 'eventLoopDelay' ? `event-loop delay ${Math.round(value ?? 0)} ms` : `${type} ${value ?? ''}`;
        return Promise.reject(apiError('OVERLOADED', `The server is overloaded (${measured}); retry later`));
      },
    });
  }

  const perMinute = config.http.rateLimitPerMinute;
  app.decorateRequest('rateCounted', false);
  const limiter = perMinute === 0 ? null : await createRateLimiter(app, { redis, nameSpace: `${config.queuePrefix}:ratelimit:`, perMinute, syncMs: config.http.rateLimitSyncMs });
  app.decorate('rateLimiter', limiter);

  // Content negotiation, then the rate limit (one hook: one call per request instead of two).
  app.addHook('onRequest', (request, reply, done) => {
    const accept = request.headers.accept;
    if (accept !== undefined && request.method !== 'OPTIONS' && !isUpgradeRequest(request) && !isPagePath(pathOf(request)) && !acceptsJson(accept)) {
      throw apiError('NOT_ACCEPTABLE', 'Every answer is JSON (application/json or application/problem+json); the Accept header admits neither', { accept: accept.slice(0, 200) });
    }
    if (limiter === null) {
      done();
      return;
    }
    if (request.method === 'OPTIONS' || EXEMPT.has(pathOf(request))) {
      request.rateCounted = true;
      done();
      return;
    }
    // Authenticated /v1 routes: the auth hook counts the request, per key or per IP (src/auth/plugin.ts).
    const route = request.routeOptions.url;
    if (!request.is404 && route?.startsWith('/v1/') && presentedKeyPrefix(request) !== null) {
      done();
      return;
    }
    limiter.count(request, reply, { ip: request.ip }, done);
  });
}

/** Paths of pages and their files (HTML, scripts, styles, images), where Accept need not admit JSON. */
export function isPagePath(path: string): boolean {
  return path === '/' || path === '/docs' || path.startsWith('/docs/') || path.startsWith('/assets/') || path === '/favicon.ico';
}

/** A Host header fit to be named in a policy (a hostname or IP literal, an optional port). */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The Content-Security-Policy of HTML pages: scripts, styles, fonts and images of this origin only (images also as
 * data: and blob: URLs, e.g. a canvas export), fetch and WebSockets to this origin ('self', and ws:/wss: of the
 * Host explicitly for browsers whose 'self' does not cover WebSocket schemes), no plugins, no framing, no inline scripts.
 */
export function pagePolicy(host: string | undefined): string {
  const sockets = host !== undefined && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'", "base-uri 'self'", `connect-src 'self'${sockets}`, "font-src 'self' data:", "form-action 'self'",
    "frame-ancestors 'none'", "img-src 'self' data: blob:", "object-src 'none'", "script-src 'self'", "script-src-attr 'none'",
    "style-src 'self'", "worker-src 'self' blob:",
  ].join('; ');
}

/** Whether an Accept header admits application/json or application/problem+json (q > 0). */
export function acceptsJson(accept: string): boolean {
  if (accept.trim() === '') return true;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (type === '*/*' || type === 'application/*' || type === 'application/json' || type === 'application/problem+json') return true;
  }
  return false;
}
