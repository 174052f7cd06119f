/**
 * GET /v1/models/:id/export — the model as one self-contained JSON document (src/models/export-document.ts).
 * POST /v1/models/import — that document back as a new model of the caller's tenant (validated:
 * src/models/import-document.ts); it predicts exactly as the exported one, from the same raw input columns (its input
 * encoding travels in the document).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { readEncoding } from '../../datasets/encoding.js';
import { isUuid } from '../../datasets/ids.js';
import { createModel, getModel } from '../../db/repositories/models.js';
import { artifactColumns, artifactFromRow } from '../../models/artifact.js';
import { exportDocument } from '../../models/export-document.js';
import { importDocument } from '../../models/import-document.js';
import { modelNotFound } from './read.js';
import { IdParams, ModelDocumentSchema, ModelSchema, modelJson } from './schemas.js';
import { example } from '../../http/openapi-docs.js';
import { MODEL_DOCUMENT_EXAMPLE, MODEL_EXAMPLE } from '../../http/openapi-examples.js';

export async function transferRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, config } = app.services;

  app.get('/:id/export', {
    schema: {
      summary: 'Export a model as one JSON document', tags: ['models'], params: IdParams,
      response: { 200: example(ModelDocumentSchema, MODEL_DOCUMENT_EXAMPLE) }, errors: ['MODEL_NOT_FOUND'],
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const row = isUuid(id) ? await getModel(db, tenantOf(request).id, id) : null;
    if (!row) throw modelNotFound(id);
    const document = exportDocument(artifactFromRow(row), { ...row, weightBytes: row.weights, encoding: readEncoding(row.inputEncoding, row.featureNames) });
    reply.header('content-disposition', `attachment; filename="model-${row.id}.json"`);
    return document;
  });

  // The body schema documents the format; the document is checked by importDocument, whose MODEL_IMPORT_INVALID names
  // the path of the problem (the stable code clients rely on), so the schema's own verdict is not used.
  app.post('/import', {
    attachValidation: true,
    schema: {
      summary: 'Import an exported model document as a new model', tags: ['models'],
      body: example(ModelDocumentSchema, MODEL_DOCUMENT_EXAMPLE),
      response: { 201: example(ModelSchema, MODEL_EXAMPLE) }, errors: ['MODEL_IMPORT_INVALID', 'JOB_TOO_LARGE'],
    },
  }, async (request, reply) => {
    const imported = importDocument(request.body, config.limits.parameters);
    const model = await createModel(db, tenantOf(request).id, {
      name: imported.name, jobId: null, datasetId: null, ...artifactColumns(imported.artifact),
      // Predict then takes the same raw columns as the exported model ({}: none, as Model.inputEncoding stores it).
      inputEncoding: imported.inputEncoding ? (JSON.parse(JSON.stringify(imported.inputEncoding)) as object) : {},
    });
    return reply.code(201).header('location', `/v1/models/${model.id}`).send(modelJson(model));
  });
}
