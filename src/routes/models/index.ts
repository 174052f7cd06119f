/** /v1/models: read and delete, predict, export and import, decision grids. */
import type { FastifyInstance } from 'fastify';
import { decisionGridRoutes } from './decision-grid.js';
import { evaluateRoutes } from './evaluate.js';
import { predictRoutes } from './predict.js';
import { readRoutes } from './read.js';
import { registryRoutes } from './registry.js';
import { transferRoutes } from './transfer.js';

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  await app.register(readRoutes);
  await app.register(predictRoutes);
  await app.register(evaluateRoutes);
  await app.register(transferRoutes);
  await app.register(decisionGridRoutes);
  await app.register(registryRoutes);
}
