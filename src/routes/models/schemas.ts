/** Request and response schemas of /v1/models, and the JSON forms of a model. */
import { Type, type Static } from 'typebox';
import type { ModelInfo } from '../../db/repositories/models.js';
import { describeNetwork } from '../../engine/spec.js';
import { categoricalSummary, readEncoding } from '../../datasets/encoding.js';
import type { FittedPreprocessing } from '../../engine/preprocessing.js';
import { CategoricalColumnSchema, MissingSummarySchema } from '../datasets/schemas.js';
import { networkSpecOf, readArtifactSpec } from '../../models/artifact.js';

export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

const Task = Type.Union([Type.Literal('classification'), Type.Literal('regression')]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const ModelSummarySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  task: Task,
  parameterCount: Type.Integer(),
  /** Raw input features. */
  inputs: Type.Integer(),
  /** Number of classes; 0 for regression. */
  classes: Type.Integer(),
  /** The job that trained it; null for imported and promoted models (or once the job is gone). */
  jobId: NullableString,
  datasetId: NullableString,
  /** Version among the tenant's models of this name (1, 2, …), and the aliases pointing at it. */
  version: Type.Integer({ minimum: 1 }),
  aliases: Type.Array(Type.String()),
  description: NullableString,
  tags: Type.Array(Type.String()),
  /** A model promoted from a checkpoint: the job (null once deleted) and the checkpoint's step; else null. */
  promotedFrom: Type.Union([Type.Object({ jobId: NullableString, step: Type.Integer() }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type ModelSummaryJson = Static<typeof ModelSummarySchema>;

export const ModelListSchema = Type.Object({
  items: Type.Array(ModelSummarySchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: NullableString,
});

const Layer = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  activation: NullableString,
  inputs: Type.Integer(),
  outputs: Type.Integer(),
  params: Type.Integer(),
});

export const ModelSchema = Type.Object({
  ...ModelSummarySchema.properties,
  /** The engine's network spec, every default filled in. */
  spec: Type.Record(Type.String(), Type.Unknown()),
  /** Layer table (CS231n counting: the input is not a layer). */
  layers: Type.Array(Layer),
  featureNames: Type.Array(Type.String()),
  classNames: Type.Array(Type.String()),
  /** What the model does to raw rows before the network (fitted on the job's training split). */
  preprocessing: Type.Object({
    type: Type.String(),
    inputs: Type.Integer(),
    outputs: Type.Integer(),
    standardize: Type.Boolean(),
    components: Type.Union([Type.Integer(), Type.Null()]),
    epsilon: Type.Union([Type.Number(), Type.Null()]),
    /** The raw columns predict takes: the training dataset's columns (text columns by name), else featureNames. */
    inputColumns: Type.Array(Type.String()),
    /** Text columns one-hot encoded at upload (categories fixed with the dataset); predict takes the text. */
    categoricalColumns: Type.Array(CategoricalColumnSchema),
    /** Missing values in the training dataset: the upload's `missing` option, rows dropped, cells imputed. */
    missing: MissingSummarySchema,
  }),
  /** Evaluation of the epoch the weights come from. */
  metrics: Type.Record(Type.String(), Type.Unknown()),
  /** Per raw feature, {min, max} over the training data (decision grids span it). */
  inputRange: Type.Array(Type.Object({ min: Type.Number(), max: Type.Number() })),
});
export type ModelJson = Static<typeof ModelSchema>;

export function summaryJson(m: ModelInfo): ModelSummaryJson {
  return {
    id: m.id,
    name: m.name,
    task: m.task,
    parameterCount: m.parameterCount,
    inputs: m.featureNames.length,
    classes: m.classNames.length,
    jobId: m.jobId,
    datasetId: m.datasetId,
    version: m.version,
    aliases: m.aliases.map((a) => a.alias),
    description: m.description,
    tags: m.tags,
    promotedFrom: m.promotedFromStep === null ? null : { jobId: m.promotedFromJobId, step: m.promotedFromStep },
    createdAt: m.createdAt.toISOString(),
  };
}

function preprocessingSummary(p: FittedPreprocessing, m: ModelInfo): ModelJson['preprocessing'] {
  const encoding = readEncoding(m.inputEncoding, m.featureNames);
  const s = p.spec;
  const standardize = s.type === 'standardize' || ((s.type === 'pca' || s.type === 'whiten') && s.standardize === true);
  return {
    type: s.type,
    inputs: p.inputs,
    outputs: p.outputs,
    standardize,
    components: s.type === 'pca' || s.type === 'whiten' ? p.outputs : null,
    epsilon: s.type === 'whiten' ? p.epsilon : null,
    inputColumns: encoding ? encoding.columns.map((c) => c.name) : [...m.featureNames],
    categoricalColumns: categoricalSummary(encoding),
    missing: encoding?.missing ?? { strategy: 'error', droppedRows: 0, imputed: [] },
  };
}

export function modelJson(m: ModelInfo): ModelJson {
  const spec = readArtifactSpec(m.spec);
  return {
    ...summaryJson(m),
    spec: spec as unknown as Record<string, unknown>,
    layers: describeNetwork(networkSpecOf(spec)).layers,
    featureNames: m.featureNames,
    classNames: m.classNames,
    preprocessing: preprocessingSummary(m.preprocessing as unknown as FittedPreprocessing, m),
    metrics: m.metrics as Record<string, unknown>,
    inputRange: m.inputRange as ModelJson['inputRange'],
  };
}

/** POST /v1/models/:id/predict: one prediction per row, in order. */
export const PredictionsSchema = Type.Object({
  modelId: Type.String({ format: 'uuid' }),
  task: Task,
  rows: Type.Integer(),
  ignoredColumns: Type.Optional(Type.Array(Type.String(), {
    description: 'Named input columns the model does not use (e.g. the target), ignored; also in the x-ignored-columns header. Refused with ?strict=true. Always present in answers',
  })),
  predictions: Type.Array(Type.Unknown({
    description: 'classification: {class, probabilities: {className: p}} (softmax) or {class, scores} (svm); regression: {value}',
  })),
});

/** GET /v1/models/:id/decision-grid: predictions over a resolution² grid spanning the model's two inputs. */
export const DecisionGridSchema = Type.Object({
  modelId: Type.String({ format: 'uuid' }),
  task: Task,
  featureNames: Type.Array(Type.String()),
  classNames: Type.Array(Type.String()),
  resolution: Type.Integer(),
  xRange: Type.Array(Type.Number(), { description: '[min, max] of the first input' }),
  yRange: Type.Array(Type.Number(), { description: '[min, max] of the second input' }),
  classes: Type.Unknown({ description: 'classification: the class index of each grid point, row by row (y outer, x inner); regression: null' }),
  outputs: Type.Unknown({ description: 'classification: the model outputs of each grid point; regression: null' }),
  values: Type.Unknown({ description: 'regression: the predicted value of each grid point; classification: null' }),
});

/** GET /v1/models/:id/export, POST /v1/models/import: a self-contained model document (src/models/export-document.ts). */
export const ModelDocumentSchema = Type.Object({}, {
  additionalProperties: true,
  description: '{format: "trainyard-model", version: 1 (or 2 with inputEncoding: the raw input columns, text columns with their categories, missing values), name, spec, preprocessing, featureNames, classNames, weights, …}',
});
