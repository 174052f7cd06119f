/**
 * GET /v1/datasets                      newest first: ?limit (1–100, default 20) &cursor (from the previous page's nextCursor)
 * GET /v1/datasets/:id                  the metadata
 * GET /v1/datasets/:id/rows             a preview: ?offset (default 0) &limit (1–1000, default 20); at most 100,000 values
 * DELETE /v1/datasets/:id               204; 409 DATASET_IN_USE while a queued or running job uses it
 * Another tenant's dataset, or an id that is not a UUID, is 404 DATASET_NOT_FOUND.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { deleteDataset, getDataset, listDatasets, readRows } from '../../datasets/queries.js';
import { apiError } from '../../errors.js';
import { DatasetListSchema, DatasetSchema, IdParams, ListQuery, RowsQuery, RowsSchema, datasetJson, summaryJson } from './schemas.js';
import { example, NoContent } from '../../http/openapi-docs.js';
import { DATASET_EXAMPLE, DATASET_SUMMARY_EXAMPLE, ROWS_EXAMPLE } from '../../http/openapi-examples.js';

/** Largest preview, in values (rows × features): keeps a response of a wide dataset to a few MB. */
export const MAX_PREVIEW_VALUES = 100_000;

export async function readRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app.services;

  app.get('/', {
    schema: {
      summary: 'List datasets, newest first', tags: ['datasets'], querystring: ListQuery,
      response: { 200: example(DatasetListSchema, { items: [DATASET_SUMMARY_EXAMPLE], nextCursor: null }) }, errors: [],
    },
  }, async (request) => {
    const page = await listDatasets(db, tenantOf(request).id, request.query);
    return { items: page.items.map(summaryJson), nextCursor: page.nextCursor };
  });

  app.get('/:id', {
    schema: { summary: "A dataset's metadata and statistics", tags: ['datasets'], params: IdParams, response: { 200: example(DatasetSchema, DATASET_EXAMPLE) }, errors: ['DATASET_NOT_FOUND'] },
  }, async (request) =>
    datasetJson(await getDataset(db, tenantOf(request).id, request.params.id)),
  );

  app.get('/:id/rows', {
    schema: {
      summary: 'Preview stored rows (0-based)', tags: ['datasets'], params: IdParams, querystring: RowsQuery,
      response: { 200: example(RowsSchema, ROWS_EXAMPLE) }, errors: ['DATASET_NOT_FOUND'],
    },
  }, async (request) => {
    const { offset, limit } = request.query;
    const meta = await getDataset(db, tenantOf(request).id, request.params.id);
    if (limit * meta.features > MAX_PREVIEW_VALUES) {
      const most = Math.max(1, Math.floor(MAX_PREVIEW_VALUES / meta.features));
      throw apiError('VALIDATION_FAILED', `querystring.limit must be at most ${most} for ${meta.features} features`, {
        errors: [{ path: 'querystring.limit', message: `must be at most ${most}` }],
        limit: most,
      });
    }
    const page = await readRows(db, meta, offset, limit);
    const F = meta.features;
    const items = Array.from(page.y, (y, i) => ({
      row: offset + i,
      x: Array.from(page.x.subarray(i * F, (i + 1) * F)),
      y,
      label: meta.task === 'classification' ? meta.classNames[y]! : null,
    }));
    return { offset, total: meta.rows, featureNames: meta.featureNames, targetName: meta.targetName, items };
  });

  app.delete('/:id', {
    schema: { summary: 'Delete a dataset', tags: ['datasets'], params: IdParams, response: { 204: NoContent }, errors: ['DATASET_NOT_FOUND', 'DATASET_IN_USE'] },
  }, async (request, reply) => {
    await deleteDataset(db, tenantOf(request).id, request.params.id);
    return reply.code(204).send(null);
  });
}
