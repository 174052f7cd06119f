/** /v1/datasets: uploads (own scope, streaming body parsers), reads and deletion, synthetic and example sets. */
import type { FastifyInstance } from 'fastify';
import { exampleRoutes } from './examples.js';
import { readRoutes } from './read.js';
import { syntheticRoutes } from './synthetic.js';
import { uploadRoutes } from './upload.js';

export async function datasetRoutes(app: FastifyInstance): Promise<void> {
  await app.register(uploadRoutes);
  await app.register(readRoutes);
  await app.register(syntheticRoutes);
  await app.register(exampleRoutes);
}
