/**
 * Bearer-key authentication for the /v1 scope. Handlers read the caller with `tenantOf(request)`; repositories take
 * the tenant id as an argument, so every query is scoped and another tenant's rows answer 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TenantRef } from '../db/repositories/tenants.js';
import { apiError } from '../errors.js';
import { bearerToken } from './api-keys.js';
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
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="trainyard"');
      throw apiError('UNAUTHENTICATED', 'Send your API key as `Authorization: Bearer <key>`');
    }
    const tenant = await options.keys.authenticate(token);
    if (!tenant) {
      reply.header('www-authenticate', 'Bearer realm="trainyard", error="invalid_token"');
      throw apiError('UNAUTHENTICATED', 'The API key is unknown or revoked');
    }
    request.tenant = tenant;
  });
}

export const auth = fp(authPlugin, { name: 'trainyard-auth' });
