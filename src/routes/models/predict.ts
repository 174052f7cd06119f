/**
 * POST /v1/models/:id/predict — rows in (JSON in several forms, or text/csv; see src/inference/input/), per row the
 * class and probabilities (or scores, or the value) out (src/inference/predict.ts). The model comes from the
 * process's cache, so a repeated call reads nothing from Postgres.
 *
 * This plugin is its own encapsulation scope: its text/csv parser applies to this route only.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { matrixFromCsv } from '../../inference/input/csv-body.js';
import { matrixFromJson } from '../../inference/input/json-body.js';
import { inputProblem, type FeatureMatrix } from '../../inference/input/feature-matrix.js';
import type { LoadedModel } from '../../inference/loaded-model.js';
import { forward, NonFiniteError, readPrediction, type Prediction } from '../../inference/predict.js';
import { modelNotFound } from './read.js';
import { IdParams } from './schemas.js';

const PredictQuery = Type.Object({
  /** text/csv only: whether the first record is a header (default: when one of its cells is not a number). */
  header: Type.Optional(Type.Boolean()),
});

/** A CSV body stays text until the handler knows the model's features. */
class CsvText {
  constructor(readonly text: string) {}
}

export async function predictRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { models, config } = app.services;

  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: config.limits.jsonBodyBytes }, (_request, body, done) => {
    done(null, new CsvText(body as string));
  });

  app.post('/:id/predict', { schema: { params: IdParams, querystring: PredictQuery } }, async (request) => {
    const { id } = request.params;
    const model = isUuid(id) ? await models.get(tenantOf(request).id, id) : null;
    if (!model) throw modelNotFound(id);
    const shape = { featureNames: model.featureNames, maxRows: config.limits.predictRows };
    const body: unknown = request.body;
    const input: FeatureMatrix = body instanceof CsvText ? matrixFromCsv(body.text, shape, request.query.header) : matrixFromJson(body, shape);
    const out = await forward(model, input.x, input.rows).catch((error: unknown) => {
      throw error instanceof NonFiniteError ? overflowProblem(model, error) : error;
    });
    const predictions = new Array<Prediction>(input.rows);
    for (let i = 0; i < input.rows; i++) predictions[i] = readPrediction(model, out, i);
    return { modelId: model.id, task: model.task, rows: input.rows, predictions };
  });
}

/**
 * A row that overflows float32 after the model's preprocessing or in its network: PREDICT_INPUT_INVALID, problem
 * `out-of-range`, with the `row`, the `stage` and (preprocessing) the `feature` — never NaN or null probabilities.
 */
function overflowProblem(model: LoadedModel, error: NonFiniteError) {
  const { row, stage, feature, component } = error;
  if (stage === 'network') {
    return inputProblem('out-of-range', `Row ${row}: the model's outputs overflow float32 on this input (values far outside the data it was trained on)`, { row, stage });
  }
  if (feature === null) return inputProblem('out-of-range', `Row ${row}: ${error.message}`, { row, stage, component });
  const name = model.featureNames[feature]!, range = model.inputRange[feature]!;
  return inputProblem('out-of-range', `Row ${row}, feature ${name}: ${error.message}. The model was trained on ${name} in [${range.min}, ${range.max}]`, {
    row, stage, feature: name,
  });
}
