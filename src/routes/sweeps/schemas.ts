/** Request and response schemas of the /v1/sweeps routes (the body schema is src/sweeps/body-schema.ts). */
import { Type, type Static } from 'typebox';
import { JOB_STATUSES } from '../jobs/schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });
const Json = Type.Unknown();

export const SWEEP_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
/** A trial's status: its job's, `pending` while it waits for a free slot (maxConcurrent), `deleted` when its job was deleted. */
export const TRIAL_STATUSES = ['pending', 'deleted', ...JOB_STATUSES] as const;

export const SweepParams = Type.Object({ id: Uuid });

export const SweepListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page.' })),
}, { additionalProperties: false });

const Counts = Type.Object(Object.fromEntries(TRIAL_STATUSES.map((s) => [s, Type.Integer()])) as Record<(typeof TRIAL_STATUSES)[number], ReturnType<typeof Type.Integer>>, {
  description: 'Trials by status.',
});

export const TrialView = Type.Object({
  trial: Type.Integer({ description: 'The trial’s index in the sweep (0-based, the order trials are released in).' }),
  parameters: Type.Record(Type.String(), Json, { description: 'The values this trial was given, by spec path.' }),
  jobId: Nullable(Uuid),
  status: Type.Enum([...TRIAL_STATUSES]),
  metric: Nullable(Type.Number({ description: 'The best value of the sweep’s metric among the trial’s stored metrics.' })),
  bestEpoch: Nullable(Type.Integer({ description: 'The (0-based) epoch of that value.' })),
  bestStep: Nullable(Type.Integer()),
  epochs: Type.Integer({ description: 'Epochs trained so far.' }),
  modelId: Nullable(Uuid),
  best: Type.Boolean({ description: 'The best trial that has a model (one per sweep).' }),
  failure: Nullable(Type.Object({ code: Nullable(Type.String()), reason: Type.String() }, { description: 'Why it failed, was cancelled or pruned (code PRUNED).' })),
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
});

const SweepFields = {
  id: Uuid,
  name: Type.String(),
  datasetId: Uuid,
  status: Type.Enum([...SWEEP_STATUSES]),
  cancelRequested: Type.Boolean(),
  method: Type.Enum(['grid', 'random', 'asha']),
  sampling: Type.Enum(['grid', 'random']),
  seed: Nullable(Type.Integer()),
  asha: Nullable(Type.Object({ minEpochs: Type.Integer(), maxEpochs: Type.Integer(), reductionFactor: Type.Integer(), rungs: Type.Array(Type.Integer()) })),
  metric: Type.String(),
  direction: Type.Enum(['min', 'max']),
  maxConcurrent: Type.Integer(),
  trialCount: Type.Integer(),
  counts: Counts,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  finishedAt: Nullable(Timestamp),
};

export const SweepSummary = Type.Object(SweepFields);
export type SweepSummary = Static<typeof SweepSummary>;

export const SweepView = Type.Object({
  ...SweepFields,
  parameters: Json,
  spec: Json,
  best: Nullable(Type.Object({ trial: Type.Integer(), jobId: Uuid, modelId: Uuid, metric: Type.Number() })),
  bestModelId: Nullable(Uuid),
  /** The leaderboard: best first (trials without a metric last, by index). */
  trials: Type.Array(TrialView),
});
export type SweepView = Static<typeof SweepView>;

export const SweepList = Type.Object({ items: Type.Array(SweepSummary), nextCursor: Nullable(Type.String()) });
