/**
 * Turns every error into one problem+json shape (see src/errors.ts), with `x-request-id`, whatever raised it:
 *   - route handlers and hooks (the error handler): our ApiErrors, Fastify's own errors (validation, body parsing,
 *     limits) by code and status, outages of Postgres or Redis as 503 DATABASE_UNAVAILABLE / QUEUE_UNAVAILABLE with
 *     Retry-After (src/infra/dependency-errors.ts); anything else is INTERNAL, logged, never leaked;
 *   - no route: 404, or 405 with `Allow` when the path exists for other methods, and OPTIONS answers 204 with `Allow`
 *     (CORS preflights are answered before, by @fastify/cors, see ./protection.ts);
 *   - the router before any hook runs (`frameworkErrors`): a malformed URL (400) and a too long path parameter (414,
 *     without echoing the URL);
 *   - Node's HTTP parser before Fastify sees a request (`clientErrorHandler`): headers too large (431), a malformed
 *     request (400), a request that took too long (408).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, apiError, problemOf, type ErrorCode } from '../errors.js';
import { redactUrl } from '../logger.js';
import { unavailableDependency, type DependencyPorts } from '../infra/dependency-errors.js';
import { RouteTable } from './route-table.js';
import { friendlyIssues, type RawValidationError } from './validation-messages.js';

/** Seconds a client should wait before retrying, sent as `Retry-After` with these problems (unless already set). */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  DATABASE_UNAVAILABLE: 5,
  QUEUE_UNAVAILABLE: 5,
  OVERLOADED: 5,
  NOT_READY: 5,
};

/** Headers of responses written without Fastify's hooks (framework and client errors): an inert JSON document. */
export const RAW_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function sendProblem(reply: FastifyReply, error: ApiError): FastifyReply {
  const retryAfter = RETRY_AFTER_SECONDS[error.code];
  if (retryAfter !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter));
  return reply.code(error.status).type('application/problem+json').send(problemOf(error, String(reply.request.id)));
}

/** Fastify's (and its plugins') errors by status, for codes not mapped one by one. */
const BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'MALFORMED_REQUEST',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'OVERLOADED',
};

/**
 * Maps an error to the problem it answers: ours as they are, Fastify's own (validation, body parsing, limits), and
 * outages of Postgres or Redis; null for anything unexpected (an INTERNAL error).
 */
export function toApiError(error: FastifyError, ports?: DependencyPorts, request?: FastifyRequest): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const schema = (request?.routeOptions.schema as Record<string, unknown> | undefined)?.[where];
    const errors = friendlyIssues(error.validation as unknown as RawValidationError[], where, schema);
    const first = errors[0];
    return apiError('VALIDATION_FAILED', first ? `${first.path} ${first.message}` : `${where} is invalid`, { errors });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(request);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return apiError('INVALID_JSON', error.message);
    case 'FST_ERR_BAD_URL':
      return apiError('MALFORMED_REQUEST', 'The URL is not valid (a malformed percent-encoding?)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return apiError('URI_TOO_LONG', 'A path parameter is longer than the router accepts');
    case 'FST_UNDER_PRESSURE':
      return apiError('OVERLOADED', 'The server is overloaded; retry later');
  }
  if (error instanceof SyntaxError && error.statusCode === 400) return apiError('INVALID_JSON', error.message);
  const outage = unavailableDependency(error, ports);
  if (outage === 'database') return apiError('DATABASE_UNAVAILABLE', 'The database cannot be reached right now; retry later');
  if (outage === 'queue') return apiError('QUEUE_UNAVAILABLE', 'The queue (Redis) cannot be reached right now; retry later');
  const status = error.statusCode;
  // Only Fastify's and its plugins' errors (FST_ codes) are trusted with their status; any other error is unexpected.
  if (typeof status === 'number' && typeof error.code === 'string' && error.code.startsWith('FST_')) {
    const code = BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'MALFORMED_REQUEST' : undefined);
    if (code) return apiError(code, code === 'OVERLOADED' ? 'The server is overloaded; retry later' : error.message);
  }
  if (status === 413) return apiError('PAYLOAD_TOO_LARGE', error.message);
  if (status === 415) return apiError('UNSUPPORTED_MEDIA_TYPE', error.message);
  if (status === 429) return apiError('RATE_LIMITED', error.message);
  return null;
}

