/** Turns every error into one problem+json shape (see src/errors.ts). Unknown errors become INTERNAL, logged, never leaked. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, apiError, problemOf } from '../errors.js';

export function sendProblem(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).type('application/problem+json').send(problemOf(error, String(reply.request.id)));
}

/** Maps Fastify's own errors (validation, body parsing, limits) to our codes; null for anything unexpected. */
export function toApiError(error: FastifyError): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const errors = error.validation.map((v) => ({
      path: `${where}${v.instancePath.replaceAll('/', '.')}`,
      message: v.message ?? 'is invalid',
    }));
    const first = errors[0];
    return apiError('VALIDATION_FAILED', first ? `${first.path} ${first.message}` : `${where} is invalid`, { errors });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return apiError('UNSUPPORTED_MEDIA_TYPE', error.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return apiError('INVALID_JSON', error.message);
  }
  if (error instanceof SyntaxError && error.statusCode === 400) return apiError('INVALID_JSON', error.message);
  if (error.statusCode === 413) return apiError('PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode === 415) return apiError('UNSUPPORTED_MEDIA_TYPE', error.message);
  if (error.statusCode === 429) return apiError('RATE_LIMITED', error.message);
  return null;
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toApiError(error);
    if (known) {
      if (known.status >= 500) request.log.error({ err: error }, known.detail);
      return sendProblem(reply, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, apiError('INTERNAL', 'An unexpected error occurred; the request id identifies it in the logs'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, apiError('ROUTE_NOT_FOUND', `${request.method} ${request.url.split('?')[0]} does not exist`)),
  );
}
