/**
 * POST /v1/models/:id/evaluate — the model's metrics on labelled data (src/evaluation/), stored and listed:
 *   body {"datasetId": "…"}            a stored dataset (features matched by name, classes by name: evaluation/dataset-input.ts)
 *   body rows (JSON forms or text/csv)  the same bodies as predict, each row with the target column too (named forms: the
 *                                       column `?target=`, default the training dataset's target name; array rows and
 *                                       CSV without a header: the target is the last value). Columns the model does not
 *                                       use are ignored (listed in `ignoredColumns`) unless `?strict=true`.
 * GET /v1/models/:id/evaluations (newest first, cursor pages), GET /v1/models/:id/evaluations/:evaluationId.
 *
 * Its own encapsulation scope (text/csv parser of its own, like predict.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { loadDataset } from '../../datasets/load.js';
import type { Db } from '../../db/client.js';
import { apiError } from '../../errors.js';
import { datasetAsModelInput } from '../../evaluation/dataset-input.js';
import { evaluationMetrics } from '../../evaluation/metrics.js';
import { createEvaluation, getEvaluation, listEvaluations, type EvaluationCursor, type EvaluationRecord } from '../../evaluation/store.js';
import { example } from '../../http/openapi-docs.js';
import type { TargetPlan } from '../../inference/input/columns.js';
import type { LoadedModel } from '../../inference/loaded-model.js';
import { classIndex } from '../../inference/predict.js';
import { CsvText, forwardOrProblem, ignoredColumnsHeader, inputShape, readInput } from './predict.js';
import { modelNotFound } from './read.js';
import { IdParams } from './schemas.js';

const EvaluateQuery = Type.Object({
  target: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Rows in the body: the target column's name (default: the training dataset's target)" })),
  header: Type.Optional(Type.Boolean({ description: 'text/csv only: whether the first record is a header' })),
  strict: Type.Optional(Type.Boolean({ description: 'Columns the model does not use (besides the target) are a 400 instead of being ignored' })),
  unknownCategory: Type.Optional(Type.Union([Type.Literal('zeros'), Type.Literal('error')], { description: 'An unseen category of a text column: all zeros (default) or a 400' })),
});

const EvaluationParams = Type.Object({ id: Type.String({ maxLength: 100 }), evaluationId: Type.String({ maxLength: 100 }) });
const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export const EvaluationSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  modelId: Type.String({ format: 'uuid' }),
  source: Type.Union([Type.Literal('dataset'), Type.Literal('inline')], { description: 'A stored dataset, or rows sent in the request' }),
  datasetId: Type.Union([Type.String(), Type.Null()]),
  task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
  rows: Type.Integer(),
  metrics: Type.Record(Type.String(), Type.Unknown(), {
    description: 'classification: loss, accuracy, logLoss (null for SVM), perClass [{class, precision, recall, f1, support}], macro, '
      + 'confusionMatrix {classes, matrix: rows = true class, columns = predicted}; regression: loss, rmse, mae, r2, residuals {min, q1, median, q3, max, mean}',
  }),
  createdAt: Type.String({ format: 'date-time' }),
});
export type EvaluationJson = Static<typeof EvaluationSchema>;

const EvaluationCreatedSchema = Type.Object({
  ...EvaluationSchema.properties,
  ignoredColumns: Type.Array(Type.String(), { description: 'Rows in the body: named columns the model does not use, ignored' }),
});

const EvaluationListSchema = Type.Object({ items: Type.Array(EvaluationSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

const EXAMPLE = {
  id: '6f1c0a52-3d5e-4b8e-9a0e-5b8f3c1d2e4f', modelId: '0b7e6a4c-1f2d-4c3b-8a9e-7d6c5b4a3f21', source: 'dataset', datasetId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  task: 'classification', rows: 150,
  metrics: {
    task: 'classification', rows: 150, loss: 0.061, accuracy: 0.98, logLoss: 0.061,
    perClass: [{ class: 'setosa', precision: 1, recall: 1, f1: 1, support: 50 }],
    macro: { precision: 0.98, recall: 0.98, f1: 0.98 },
    confusionMatrix: { classes: ['setosa', 'versicolor', 'virginica'], matrix: [[50, 0, 0], [0, 49, 1], [0, 2, 48]] },
  },
  createdAt: '2026-12-03T12:00:00.000Z',
};

function evaluationJson(e: EvaluationRecord): EvaluationJson {
  return { ...e, metrics: e.metrics as unknown as Record<string, unknown>, createdAt: e.createdAt.toISOString() };
}

function encodeCursor(c: EvaluationCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): EvaluationCursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw apiError('VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', { errors: [{ path: 'querystring.cursor', message: 'is invalid' }] });
  }
  return { createdAt, id };
}

/** `{"datasetId": "…"}` (and nothing else) asks for a stored dataset; any other body is rows. */
function datasetIdOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('datasetId' in body)) return null;
  const keys = Object.keys(body);
  const id = (body as { datasetId: unknown }).datasetId;
  if (keys.length !== 1 || typeof id !== 'string') {
    throw apiError('VALIDATION_FAILED', 'body must be {"datasetId": "<id>"} alone, or rows', { errors: [{ path: 'body', message: 'must be {"datasetId": string} or rows' }] });
  }
  return id;
}

