/**
 * The end of a job's life: DELETE /v1/jobs/:id (a finished job, with its metrics and checkpoints; its model stays) and
 * POST /v1/jobs/:id/checkpoints/:step/promote (a stored checkpoint becomes a model: src/models/promote.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { deleteJob } from '../../db/repositories/jobs.js';
import { apiError } from '../../errors.js';
import { example, NoContent } from '../../http/openapi-docs.js';
import { promoteCheckpoint } from '../../models/promote.js';
import { MODEL_EXAMPLE } from '../models/registry.js';
import { ModelSchema, modelJson } from '../models/schemas.js';
import { JobParams } from './schemas.js';

const CheckpointParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  step: Type.Integer({ minimum: 0, description: 'The checkpoint’s step (GET /v1/jobs/:id/checkpoints).' }),
});

const PromoteBody = Type.Object({
  weights: Type.Optional(Type.Union([Type.Literal('best'), Type.Literal('current')], {
    description: 'best: the best weights the checkpoint carries (the job’s isBest checkpoint); current: its own parameters. Default: best when it carries them, else current.',
  })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The model’s name (it becomes the next version of that name). Default: the job’s name.' })),
}, { additionalProperties: false });


export async function jobLifecycleRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app.services;

  app.delete('/:id', {
    schema: {
      summary: 'Delete a finished job',
      description: 'Removes a succeeded, failed, cancelled or pruned job with its metrics and checkpoints, in one transaction. '
        + 'Its model stays (its `jobId` becomes null). A queued or running job answers 409 `JOB_NOT_DELETABLE`: cancel it first.',
      tags: ['jobs'],
      params: JobParams,
      response: { 204: NoContent },
      errors: ['JOB_NOT_FOUND', 'JOB_NOT_DELETABLE'],
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const outcome = await deleteJob(db, tenantOf(request).id, id);
    if (outcome === 'not-found') throw apiError('JOB_NOT_FOUND', `No job ${id}`, { jobId: id });
    if (outcome === 'active') throw apiError('JOB_NOT_DELETABLE', `Job ${id} is queued or running; cancel it (POST /v1/jobs/${id}/cancel) and delete it once it has stopped`, { jobId: id });
    return reply.code(204).send(null);
  });

  app.post('/:id/checkpoints/:step/promote', {
    schema: {
      summary: 'Make a model from a checkpoint',
      description: 'Any stored checkpoint of any job (a cancelled one included) becomes a model: by default the best weights it carries '
        + '(the job’s `isBest` checkpoint), else its own parameters. One model per checkpoint: a second promotion answers 409 '
        + '`CHECKPOINT_ALREADY_PROMOTED` with the `modelId`.',
      tags: ['jobs'],
      params: CheckpointParams,
      body: example(PromoteBody, { weights: 'best', name: 'spiral' }),
      response: { 201: example(ModelSchema, MODEL_EXAMPLE) },
      errors: ['JOB_NOT_FOUND', 'CHECKPOINT_NOT_FOUND', 'CHECKPOINT_ALREADY_PROMOTED', 'CHECKPOINT_NOT_PROMOTABLE'],
    },
    // The body is optional: none is {} (every field has a default).
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request, reply) => {
    const { id, step } = request.params;
    const outcome = await promoteCheckpoint(db, tenantOf(request).id, id, step, request.body);
    switch (outcome.kind) {
      case 'job-not-found':
        throw apiError('JOB_NOT_FOUND', `No job ${id}`, { jobId: id });
      case 'checkpoint-not-found':
        throw apiError('CHECKPOINT_NOT_FOUND', `Job ${id} has no stored checkpoint at step ${step} (GET /v1/jobs/${id}/checkpoints lists them)`, { jobId: id, step });
      case 'already-promoted':
        throw apiError('CHECKPOINT_ALREADY_PROMOTED', `The checkpoint at step ${step} of job ${id} is already model ${outcome.modelId}`, { jobId: id, step, modelId: outcome.modelId });
      case 'not-promotable':
        throw apiError('CHECKPOINT_NOT_PROMOTABLE', outcome.reason, { jobId: id, step });
      case 'created':
        return reply.code(201).header('location', `/v1/models/${outcome.model.id}`).send(modelJson(outcome.model));
    }
  });
}
