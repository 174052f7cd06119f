/** Request and response schemas of the /v1/jobs routes (the body schema is the job spec, src/jobs/spec-schema.ts). */
import { Type, type Static } from 'typebox';
import { WARNING_CODES } from '../../queue/job-events.js';

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableNumber = Nullable(Type.Number());
const Json = Type.Unknown();
const Timestamp = Type.String({ format: 'date-time' });

/** `pruned`: stopped early by its sweep's ASHA pruning (failure.code PRUNED, failure.reason says why). */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'pruned'] as const;

export const JobParams = Type.Object({ id: Uuid });

export const SubmitQuery = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Plan only: the layer table and parameter count, nothing is queued.' })),
}, { additionalProperties: false });

export const ListQuery = Type.Object({
  status: Type.Optional(Type.Enum([...JOB_STATUSES])),
  datasetId: Type.Optional(Uuid),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page.' })),
}, { additionalProperties: false });

export const MetricsQuery = Type.Object({
  since: Type.Optional(Type.Integer({ minimum: -1, default: -1, description: 'Only steps greater than this. Default: from the start.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
}, { additionalProperties: false });

/** A training-health warning (src/training/health/), raised once per job for each code and layer. */
export const JobWarningView = Type.Object({
  code: Type.Enum([...WARNING_CODES]),
  /** The layer it is about; null for the whole network (LOSS_FLAT, OVERFITTING). */
  layer: Nullable(Type.String()),
  /** The step of the metrics record it was raised at. */
  step: Type.Integer(),
  message: Type.String(),
  advice: Type.String(),
});

export const JobView = Type.Object({
  id: Uuid,
  name: Type.String(),
  datasetId: Nullable(Uuid),
  warmStartModelId: Nullable(Uuid),
  status: Type.Enum([...JOB_STATUSES]),
  /** Leases taken so far (the fencing token of the current one). */
  attempt: Type.Integer(),
  cancelRequested: Type.Boolean(),
  epoch: Type.Integer(),
  step: Type.Integer(),
  totalSteps: Type.Integer(),
  parameterCount: Type.Integer(),
  bestMetric: NullableNumber,
  bestMetrics: Json,
  finalMetrics: Json,
  /** Training-health warnings raised so far, in the order they were raised. */
  warnings: Type.Array(JobWarningView),
  failure: Nullable(Type.Object({ code: Nullable(Type.String()), reason: Type.String() })),
  modelId: Nullable(Uuid),
  /** The sweep this job is a trial of: its id, the trial's index and the parameter values it was given (by spec path). */
  sweep: Nullable(Type.Object({ id: Uuid, trial: Type.Integer(), parameters: Type.Record(Type.String(), Json) })),
  worker: Nullable(Type.Object({ id: Type.String(), leaseExpiresAt: Nullable(Timestamp) })),
  spec: Json,
  createdAt: Timestamp,
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  updatedAt: Timestamp,
});
export type JobView = Static<typeof JobView>;

export const JobList = Type.Object({ items: Type.Array(JobView), nextCursor: Nullable(Type.String()) });

export const LayerRow = Type.Object({
  name: Type.String(), kind: Type.String(), activation: Nullable(Type.String()), inputs: Type.Integer(), outputs: Type.Integer(), params: Type.Integer(),
});

export const DryRunView = Type.Object({
  dryRun: Type.Literal(true),
  parameterCount: Type.Integer(),
  layers: Type.Array(LayerRow),
  inputs: Type.Integer(),
  outputs: Type.Integer(),
  loss: Type.String(),
  trainRows: Type.Integer(),
  validationRows: Type.Integer(),
  stepsPerEpoch: Type.Integer(),
  totalSteps: Type.Integer(),
  spec: Json,
});

/** Metrics as columns (one array per field, index i is the i-th step), ready for plotting. */
export const MetricColumns = Type.Object({
  jobId: Uuid,
  count: Type.Integer(),
  /** Pass as `since` to get the next page (the last step returned, or the given since when empty). */
  nextSince: Type.Integer(),
  step: Type.Array(Type.Integer()),
  epoch: Type.Array(Type.Integer()),
  trainLoss: Type.Array(Type.Number()),
  dataLoss: Type.Array(Type.Number()),
  regLoss: Type.Array(Type.Number()),
  trainAccuracy: Type.Array(NullableNumber),
  valLoss: Type.Array(NullableNumber),
  valAccuracy: Type.Array(NullableNumber),
  valRmse: Type.Array(NullableNumber),
  valR2: Type.Array(NullableNumber),
  learningRate: Type.Array(Type.Number()),
  samplesPerSec: Type.Array(Type.Number()),
  /** Per step, the engine's per-layer statistics. */
  layers: Type.Array(Json),
});

export const CheckpointList = Type.Object({
  items: Type.Array(Type.Object({
    id: Uuid,
    attempt: Type.Integer(),
    step: Type.Integer(),
    epoch: Type.Integer(),
    metric: NullableNumber,
    /** It carries the job's best weights (those of step `bestStep`): promote it to keep them. */
    isBest: Type.Boolean(),
    bestStep: Nullable(Type.Integer()),
    isFinal: Type.Boolean(),
    bytes: Type.Integer(),
    createdAt: Timestamp,
  })),
});
