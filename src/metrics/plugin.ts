/**
 * GET /metrics (Prometheus text format) and the hook that times every request for it (./api-metrics.ts).
 *
 * Open by default, like /health: the metrics hold counts and latencies, no tenant data and no ids. With METRICS_TOKEN
 * set it needs `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization: { credentials: … }`), else 401.
 * Registered with fastify-plugin so that its onResponse hook sees every route of the app.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { apiError } from '../errors.js';
import { example } from '../http/openapi-docs.js';
import { createApiMetrics } from './api-metrics.js';
import { metricsTokenCheck } from './token.js';

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const metrics = createApiMetrics(app.services);
  const authorized = metricsTokenCheck(app.services.config.metrics.token);

  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.is404 ? undefined : request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const schema = {
    summary: 'Prometheus metrics of this API process (text format 0.0.4)',
    description: 'HTTP latency by route and status, jobs by status, queue depth, open WebSockets, inference latency, Postgres pool use, '
      + 'process metrics. Open unless METRICS_TOKEN is set; then it needs `Authorization: Bearer <METRICS_TOKEN>`.',
    tags: ['meta'],
    response: {
      200: {
        description: 'The metrics in Prometheus text format',
        content: { 'text/plain': { schema: example(Type.String(), '# HELP trainyard_jobs Jobs stored in Postgres by status\n# TYPE trainyard_jobs gauge\ntrainyard_jobs{status="running"} 2\n') } },
      },
    },
    errors: ['UNAUTHENTICATED' as const],
  };

  app.get('/metrics', { schema }, async (request, reply) => {
    if (!authorized(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="trainyard-metrics"');
      throw apiError('UNAUTHENTICATED', 'GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`');
    }
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });
}

export const metricsRoutes = fp(metricsPlugin, { name: 'trainyard-metrics' });