/** The target column of rows in the body: its name and how its values read. */
async function targetPlan(db: Db, tenantId: string, model: LoadedModel, given: string | undefined): Promise<TargetPlan> {
  let name = given;
  if (name === undefined) {
    const row = await db.model.findFirst({ where: { id: model.id, tenantId }, select: { dataset: { select: { targetName: true } } } });
    name = row?.dataset?.targetName ?? 'target';
  }
  return model.task === 'classification' ? { name, kind: 'class', index: new Map(model.classNames.map((c, i) => [c, i])) } : { name, kind: 'value' };
}

export async function evaluateRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { db, models, config } = app.services;

  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: config.limits.jsonBodyBytes }, (_request, body, done) => {
    done(null, new CsvText(body as string));
  });

  app.post('/:id/evaluate', {
    schema: {
      summary: 'Evaluate a model on labelled data',
      description: 'Body `{"datasetId": "…"}` (a stored dataset of the same task; features and classes matched by name), or rows with the target '
        + 'column in any form predict takes (JSON or text/csv; at most MAX_PREDICT_ROWS). The evaluation is stored (201).',
      tags: ['models'],
      params: IdParams,
      querystring: EvaluateQuery,
      consumes: ['application/json', 'text/csv'],
      body: example(Type.Unknown({ description: '{"datasetId"} or labelled rows' }), { datasetId: EXAMPLE.datasetId }),
      response: { 201: example(EvaluationCreatedSchema, { ...EXAMPLE, ignoredColumns: [] }) },
      errors: ['MODEL_NOT_FOUND', 'DATASET_NOT_FOUND', 'EVALUATION_DATA_MISMATCH', 'PREDICT_INPUT_INVALID'],
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const tenantId = tenantOf(request).id;
    const model = isUuid(id) ? await models.get(tenantId, id) : null;
    if (!model) throw modelNotFound(id);
    const datasetId = datasetIdOf(request.body);
    let x: Float32Array, y: Float64Array, rows: number, ignoredColumns: string[] = [];
    if (datasetId !== null) {
      const data = await loadDataset(db, tenantId, datasetId);
      if (!data) throw apiError('DATASET_NOT_FOUND', `No dataset ${datasetId}`);
      ({ x, y, rows } = datasetAsModelInput(model, data));
    } else {
      const target = await targetPlan(db, tenantId, model, request.query.target);
      const input = readInput(request.body, inputShape(model, config.limits.predictRows, request.query, target), request.query.header);
      ({ x, rows, ignoredColumns } = input);
      y = input.y!;
    }
    const out = await forwardOrProblem(model, { x, rows, ignoredColumns });
    const metrics = evaluationMetrics({ ...model, classOf: (o, i) => classIndex(model, o, i) }, out, y);
    const stored = await createEvaluation(db, tenantId, {
      modelId: model.id, source: datasetId === null ? 'inline' : 'dataset', datasetId, task: model.task, rows, metrics,
    });
    if (ignoredColumns.length > 0) reply.header('x-ignored-columns', ignoredColumnsHeader(ignoredColumns));
    return reply.code(201).header('location', `/v1/models/${model.id}/evaluations/${stored.id}`).send({ ...evaluationJson(stored), ignoredColumns });
  });

  app.get('/:id/evaluations', {
    schema: {
      summary: "List a model's evaluations",
      description: 'Newest first; `?limit=` (≤ 100, default 20), `?cursor=` (the previous page\'s `nextCursor`).',
      tags: ['models'],
      params: IdParams,
      querystring: ListQuery,
      response: { 200: example(EvaluationListSchema, { items: [EXAMPLE], nextCursor: null }) },
      errors: ['MODEL_NOT_FOUND'],
    },
  }, async (request) => {
    const { id } = request.params;
    const tenantId = tenantOf(request).id;
    const exists = isUuid(id) && (await db.model.findFirst({ where: { id, tenantId }, select: { id: true } }));
    if (!exists) throw modelNotFound(id);
    const { limit, cursor } = request.query;
    const page = await listEvaluations(db, tenantId, id, limit, cursor === undefined ? null : decodeCursor(cursor));
    return { items: page.items.map(evaluationJson), nextCursor: page.next && encodeCursor(page.next) };
  });

  app.get('/:id/evaluations/:evaluationId', {
    schema: {
      summary: 'Read one evaluation',
      tags: ['models'],
      params: EvaluationParams,
      response: { 200: example(EvaluationSchema, EXAMPLE) },
      errors: ['EVALUATION_NOT_FOUND'],
    },
  }, async (request) => {
    const { id, evaluationId } = request.params;
    const found = isUuid(id) && isUuid(evaluationId) ? await getEvaluation(db, tenantOf(request).id, id, evaluationId) : null;
    if (!found) throw apiError('EVALUATION_NOT_FOUND', `No evaluation ${evaluationId} of model ${id}`);
    return evaluationJson(found);
  });
}
