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
    done(apiError('UNSUPPORTED_MEDIA_TYPE', `Content type ${given} is not accepted; send text/csv, application/json or multipart/form-data`, { contentType: given }));
  });

  app.post('/', { schema: { querystring: UploadQuery, response: { 201: DatasetSchema } } }, async (request, reply) => {
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
