/** The authenticated API. Every route below /v1 sees the caller's tenant through `tenantOf(request)`. */
import type { FastifyInstance } from 'fastify';
import { auth, tenantOf } from '../auth/plugin.js';

export async function v1Routes(app: FastifyInstance): Promise<void> {
  await app.register(auth, { db: app.services.db });

  /** Who am I: the tenant the key belongs to. */
  app.get('/me', async (request) => ({ tenant: tenantOf(request) }));
}
