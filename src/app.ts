/**
 * build(services) → a Fastify instance with every plugin and route registered. It never listens: src/server.ts does,
 * and tests use it directly (inject or supertest).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { registerProblemHandlers } from './http/problem-handlers.js';
import { loggerOptions } from './logger.js';
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
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function build(services: Services, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(config.logLevel, 'api'),
    // Fastify's two lines per request are replaced by our one line (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.jsonBodyBytes,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('services', services);
  if (options.ownsServices ?? true) app.addHook('onClose', async () => services.close());

  // One JSON line per request, with its id.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        tenant: request.tenant?.name,
      },
      'request',
    );
  });

  registerProblemHandlers(app);
  await app.register(healthRoutes);
  await app.register(v1Routes, { prefix: '/v1' });
  return app;
}
