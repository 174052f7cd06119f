/**
 * GET /v1/models (newest first, cursor pagination), GET /v1/models/:id, DELETE /v1/models/:id. Deleting evicts the
 * model from every API process's cache (src/inference/model-cache.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { deleteModel, getModelInfo, listModels, type ModelCursor } from '../../db/repositories/models.js';
import { apiError } from '../../errors.js';
import { IdParams, ListQuery, ModelListSchema, ModelSchema, modelJson, summaryJson } from './schemas.js';
import { example, NoContent } from '../../http/openapi-docs.js';
import { MODEL_EXAMPLE, MODEL_SUMMARY_EXAMPLE } from '../../http/openapi-examples.js';

function encodeCursor(c: ModelCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): ModelCursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw apiError('VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', { errors: [{ path: 'querystring.cursor', message: 'is invalid' }] });
  }
  return { createdAt, id };
}

export function modelNotFound(id: string) {
  return apiError('MODEL_NOT_FOUND', `No model ${id}`);
}

export async function readRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, models } = app.services;

  app.get('/', {
    schema: {
      summary: 'List models, newest first', tags: ['models'], querystring: ListQuery,
      response: { 200: example(ModelListSchema, { items: [MODEL_SUMMARY_EXAMPLE], nextCursor: null }) }, errors: [],
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const page = await listModels(db, tenantOf(request).id, limit, cursor === undefined ? null : decodeCursor(cursor));
    return { items: page.items.map(summaryJson), nextCursor: page.next && encodeCursor(page.next) };
  });

  app.get('/:id', {
    schema: { summary: 'Read a model', tags: ['models'], params: IdParams, response: { 200: example(ModelSchema, MODEL_EXAMPLE) }, errors: ['MODEL_NOT_FOUND'] },
  }, async (request) => {
    const { id } = request.params;
    const model = isUuid(id) ? await getModelInfo(db, tenantOf(request).id, id) : null;
    if (!model) throw modelNotFound(id);
    return modelJson(model);
  });

  app.delete('/:id', {
    schema: { summary: 'Delete a model', tags: ['models'], params: IdParams, response: { 204: NoContent }, errors: ['MODEL_NOT_FOUND', 'MODEL_IN_USE'] },
  }, async (request, reply) => {
    const { id } = request.params;
    const outcome = isUuid(id) ? await deleteModel(db, tenantOf(request).id, id) : 'not-found';
    if (outcome === 'not-found') throw modelNotFound(id);
    if (outcome === 'in-use') throw apiError('MODEL_IN_USE', `A queued or running job warm-starts from model ${id}; cancel it or wait for it to finish`);
    await models.invalidate(id);
    return reply.code(204).send(null);
  });
}
