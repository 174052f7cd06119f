/**
 * GET /v1/models/:id/export — the model as one self-contained JSON document (src/models/export-document.ts).
 * POST /v1/models/import — that document back as a new model of the caller's tenant (validated:
 * src/models/import-document.ts); it predicts exactly as the exported one.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { createModel, getModel } from '../../db/repositories/models.js';
import { artifactColumns, artifactFromRow } from '../../models/artifact.js';
import { exportDocument } from '../../models/export-document.js';
import { importDocument } from '../../models/import-document.js';
import { modelNotFound } from './read.js';
import { IdParams, ModelSchema, modelJson } from './schemas.js';

export async function transferRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, config } = app.services;

  app.get('/:id/export', { schema: { params: IdParams } }, async (request, reply) => {
    const { id } = request.params;
    const row = isUuid(id) ? await getModel(db, tenantOf(request).id, id) : null;
    if (!row) throw modelNotFound(id);
    const document = exportDocument(artifactFromRow(row), { ...row, weightBytes: row.weights });
    reply.header('content-disposition', `attachment; filename="model-${row.id}.json"`);
    return document;
  });

  app.post('/import', { schema: { response: { 201: ModelSchema } } }, async (request, reply) => {
    const imported = importDocument(request.body, config.limits.parameters);
    const model = await createModel(db, tenantOf(request).id, {
      name: imported.name, jobId: null, datasetId: null, ...artifactColumns(imported.artifact),
    });
    return reply.code(201).header('location', `/v1/models/${model.id}`).send(modelJson(model));
  });
}
