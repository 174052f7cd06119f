/** The authenticated API. Every route below /v1 sees the caller's tenant through `tenantOf(request)`. */
import type { FastifyInstance } from 'fastify';
import { auth, tenantOf } from '../auth/plugin.js';
import { datasetRoutes } from './datasets/index.js';
import { jobRoutes } from './jobs/index.js';
import { modelRoutes } from './models/index.js';
import { websocketUpgrades } from './streams/upgrade-requests.js';
import { jobStreamRoutes } from './streams/job-stream.js';

export async function v1Routes(app: FastifyInstance): Promise<void> {
  await app.register(websocketUpgrades); // before auth: WebSocket upgrades may carry ?access_token=
  await app.register(auth, { keys: app.services.apiKeys });

  /** Who am I: the tenant the key belongs to. */
  app.get('/me', async (request) => ({ tenant: tenantOf(request) }));

  await app.register(datasetRoutes, { prefix: '/datasets' });
  await app.register(jobRoutes, { prefix: '/jobs' });
  await app.register(jobStreamRoutes);
  await app.register(modelRoutes, { prefix: '/models' });
}
