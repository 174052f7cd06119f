/** Request and response schemas of /v1/models, and the JSON forms of a model. */
import { Type, type Static } from 'typebox';
import type { ModelInfo } from '../../db/repositories/models.js';
import { describeNetwork } from '../../engine/spec.js';
import type { FittedPreprocessing } from '../../engine/preprocessing.js';
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
  /** The job that trained it; null for imported models (or once the job is gone). */
  jobId: NullableString,
  datasetId: NullableString,
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
    createdAt: m.createdAt.toISOString(),
  };
}

function preprocessingSummary(p: FittedPreprocessing): ModelJson['preprocessing'] {
  const s = p.spec;
  const standardize = s.type === 'standardize' || ((s.type === 'pca' || s.type === 'whiten') && s.standardize === true);
  return {
    type: s.type,
    inputs: p.inputs,
    outputs: p.outputs,
    standardize,
    components: s.type === 'pca' || s.type === 'whiten' ? p.outputs : null,
    epsilon: s.type === 'whiten' ? p.epsilon : null,
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
    preprocessing: preprocessingSummary(m.preprocessing as unknown as FittedPreprocessing),
    metrics: m.metrics as Record<string, unknown>,
    inputRange: m.inputRange as ModelJson['inputRange'],
  };
}
