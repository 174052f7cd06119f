/**
 * build(services) → a Fastify instance with every plugin and route registered. It never listens: src/server.ts does,
 * and tests use it directly (inject or supertest).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { dependencyPorts } from './infra/dependency-errors.js';
import { dashboardRoutes } from './dashboard/serve.js';
import { clientErrorHandler, frameworkErrors, registerProblemHandlers } from './http/problem-handlers.js';
import { registerOpenApi } from './http/openapi.js';
import { registerProtection } from './http/protection.js';
import { logDestination, loggerOptions, redactUrl } from './logger.js';
import { metricsRoutes } from './metrics/plugin.js';
import { healthRoutes } from './routes/health.js';
import { v1Routes } from './routes/v1.js';
import type { Services } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export interface BuildOptions {
  /** Close the services when the app closes. Default true */
  ownsServices?: boolean;
  /** Override the logger (tests pass false). Default: pino at the configured level */
  logger?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function build(services: Services, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const stream = options.logStream ?? logDestination(); // JSON lines; pretty on a terminal (src/logger.ts)
  const logger = options.logger === false ? false : { ...loggerOptions(config.logLevel, 'api'), ...(stream ? { stream } : {}) };
  const app = Fastify({
    logger,
    // Fastify's two lines per request are replaced by our one line (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.jsonBodyBytes,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Ajv 8 with Fastify's defaults coerces a query value such as "1e400" to Infinity and then lets it past
    // minimum/maximum (a 500 further on); with strictNumbers off the bounds are checked and it is a 400.
    ajv: { customOptions: { strictNumbers: false } },
    // Errors raised before any hook (router, HTTP parser) are problem+json too (src/http/problem-handlers.ts).
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // No route takes text/plain: without Fastify's default parser such a body is a 415 everywhere, not a schema error.
  app.removeContentTypeParser('text/plain');
  app.decorate('services', services);
  if (options.ownsServices ?? true) app.addHook('onClose', async () => services.close());

  // One JSON line per request, with its id (the x-request-id header: set with the security headers, one hook for
  // both, src/http/protection.ts); the URL without credentials (src/logger.ts).
  // Hooks that await nothing take Fastify's callback form: no promise and no microtask per request.
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        tenant: request.tenant?.name,
      },
      'request',
    );
    done();
  });

  registerProblemHandlers(app, { ports: dependencyPorts(config.databaseUrl, config.redisUrl) });
  await registerProtection(app, services);
  await registerOpenApi(app); // before the routes: it collects them as they are registered
  await app.register(metricsRoutes); // GET /metrics and the request timings of every route (src/metrics/)
  await app.register(healthRoutes);
  await app.register(v1Routes, { prefix: '/v1' });
  await app.register(dashboardRoutes); // the web page at / and /assets/* (unauthenticated; it holds no data)
  return app;
}
