/**
 * /v1/sweeps: create a hyperparameter sweep (trials are ordinary jobs, released at most maxConcurrent at a time), list
 * sweeps, read one with its leaderboard, cancel one. The live stream is ./stream.ts (registered with the WebSocket
 * routes). Logic lives in src/sweeps/.
 */
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { apiError } from '../../errors.js';
import { example } from '../../http/openapi-docs.js';
import { SweepBodySchema } from '../../sweeps/body-schema.js';
import { cancelSweep } from '../../sweeps/cancel.js';
import { createSweep } from '../../sweeps/create.js';
import { getSweep, listSweeps } from '../../sweeps/leaderboard.js';
import { SweepList, SweepListQuery, SweepParams, SweepView } from './schemas.js';
import { sweepSummary, sweepView } from './views.js';
import { decodePageCursor, encodePageCursor } from '../../http/page-cursor.js';

const SWEEP_ID = '7d4f2c1e-3b5a-4e8f-9a1b-2c3d4e5f6a7b';
const JOB_ID = '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93';
const MODEL_ID = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const AT = '2026-01-01T12:00:00.000Z';
const VIEW_EXAMPLE = {
  id: SWEEP_ID, name: 'spiral λ', datasetId: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d', status: 'running', cancelRequested: false, method: 'grid', sampling: 'grid',
  seed: null, asha: null, metric: 'valAccuracy', direction: 'max', maxConcurrent: 2, trialCount: 3,
  counts: { pending: 1, deleted: 0, queued: 0, running: 1, succeeded: 1, failed: 0, cancelled: 0, pruned: 0 },
  createdAt: AT, updatedAt: AT, finishedAt: null,
  parameters: { 'regularization.l2': { values: [0.001, 0.01, 0.1] } }, spec: { datasetId: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d', training: { epochs: 200 } },
  best: { trial: 0, jobId: JOB_ID, modelId: MODEL_ID, metric: 0.97 }, bestModelId: MODEL_ID,
  trials: [{
    trial: 0, parameters: { 'regularization.l2': 0.001 }, jobId: JOB_ID, status: 'succeeded', metric: 0.97, bestEpoch: 180, bestStep: 1810, epochs: 200,
    modelId: MODEL_ID, best: true, failure: null, startedAt: AT, finishedAt: AT,
  }],
};

export async function sweepRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const services = app.services;
  const notFound = (id: string) => apiError('SWEEP_NOT_FOUND', `No sweep ${id}`, { sweepId: id });
  const read = async (tenantId: string, id: string) => {
    const detail = await getSweep(services.db, tenantId, id);
    if (!detail) throw notFound(id);
    return sweepView(detail);
  };

  app.post('/', {
    schema: {
      summary: 'Create a hyperparameter sweep',
      description: 'A base job spec (the body of POST /v1/jobs), `parameters` by spec path, and `method` grid, random (`trials`, `seed`) or asha '
        + '(`asha: {minEpochs, maxEpochs, reductionFactor}`; random sampling when `trials` is given). Every trial is planned up front as POST /v1/jobs '
        + 'would; any problem answers 400 SWEEP_INVALID with `errors: [{trial, path, message}]` and nothing is written. Trials become jobs at most '
        + '`maxConcurrent` at a time.',
      tags: ['sweeps'],
      body: SweepBodySchema,
      response: { 201: example(SweepView, VIEW_EXAMPLE) },
      errors: ['SWEEP_INVALID', 'DATASET_NOT_FOUND', 'MODEL_NOT_FOUND', 'TENANT_QUEUE_FULL'],
    },
  }, async (request, reply) => {
    const tenantId = tenantOf(request).id;
    const sweep = await createSweep(services, tenantId, request.body, request.log);
    return reply.code(201).header('location', `/v1/sweeps/${sweep.id}`).send(await read(tenantId, sweep.id));
  });

  app.get('/', {
    schema: {
      summary: 'List sweeps', description: 'Newest first, with trial counts by status.', tags: ['sweeps'], querystring: SweepListQuery,
      response: { 200: example(SweepList, { items: [], nextCursor: null }) }, errors: [],
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const page = await listSweeps(services.db, tenantOf(request).id, limit ?? 20, cursor ? decodePageCursor(cursor) : null);
    return { items: page.items.map((s) => sweepSummary(s, page.counts.get(s.id)!)), nextCursor: page.next ? encodePageCursor(page.next) : null };
  });

  app.get('/:id', {
    schema: {
      summary: 'A sweep and its leaderboard',
      description: 'Every trial with its parameters, status, metric and best epoch, best first; the best trial with a model has `best: true` (also `bestModelId`).',
      tags: ['sweeps'], params: SweepParams, response: { 200: example(SweepView, VIEW_EXAMPLE) }, errors: ['SWEEP_NOT_FOUND'],
    },
  }, async (request) => read(tenantOf(request).id, request.params.id));

  app.post('/:id/cancel', {
    schema: {
      summary: 'Cancel a sweep',
      description: 'Releases no more trials and cancels every trial not finished. 202 while running trials stop, 200 when the sweep is cancelled already.',
      tags: ['sweeps'], params: SweepParams, response: { 200: example(SweepView, { ...VIEW_EXAMPLE, status: 'cancelled', cancelRequested: true }), 202: SweepView },
      errors: ['SWEEP_NOT_FOUND', 'SWEEP_NOT_CANCELLABLE'],
    },
  }, async (request, reply) => {
    const tenantId = tenantOf(request).id;
    const { stopping } = await cancelSweep(services, tenantId, request.params.id, request.log);
    return reply.code(stopping ? 202 : 200).send(await read(tenantId, request.params.id));
  });
}
