/** GET /v1/models/:id/decision-grid?resolution=N — predictions over a grid spanning a 2-input model's data range. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { apiError } from '../../errors.js';
import { decisionGrid } from '../../inference/decision-grid.js';
import { NonFiniteError } from '../../inference/predict.js';
import { modelNotFound } from './read.js';
import { DecisionGridSchema, IdParams } from './schemas.js';
import { example } from '../../http/openapi-docs.js';
import { DECISION_GRID_EXAMPLE } from '../../http/openapi-examples.js';

/** Largest grid: MAX_RESOLUTION² points. */
export const MAX_RESOLUTION = 200;

const GridQuery = Type.Object({
  /** Points per axis. Default 50. */
  resolution: Type.Integer({ minimum: 2, maximum: MAX_RESOLUTION, default: 50 }),
});

export async function decisionGridRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { models } = app.services;

  app.get('/:id/decision-grid', {
    schema: {
      summary: "A 2-input model's decision regions on a grid", tags: ['models'], params: IdParams, querystring: GridQuery,
      response: { 200: example(DecisionGridSchema, DECISION_GRID_EXAMPLE) }, errors: ['MODEL_NOT_FOUND', 'MODEL_NOT_2D', 'MODEL_OVERFLOW'],
    },
  }, async (request) => {
    const { id } = request.params;
    const model = isUuid(id) ? await models.get(tenantOf(request).id, id) : null;
    if (!model) throw modelNotFound(id);
    if (model.featureNames.length !== 2) {
      throw apiError('MODEL_NOT_2D', `Model ${id} takes ${model.featureNames.length} inputs (${model.featureNames.join(', ')}); a decision grid needs exactly 2`, {
        inputs: model.featureNames.length,
      });
    }
    const grid = await decisionGrid(model, request.query.resolution).catch((error: unknown) => {
      if (!(error instanceof NonFiniteError)) throw error;
      // The points lie in the model's data range, but an imported model's scales or weights may still overflow there.
      throw apiError('MODEL_OVERFLOW', `Model ${id} overflows float32 on its own data range (grid point ${error.row}): ${error.message}`, {
        point: error.row, stage: error.stage, ...(error.feature !== null && { feature: model.featureNames[error.feature] }),
      });
    });
    return { modelId: model.id, task: model.task, featureNames: [...model.featureNames], classNames: [...model.classNames], ...grid };
  });
}
