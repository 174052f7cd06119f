/**
 * The REST job spec (the body of POST /v1/jobs): every option declared once, with its default and meaning.
 * `{ "datasetId": "…" }` alone trains one hidden layer of 100 ReLUs with Adam on standardized inputs.
 *
 * Defaults that depend on the dataset are documented as such and filled by ./plan.ts:
 *   network.loss            softmax for classification, l2 for regression
 *   optimizer.learningRate  0.001 for adam and rmsprop, 0.01 for sgd, momentum, nesterov and adagrad
 *   training.seed           a random seed, chosen once and stored, so the run can be repeated
 *   training.monitor        valLoss with a validation split, trainLoss without
 *   optimizer.schedule.steps (cosine) the job's total steps
 */
import { Type, type Static, type TSchema } from 'typebox';
import { ACTIVATIONS, INIT_SCHEMES, LOSSES, MAX_UNITS } from '../engine/spec.js';
import { OPTIMIZERS } from '../engine/optimizers.js';
import { PREPROCESSING_TYPES } from '../engine/preprocessing.js';

const literals = <T extends string>(values: readonly T[], options: { default?: T; description?: string } = {}) =>
  Type.Enum([...values], options);

/** Optional with a default: TypeBox's Value.Default fills it in (see ./plan.ts). */
const withDefault = <S extends TSchema>(schema: S) => Type.Optional(schema);

export const HiddenLayerSchema = Type.Object({
  units: Type.Integer({ minimum: 1, maximum: MAX_UNITS, description: 'Neurons of the layer.' }),
  activation: withDefault(literals(ACTIVATIONS, { default: 'relu', description: 'Non-linearity. Default relu.' })),
  dropout: withDefault(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Inverted-dropout probability after the layer. Default 0.' })),
  alpha: Type.Optional(Type.Number({ description: 'leaky-relu slope (default 0.01) or prelu starting slope (default 0.25).' })),
  pieces: Type.Optional(Type.Integer({ minimum: 2, maximum: 64, description: 'maxout pieces per unit. Default 2.' })),
  init: Type.Optional(literals(INIT_SCHEMES, { description: 'Weight init; default he for the ReLU family and maxout, xavier otherwise.' })),
}, { additionalProperties: false });

export const NetworkSchema = Type.Object({
  layers: withDefault(Type.Array(HiddenLayerSchema, {
    maxItems: 64,
    default: [{ units: 100, activation: 'relu', dropout: 0 }],
    description: 'Hidden layers, first to last; [] is a linear classifier. Default one layer of 100 ReLUs.',
  })),
  loss: Type.Optional(literals(LOSSES, { description: 'Output loss. Default softmax for classification, l2 for regression.' })),
  init: Type.Optional(literals(INIT_SCHEMES, { description: 'Weight init of every layer (layers may override). Default per activation.' })),
  inputNoise: withDefault(Type.Number({ minimum: 0, maximum: 1e6, default: 0, description: 'Std of Gaussian noise added to the (preprocessed) inputs while training. Default 0.' })),
}, { additionalProperties: false, default: {} });

export const RegularizationSchema = Type.Object({
  l2: withDefault(Type.Number({ minimum: 0, maximum: 1e6, default: 0.0001, description: 'λ of ½·λ·Σw². Default 0.0001.' })),
  l1: withDefault(Type.Number({ minimum: 0, maximum: 1e6, default: 0, description: 'λ of λ·Σ|w|. Default 0.' })),
}, { additionalProperties: false, default: {} });

export const PreprocessingSchema = Type.Object({
  type: withDefault(literals(PREPROCESSING_TYPES, {
    default: 'standardize',
    description: 'none | center (x − μ) | standardize ((x − μ)/σ) | pca (project on the top components) | whiten (pca, then ÷ √eigenvalue). Fitted on the training split. Default standardize.',
  })),
  components: Type.Optional(Type.Integer({ minimum: 1, description: 'pca (required), whiten (default all): principal components kept, ≤ features.' })),
  standardize: Type.Optional(Type.Boolean({ description: 'pca, whiten: divide by σ before the projection. Default false.' })),
  epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'whiten: added to each eigenvalue. Default 1e-5.' })),
}, { additionalProperties: false, default: {} });

export const ScheduleSchema = Type.Object({
  type: literals(['constant', 'step', 'exponential', 'cosine'] as const, { default: 'constant', description: 'Learning-rate schedule. Default constant.' }),
  every: Type.Optional(Type.Integer({ minimum: 1, description: 'step: decay every this many steps.' })),
  factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'step: multiply by this.' })),
  decay: Type.Optional(Type.Number({ minimum: 0, description: 'exponential: lr·e^(−decay·t).' })),
  steps: Type.Optional(Type.Integer({ minimum: 1, description: 'cosine: steps of the half cosine. Default the job’s total steps.' })),
  minLearningRate: Type.Optional(Type.Number({ minimum: 0, description: 'cosine: final learning rate. Default 0.' })),
}, { additionalProperties: false, default: { type: 'constant' } });

