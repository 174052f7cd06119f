/** The authenticated API. Every route below /v1 sees the caller's tenant through `tenantOf(request)`. */
import type { FastifyInstance } from 'fastify';
import { auth, tenantOf } from '../auth/plugin.js';
import { Type } from 'typebox';
import { example } from '../http/openapi-docs.js';
import { datasetRoutes } from './datasets/index.js';
import { jobRoutes } from './jobs/index.js';
import { modelRoutes } from './models/index.js';
import { sweepRoutes } from './sweeps/index.js';
import { websocketUpgrades } from './streams/upgrade-requests.js';
import { jobStreamRoutes } from './streams/job-stream.js';

export async function v1Routes(app: FastifyInstance): Promise<void> {
  await app.register(websocketUpgrades); // before auth: WebSocket upgrades may carry ?access_token=
  await app.register(auth, { keys: app.services.apiKeys });

  /** Who am I: the tenant the key belongs to. */
  app.get('/me', {
    schema: {
      summary: 'The tenant of the API key', tags: ['meta'],
      response: { 200: example(Type.Object({ tenant: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }) }), { tenant: { id: '0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f', name: 'default' } }) },
      errors: [],
    },
  }, async (request) => ({ tenant: tenantOf(request) }));

  await app.register(datasetRoutes, { prefix: '/datasets' });
  await app.register(jobRoutes, { prefix: '/jobs' });
  await app.register(jobStreamRoutes);
  await app.register(modelRoutes, { prefix: '/models' });
  await app.register(sweepRoutes, { prefix: '/sweeps' });
}
