/**
 * Bearer-key authentication for the /v1 scope. Handlers read the caller with `tenantOf(request)`; repositories take
 * the tenant id as an argument, so every query is scoped and another tenant's rows answer 404.
 * It also counts the request for the rate limit (src/http/protection.ts) once it knows who sent it: per key prefix for
 * a valid key, per client IP otherwise (a flood of made-up keys is limited like anonymous requests).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TenantRef } from '../db/repositories/tenants.js';
import { apiError } from '../errors.js';
import { bearerToken, prefixOf } from './api-keys.js';
import type { ApiKeyCache } from './key-cache.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: TenantRef | null;
  }
}

export function tenantOf(request: FastifyRequest): TenantRef {
  if (!request.tenant) throw apiError('UNAUTHENTICATED', 'This route needs an API key');
  return request.tenant;
}

async function authPlugin(app: FastifyInstance, options: { keys: ApiKeyCache }): Promise<void> {
  app.decorateRequest('tenant', null);
  app.addHook('onRequest', async (request, reply) => {
    const limiter = app.rateLimiter;
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      await limiter?.check(request, reply, { ip: request.ip });
      reply.header('www-authenticate', 'Bearer realm="trainyard"');
      throw apiError('UNAUTHENTICATED', 'Send your API key as `Authorization: Bearer <key>`');
    }
    const tenant = await options.keys.authenticate(token);
    if (!tenant) {
      await limiter?.check(request, reply, { ip: request.ip });
      reply.header('www-authenticate', 'Bearer realm="trainyard", error="invalid_token"');
      throw apiError('UNAUTHENTICATED', 'The API key is unknown or revoked');
    }
    await limiter?.check(request, reply, { key: prefixOf(token)! });
    request.tenant = tenant;
  });
}

export const auth = fp(authPlugin, { name: 'trainyard-auth' });
