/**
 * POST /v1/datasets/synthetic {kind, n?, classes?, noise?, seed?, name?} → 201 with the dataset.
 * Kinds and defaults: src/datasets/synthetic/index.ts. The seed actually used (random when not given) is returned in
 * sourceParams.seed: the same body with that seed makes the same data again.
 */
import { randomInt } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { saveDataset } from '../../datasets/store.js';
import { SYNTHETIC, generateSynthetic, syntheticRows, type SyntheticParams } from '../../datasets/synthetic/index.js';
import { apiError } from '../../errors.js';
import type { Config } from '../../config.js';
import { DatasetSchema, SyntheticBody, datasetJson, type SyntheticBodyJson } from './schemas.js';
import { example } from '../../http/openapi-docs.js';
import { DATASET_EXAMPLE } from '../../http/openapi-examples.js';

export async function syntheticRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, config } = app.services;

  app.post('/synthetic', {
    schema: {
      summary: 'Generate a synthetic dataset (spiral, circles, xor, moons, blobs, sine)', tags: ['datasets'],
      body: example(SyntheticBody, { kind: 'spiral', n: 100, classes: 3, noise: 0.2, seed: 42 }),
      response: { 201: example(DatasetSchema, DATASET_EXAMPLE) },
      errors: ['DATASET_TOO_MANY_CLASSES', 'DATASET_TOO_MANY_ROWS', 'TENANT_STORAGE_FULL'],
    },
  }, async (request, reply) => {
    const body = request.body;
    const params = syntheticParams(body, config.limits);
    const seed = body.seed ?? randomInt(2 ** 32 - 1);
    const set = generateSynthetic(body.kind, params, seed);
    const meta = await saveDataset(db, tenantOf(request).id, {
      ...set,
      ...(set.task === 'classification' ? { task: 'classification', y: set.y as Int32Array } : { task: 'regression', y: set.y as Float32Array }),
      name: body.name ?? `${body.kind} (seed ${seed})`,
      source: 'synthetic',
      sourceParams: { kind: body.kind, ...params, seed },
      features: set.featureNames.length,
    }, { tenantBytes: config.limits.tenantDatasetBytes });
    return reply.code(201).header('location', `/v1/datasets/${meta.id}`).send(datasetJson(meta));
  });
}

/** The kind's defaults filled in, and the kind's and the installation's limits checked. */
function syntheticParams(body: SyntheticBodyJson, limits: Config['limits']): SyntheticParams {
  const kind = SYNTHETIC[body.kind];
  if (body.classes !== undefined && kind.fixedClasses !== null) {
    const what = kind.task === 'regression' ? `${body.kind} is a regression set and takes no classes` : `${body.kind} always has ${kind.fixedClasses} classes`;
    throw apiError('VALIDATION_FAILED', `body.classes: ${what}`, { errors: [{ path: 'body.classes', message: what }] });
  }
  const params: SyntheticParams = {
    n: body.n ?? kind.defaults.n,
    classes: body.classes ?? kind.defaults.classes,
    noise: body.noise ?? kind.defaults.noise,
  };
  if (params.classes > limits.classes) {
    throw apiError('DATASET_TOO_MANY_CLASSES', `${params.classes} classes; the limit is ${limits.classes}`, { limit: limits.classes });
  }
  const rows = syntheticRows(body.kind, params);
  if (rows > limits.datasetRows) {
    throw apiError('DATASET_TOO_MANY_ROWS', `${rows} rows; the limit is ${limits.datasetRows}`, { limit: limits.datasetRows, rows });
  }
  return params;
}
