/**
 * POST /v1/models/:id/predict — rows in (JSON in several forms, or text/csv; see src/inference/input/), per row the
 * class and probabilities (or scores, or the value) out (src/inference/predict.ts). The model comes from the
 * process's cache, so a repeated call reads nothing from Postgres.
 *
 * This plugin is its own encapsulation scope: its text/csv parser applies to this route only.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { bodyText } from '../../inference/input/body-text.js';
import { matrixFromCsv } from '../../inference/input/csv-body.js';
import { matrixFromJson } from '../../inference/input/json-body.js';
import type { TargetPlan } from '../../inference/input/columns.js';
import { inputProblem, type FeatureMatrix, type InputShape } from '../../inference/input/feature-matrix.js';
import type { LoadedModel } from '../../inference/loaded-model.js';
import { forward, forwardNow, NonFiniteError, readPrediction, type Prediction } from '../../inference/predict.js';
import { modelNotFound } from './read.js';
import { IdParams, PredictionsSchema } from './schemas.js';
import { example } from '../../http/openapi-docs.js';
import { PREDICTION_EXAMPLE, PREDICT_BODY_EXAMPLE } from '../../http/openapi-examples.js';

export const PredictQuery = Type.Object({
  /** text/csv only: whether the first record is a header (default: when one of its cells is not a number). */
  header: Type.Optional(Type.Boolean()),
  strict: Type.Optional(Type.Boolean({ description: 'Named columns the model does not use are a 400 (`unknown-feature`) instead of being ignored. Default false' })),
  unknownCategory: Type.Optional(Type.Union([Type.Literal('zeros'), Type.Literal('error')], {
    description: 'A category of a text column the model never saw: an all-zeros one-hot (default) or a 400 (`unknown-category`)',
  })),
});

export type PredictOptions = Static<typeof PredictQuery>;

/** A CSV body stays text until the handler knows the model's columns. */
export class CsvText {
  constructor(readonly text: string) {}
}

/** The shape of a model's input rows (labelled rows with `target`). */
export function inputShape(model: LoadedModel, maxRows: number, options: PredictOptions, target?: TargetPlan): InputShape {
  return {
    columns: model.inputColumns, features: model.featureNames.length, maxRows, strict: options.strict === true,
    unknownCategory: options.unknownCategory ?? 'zeros', ...(target && { target }),
  };
}

/** A request body (JSON forms or CSV text) as a feature matrix. */
export function readInput(body: unknown, shape: InputShape, header: boolean | undefined): FeatureMatrix {
  return body instanceof CsvText ? matrixFromCsv(body.text, shape, header) : matrixFromJson(body, shape);
}

/** The x-ignored-columns header: the ignored names, URI-encoded, comma-separated. */
export function ignoredColumnsHeader(names: readonly string[]): string {
  return names.map((n) => encodeURIComponent(n)).join(',');
}

/** Registered again under /by-name (src/routes/models/registry.ts): `:id` is then `name@alias`, resolved by this. */
export interface PredictRouteOptions {
  resolveModelId?: (tenantId: string, segment: string) => Promise<string | null>;
}

export async function predictRoutes(parent: FastifyInstance, options: PredictRouteOptions = {}): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { models, config } = app.services;

  // Both bodies are read as bytes and decoded once by bodyText (an ASCII body without UTF-8 decoding); JSON is then
  // parsed exactly as by Fastify's own parser (secure-json-parse, the app's poisoning options, the same errors).
  const bodyLimit = config.limits.jsonBodyBytes;
  app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, new CsvText(bodyText(body as Buffer)));
  });
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const json = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser('application/json'); // in this plugin's scope only
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    json(request, bodyText(body as Buffer), done);
  });

  app.post('/:id/predict', {
    schema: {
      summary: 'Predict with a model',
      description: 'Rows as JSON (`[[…]]`, `{"rows"}`, `{"instances"}`, `{"inputs"}`, `{"dataframe_split"}`, `{"dataframe_records"}`; arrays in the '
        + "model's feature order or objects by feature name) or as text/csv; at most MAX_PREDICT_ROWS rows.",
      tags: ['models'],
      params: IdParams,
      querystring: PredictQuery,
      consumes: ['application/json', 'text/csv'],
      body: example(Type.Unknown({ description: 'The rows (see above)' }), PREDICT_BODY_EXAMPLE),
      response: { 200: example(PredictionsSchema, PREDICTION_EXAMPLE) },
      errors: ['MODEL_NOT_FOUND', 'PREDICT_INPUT_INVALID'],
    },
  }, (request, reply) => {
    // A model in this process's cache and rows that fit one chunk of the forward pass: answered synchronously (the
    // common single-row call costs no promise); anything else (a cache miss, a name@alias, a large body) awaits.
    const { id } = request.params;
    const model = options.resolveModelId || !isUuid(id) ? undefined : models.peek(tenantOf(request).id, id);
    if (model === null) throw modelNotFound(id);
    if (model !== undefined) {
      const input = readInput(request.body, inputShape(model, config.limits.predictRows, request.query), request.query.header);
      if (input.rows <= model.chunkRows) return answer(model, input, forwardNowOrProblem(model, input), reply);
      return forwardOrProblem(model, input).then((out) => answer(model, input, out, reply));
    }
    return predictLoading(request.params.id, request.query, request.body, tenantOf(request).id, reply);
  });

  /** The route's answer when the model must be loaded (or its name resolved) first. */
  async function predictLoading(id: string, query: PredictOptions, body: unknown, tenantId: string, reply: FastifyReply): Promise<PredictionsJson> {
    const modelId = options.resolveModelId ? await options.resolveModelId(tenantId, id) : id;
    const model = modelId && isUuid(modelId) ? await models.get(tenantId, modelId) : null;
    if (!model) throw modelNotFound(id);
    const input = readInput(body, inputShape(model, config.limits.predictRows, query), query.header);
    return answer(model, input, await forwardOrProblem(model, input), reply);
  }
}

type PredictionsJson = Static<typeof PredictionsSchema>;

/** The response body (and the x-ignored-columns header) for the network's outputs. */
function answer(model: LoadedModel, input: FeatureMatrix, out: Float32Array, reply: FastifyReply): PredictionsJson {
  const predictions = new Array<Prediction>(input.rows);
  for (let i = 0; i < input.rows; i++) predictions[i] = readPrediction(model, out, i);
  if (input.ignoredColumns.length > 0) reply.header('x-ignored-columns', ignoredColumnsHeader(input.ignoredColumns));
  return { modelId: model.id, task: model.task, rows: input.rows, ignoredColumns: input.ignoredColumns, predictions };
}

/** {@link forwardOrProblem} of at most one chunk of rows, synchronously. */
function forwardNowOrProblem(model: LoadedModel, input: FeatureMatrix): Float32Array {
  try {
    return forwardNow(model, input.x, input.rows);
  } catch (error) {
    throw asProblem(model, error);
  }
}

/** The network's outputs for the input; an overflow is a 400 (below). */
export async function forwardOrProblem(model: LoadedModel, input: FeatureMatrix): Promise<Float32Array> {
  return forward(model, input.x, input.rows).catch((error: unknown) => {
    throw asProblem(model, error);
  });
}

/** An overflow of the forward pass as its 400 problem; any other error as it is. */
function asProblem(model: LoadedModel, error: unknown): unknown {
  return error instanceof NonFiniteError ? overflowProblem(model, error) : error;
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
