/**
 * The body of POST /v1/sweeps: a base job spec (the body of POST /v1/jobs), the parameters to vary (keyed by spec
 * path, e.g. `regularization.l2` or `network.layers[0].units`), how trials are chosen (grid, random, asha), the metric
 * that ranks them and how many run at once.
 */
import { Type, type Static } from 'typebox';
import { JobSpecBodySchema, MONITOR_METRICS, type MonitorMetric } from '../jobs/spec-schema.js';

/** Trials one sweep may have at most. */
export const MAX_TRIALS = 500;
/** A spec path: dotted names with optional [index] parts. */
export const SPEC_PATH_PATTERN = '^[A-Za-z][A-Za-z0-9]*(\\[[0-9]{1,2}\\])?(\\.[A-Za-z][A-Za-z0-9]*(\\[[0-9]{1,2}\\])?)*$';

const Scalar = Type.Union([Type.Number(), Type.String({ maxLength: 200 }), Type.Boolean(), Type.Null()]);
const Range = Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[low, high], low ≤ high.' });

export const ParameterDomainSchema = Type.Union([
  Type.Object({ values: Type.Array(Scalar, { minItems: 1, maxItems: 100, description: 'The values to try (grid: each; random: one at random).' }) }, { additionalProperties: false }),
  Type.Object({ uniform: Range }, { additionalProperties: false }),
  Type.Object({ logUniform: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 2, maxItems: 2, description: '[low, high], 0 < low ≤ high: sampled uniformly in log space.' }) }, { additionalProperties: false }),
], { description: 'values (grid or random), uniform or logUniform (random sampling only).' });

export const METRIC_ALIASES: Readonly<Record<string, MonitorMetric>> = {
  'validation.loss': 'valLoss', 'validation.accuracy': 'valAccuracy', 'validation.rmse': 'valRmse', 'validation.r2': 'valR2', 'train.loss': 'trainLoss',
};

export const SweepBodySchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Shown in lists. Default the base spec’s name or the dataset’s.' })),
  spec: JobSpecBodySchema,
  parameters: Type.Record(Type.String({ pattern: SPEC_PATH_PATTERN, maxLength: 200 }), ParameterDomainSchema, {
    minProperties: 1, maxProperties: 20, description: 'Domains keyed by spec path, e.g. "regularization.l2", "network.layers[0].units".',
  }),
  method: Type.Enum(['grid', 'random', 'asha'], {
    description: 'grid: every combination of `values`; random: `trials` samples (seeded); asha: asynchronous successive halving over grid or random configurations.',
  }),
  trials: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TRIALS, description: 'random (required) and asha with random sampling: how many configurations.' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Seed of the random sampling. Default: random, stored.' })),
  asha: Type.Optional(Type.Object({
    minEpochs: Type.Integer({ minimum: 1, description: 'The first rung: every trial trains at least this many epochs.' }),
    maxEpochs: Type.Integer({ minimum: 1, description: 'Epochs of a trial promoted to the end (its training.epochs).' }),
    reductionFactor: Type.Optional(Type.Integer({ minimum: 2, maximum: 16, default: 3, description: 'η: rungs at minEpochs·η^k; the top 1/η of a rung is promoted. Default 3.' })),
  }, { additionalProperties: false })),
  metric: Type.Union([Type.Enum([...MONITOR_METRICS]), Type.Enum(Object.keys(METRIC_ALIASES))], {
    description: 'What ranks the trials (a Metric column: valLoss, valAccuracy, valRmse, valR2, trainLoss; or validation.loss, validation.accuracy, …).',
  }),
  direction: Type.Optional(Type.Enum(['min', 'max'], { description: 'Better is lower (min) or higher (max). Default max for accuracy and R², min otherwise.' })),
  maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Trials queued or running at once. Default 2.' })),
}, { additionalProperties: false });

export type SweepBody = Static<typeof SweepBodySchema>;
export type ParameterDomain = Static<typeof ParameterDomainSchema>;
export type ParameterValue = string | number | boolean | null;
export type SweepMethod = 'grid' | 'random' | 'asha';
export type Direction = 'min' | 'max';

export function canonicalMetric(metric: string): MonitorMetric {
  return METRIC_ALIASES[metric] ?? (metric as MonitorMetric);
}

export function defaultDirection(metric: MonitorMetric): Direction {
  return metric === 'valAccuracy' || metric === 'valR2' ? 'max' : 'min';
}