/** The content types a route takes: its schema's `consumes` (src/http/openapi-docs.ts), else JSON. */
export function acceptedContentTypes(request: FastifyRequest | undefined): readonly string[] {
  const consumes = request?.routeOptions.schema?.consumes;
  return consumes && consumes.length > 0 ? consumes : ['application/json'];
}

/** 415 naming what the route accepts. */
export function unsupportedMediaType(request: FastifyRequest | undefined): ApiError {
  const given = request?.headers['content-type'] ?? 'none';
  const accepted = acceptedContentTypes(request);
  const route = request?.routeOptions.url ? `${request.method} ${request.routeOptions.url}` : 'This route';
  return apiError('UNSUPPORTED_MEDIA_TYPE', `Content type ${given.slice(0, 100)} is not accepted; ${route} takes ${accepted.join(', ')}`, {
    contentType: given.slice(0, 100),
    accepted,
  });
}

export interface ProblemHandlerOptions {
  /** Ports of DATABASE_URL and REDIS_URL (src/infra/dependency-errors.ts). */
  ports?: DependencyPorts;
}

export function registerProblemHandlers(app: FastifyInstance, options: ProblemHandlerOptions = {}): RouteTable {
  const routes = new RouteTable();
  routes.watch(app);

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toApiError(error, options.ports, request);
    if (known) {
      if (known.code === 'DATABASE_UNAVAILABLE' || known.code === 'QUEUE_UNAVAILABLE') {
        request.log.warn({ code: known.code, cause: error.message.split('\n').filter(Boolean).at(-1)?.slice(0, 300) }, known.detail);
      } else if (known.status >= 500 && known.code !== 'OVERLOADED') {
        request.log.error({ err: error }, known.detail);
      }
      return sendProblem(reply, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, apiError('INTERNAL', 'An unexpected error occurred; the request id identifies it in the logs'));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routes.methodsFor(path);
    if (request.method === 'OPTIONS' && allowed.length > 0) {
      return reply.code(204).header('allow', [...allowed, 'OPTIONS'].join(', ')).send();
    }
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', [...allowed, 'OPTIONS'].join(', '));
      return sendProblem(reply, apiError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${clipped(path)}; allowed: ${allowed.join(', ')}`, { allow: allowed }));
    }
    return sendProblem(reply, apiError('ROUTE_NOT_FOUND', `${request.method} ${clipped(path)} does not exist`));
  });
  return routes;
}

/** A path as echoed in a problem's detail: at most 200 characters. */
function clipped(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}…`;
}

/**
 * Fastify's `frameworkErrors`: errors of the router itself (a malformed URL, a too long path parameter), raised before
 * any hook ran, so the request id and the security headers are set here.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  for (const [name, value] of Object.entries(RAW_SECURITY_HEADERS)) reply.header(name, value);
  const problem = toApiError(error) ?? apiError('INTERNAL', 'An unexpected error occurred; the request id identifies it in the logs');
  if (problem.status >= 500) request.log.error({ err: error }, 'framework error');
  request.log.info({ method: request.method, url: redactUrl(request.raw.url ?? ''), statusCode: problem.status }, 'request');
  void sendProblem(reply, problem);
}

interface ClientError extends Error {
  code?: string;
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused a request (headers over the limit, malformed bytes, too
 * slow) before Fastify saw it. The answer is written on the socket as problem+json with a fresh request id; the error
 * itself is not logged (its `rawPacket` holds the request's bytes, Authorization header included).
 */
export function clientErrorHandler(this: FastifyInstance, error: ClientError, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'MALFORMED_REQUEST';
  const detail =
    code === 'HEADERS_TOO_LARGE' ? 'The request line and headers exceed the server limit'
      : code === 'REQUEST_TIMEOUT' ? 'The request did not arrive in time'
        : 'The request is not valid HTTP';
  const id = randomUUID();
  const problem = apiError(code, detail);
  const body = JSON.stringify(problemOf(problem, id));
  const headers = {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': id,
    connection: 'close',
    ...RAW_SECURITY_HEADERS,
  };
  this.log.info({ reqId: id, statusCode: problem.status, parserError: error.code }, 'request refused by the HTTP parser');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  socket.end(head + body);
  socket.once('finish', () => socket.destroy());
}
