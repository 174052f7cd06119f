/**
 * Bearer-key authentication for the /v1 scope. Handlers read the caller with `tenantOf(request)`; repositories take
 * the tenant id as an argument, so every query is scoped and another tenant's rows answer 404.
 * It also counts the request for the rate limit (src/http/protection.ts) once it knows who sent it: per key prefix for
 * a valid key, per client IP otherwise (a flood of made-up keys is limited like anonymous requests).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TenantRef } from '../db/repositories/tenants.js';
import { apiError } from '../errors.js';
import { bearerToken, prefixOf } from './api-keys.js';
import type { ApiKeyCache } from './key-cache.js';

type HookDone = (error?: Error) => void;

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
  const { keys } = options;
  app.decorateRequest('tenant', null);

  // Named per-request closures are avoided here: tsx (esbuild keepNames) gives each a name with defineProperty.
  /** Counts a request that fails authentication against its client IP, then refuses it (401 with WWW-Authenticate). */
  function refuse(request: FastifyRequest, reply: FastifyReply, challenge: string, message: string, done: HookDone): void {
    if (!app.rateLimiter) return refused(reply, challenge, message, done);
    app.rateLimiter.count(request, reply, { ip: request.ip }, (error) => {
      if (error) done(error); // over the IP's limit: 429 (without the challenge)
      else refused(reply, challenge, message, done);
    });
  }
  function refused(reply: FastifyReply, challenge: string, message: string, done: HookDone): void {
    reply.header('www-authenticate', challenge);
    done(apiError('UNAUTHENTICATED', message));
  }
  /** Counts an authenticated request against its key, then lets it through (or 429). */
  function admit(request: FastifyRequest, reply: FastifyReply, tenant: TenantRef, prefix: string, done: HookDone): void {
    if (!app.rateLimiter) {
      request.tenant = tenant;
      return done();
    }
    app.rateLimiter.count(request, reply, { key: prefix }, (error) => {
      if (error) return done(error);
      request.tenant = tenant;
      done();
    });
  }

  // Callback form: a key this process has verified before is admitted synchronously (no hash, no promise, and the
  // rate limit's count usually at hand too); only other keys wait for the cache (and perhaps Postgres).
  app.addHook('onRequest', (request, reply, done) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) return refuse(request, reply, 'Bearer realm="trainyard"', 'Send your API key as `Authorization: Bearer <key>`', done);
    const known = keys.verified(token);
    if (known) return admit(request, reply, known.tenant, known.prefix, done);
    keys.authenticate(token).then((tenant) => {
      if (!tenant) refuse(request, reply, 'Bearer realm="trainyard", error="invalid_token"', 'The API key is unknown or revoked', done);
      else admit(request, reply, tenant, prefixOf(token)!, done);
    }, done);
  });
}

export const auth = fp(authPlugin, { name: 'trainyard-auth' });
