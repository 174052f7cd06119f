/**
 * POST /v1/datasets: a CSV or JSON upload, raw (text/csv, application/json) or multipart, streamed into a dataset.
 * 201 with the dataset; every problem is a 4xx with a stable code (src/errors.ts), and nothing is stored.
 *
 * This plugin is its own encapsulation scope: its body parsers hand the request stream over untouched (Fastify's JSON
 * parser would buffer the whole body), and any other content type is a 415.
 */
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { createUploadPool } from '../../datasets/ingest/upload-pool.js';
import { apiError } from '../../errors.js';
import { ingestUpload } from './ingest-upload.js';
import { DatasetSchema, UploadQuery, datasetJson } from './schemas.js';
import { parseUploadOptions } from './upload-options.js';
import { RAW_TYPES, uploadSource } from './upload-source.js';
import { example } from '../../http/openapi-docs.js';
import { DATASET_EXAMPLE } from '../../http/openapi-examples.js';

/** What POST /v1/datasets accepts (also named by its 415 answers). */
export const UPLOAD_CONTENT_TYPES = ['text/csv', 'application/json', 'multipart/form-data'] as const;

export async function uploadRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, config } = app.services;
  const { limits } = config;
  const pool = createUploadPool(config);
  app.addHook('onClose', () => pool.end());

  app.removeAllContentTypeParsers();
  await app.register(multipart);
  for (const type of Object.keys(RAW_TYPES)) app.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
  app.addContentTypeParser('*', (request, _payload, done) => {
    const given = request.headers['content-type'] ?? 'none';
    done(apiError('UNSUPPORTED_MEDIA_TYPE', `Content type ${given.slice(0, 100)} is not accepted; POST /v1/datasets takes ${UPLOAD_CONTENT_TYPES.join(', ')}`, {
      contentType: given.slice(0, 100), accepted: UPLOAD_CONTENT_TYPES,
    }));
  });

  app.post('/', {
    schema: {
      summary: 'Upload a dataset (CSV or JSON, raw or multipart), streamed',
      description: 'Body: `text/csv`, `application/json` (an array of row objects, or `{"columns", "data"}`), or `multipart/form-data` '
        + 'with the options as fields before one file. Options (query or form fields): name, header, delimiter, target, task, format. '
        + 'Rows are 0-based data rows; CSV problems also give the file `line`. Nothing is stored unless the whole upload is valid.',
      tags: ['datasets'],
      consumes: UPLOAD_CONTENT_TYPES,
      // Streamed and checked row by row by the ingest, not by a schema: documented only.
      documentedBody: {
        type: 'string', format: 'binary',
        description: 'The file: CSV rows, a JSON array of rows, or a multipart form with the options as fields before one file field',
        examples: ['sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n'],
      },
      querystring: UploadQuery,
      response: { 201: example(DatasetSchema, DATASET_EXAMPLE) },
      errors: ['DATASET_EMPTY', 'DATASET_HEADER_ONLY', 'DATASET_RAGGED_ROW', 'DATASET_NON_NUMERIC', 'DATASET_MISSING_VALUE', 'DATASET_TARGET_NOT_FOUND', 'DATASET_SINGLE_CLASS', 'DATASET_TOO_MANY_CLASSES', 'DATASET_TOO_MANY_ROWS', 'DATASET_TOO_MANY_FEATURES', 'DATASET_MALFORMED', 'TENANT_STORAGE_FULL'],
    },
  }, async (request, reply) => {
    const tenant = tenantOf(request);
    try {
      const source = await uploadSource(request, parseUploadOptions(request.query, 'querystring'), limits.uploadBytes);
      const meta = await ingestUpload(pool, db, tenant.id, source, limits);
      return reply.code(201).header('location', `/v1/datasets/${meta.id}`).send(datasetJson(meta));
    } catch (error) {
      // Refused before the body was read to its end: let the client finish sending into the void, then close.
      if (!request.raw.complete) {
        reply.header('connection', 'close');
        request.raw.resume();
      }
      throw error;
    }
  });
}