export const OptimizerSchema = Type.Object({
  type: withDefault(literals(OPTIMIZERS, { default: 'adam', description: 'Update rule. Default adam.' })),
  learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'Default 0.001 (adam, rmsprop) or 0.01 (others).' })),
  momentum: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'momentum, nesterov: μ. Default 0.9.' })),
  decay: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'rmsprop: ρ. Default 0.99.' })),
  beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'adam: β₁. Default 0.9.' })),
  beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'adam: β₂. Default 0.999.' })),
  epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'adagrad, rmsprop, adam: ε. Default 1e-8.' })),
  schedule: withDefault(ScheduleSchema),
}, { additionalProperties: false, default: {} });

export const MONITOR_METRICS = ['valLoss', 'valAccuracy', 'valRmse', 'valR2', 'trainLoss'] as const;
export type MonitorMetric = (typeof MONITOR_METRICS)[number];

export const EarlyStoppingSchema = Type.Object({
  patience: withDefault(Type.Integer({ minimum: 1, maximum: 100_000, default: 5, description: 'Epochs without improvement of the monitored metric before stopping. Default 5.' })),
  minDelta: withDefault(Type.Number({ minimum: 0, default: 0, description: 'Smallest change that counts as an improvement. Default 0.' })),
}, { additionalProperties: false });

export const TrainingSchema = Type.Object({
  epochs: withDefault(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100, description: 'Passes over the training split. Default 100.' })),
  batchSize: withDefault(Type.Integer({ minimum: 1, maximum: 65_536, default: 32, description: 'Rows per step (≤ training rows). Default 32.' })),
  validationFraction: withDefault(Type.Number({ minimum: 0, maximum: 0.5, default: 0.1, description: 'Share of rows held out for validation. Default 0.1.' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Seed of initialization, split, shuffling, dropout and noise. Default: random, stored.' })),
  monitor: Type.Optional(literals(MONITOR_METRICS, { description: 'Metric that picks the best epoch and drives early stopping. Default valLoss, or trainLoss without validation.' })),
  earlyStopping: withDefault(Type.Union([EarlyStoppingSchema, Type.Null()], { default: null, description: 'Stop when the monitored metric stops improving. Default null (off).' })),
  keep: withDefault(literals(['best', 'final'] as const, { default: 'best', description: 'Which weights become the model: the best epoch by the monitored metric, or the last. Default best.' })),
  maxGradNormRatio: withDefault(Type.Number({ exclusiveMinimum: 1, default: 10_000, description: 'Divergence: a gradient norm above this multiple of the largest of the first 10 steps fails the job. Default 10000.' })),
}, { additionalProperties: false, default: {} });

export const CheckpointsSchema = Type.Object({
  everySteps: withDefault(Type.Integer({ minimum: 1, default: 1000, description: 'Checkpoint at the first metrics record at least this many steps after the last. Default 1000.' })),
  everySeconds: withDefault(Type.Number({ minimum: 1, default: 30, description: 'Or this many seconds after the last. Default 30. (An epoch end checkpoints only when one of the two is due; the best weights go with the next checkpoint and the last.)' })),
  keep: withDefault(Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'Newest checkpoints kept (plus the one holding the best weights). Default 3.' })),
}, { additionalProperties: false, default: {} });

export const MetricsSchema = Type.Object({
  everySteps: withDefault(Type.Integer({ minimum: 1, default: 10, description: 'Write a metrics record every this many steps and at every epoch end; when an epoch has fewer steps (a full batch has one), at every k-th epoch end instead, k = this / steps per epoch rounded (plus the first and last epoch). Default 10.' })),
}, { additionalProperties: false, default: {} });

export const JobSpecBodySchema = Type.Object({
  datasetId: Type.String({ format: 'uuid', description: 'The dataset to train on.' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Shown in lists; also the model’s name. Default the dataset’s name.' })),
  warmStartModelId: withDefault(Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    default: null,
    description: 'Start from this model’s weights (same architecture) and its fitted preprocessing instead of a fresh init; without `network`, the job takes the model’s architecture. Default null.',
  })),
  network: withDefault(NetworkSchema),
  regularization: withDefault(RegularizationSchema),
  preprocessing: withDefault(PreprocessingSchema),
  optimizer: withDefault(OptimizerSchema),
  training: withDefault(TrainingSchema),
  checkpoints: withDefault(CheckpointsSchema),
  metrics: withDefault(MetricsSchema),
}, { additionalProperties: false });

export type JobSpecBody = Static<typeof JobSpecBodySchema>;
export type HiddenLayerBody = Static<typeof HiddenLayerSchema>;
export type ScheduleBody = Static<typeof ScheduleSchema>;
