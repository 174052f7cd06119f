/**
 * The client's types, derived from the API's own TypeBox route schemas (`Static<typeof …>`) and, where a route has no
 * response schema, from the server's own types. Type-only imports: nothing of the server is loaded at run time, so
 * the client bundles for a browser.
 */
import type { Static } from 'typebox';
import type {
  DatasetListSchema, DatasetSchema, DatasetSummarySchema, ExampleQuery, ListQuery as DatasetListQuery, RowsQuery, RowsSchema,
  SyntheticBody, UploadQuery,
} from '../routes/datasets/schemas.js';
import type {
  CheckpointList, DryRunView, JobList as JobListSchema, JobView, JobWarningView, ListQuery as JobListQuery, MetricColumns as MetricColumnsSchema,
  MetricsQuery,
} from '../routes/jobs/schemas.js';
import type { ListQuery as ModelListQuery, ModelListSchema, ModelSchema, ModelSummarySchema, PredictionsSchema } from '../routes/models/schemas.js';
import type { EvaluationSchema } from '../routes/models/evaluate.js';
import type { SweepList as SweepListSchema, SweepListQuery, SweepView } from '../routes/sweeps/schemas.js';
import type { SweepBodySchema } from '../sweeps/body-schema.js';
import type { JobSpecBodySchema } from '../jobs/spec-schema.js';
import type { DecisionGrid } from '../inference/decision-grid.js';
import type { Prediction } from '../inference/predict.js';
import type { ModelDocument } from '../models/export-document.js';
import type { JobEvent, MetricRecord } from '../queue/job-events.js';
import type { TenantRef } from '../db/repositories/tenants.js';

export type { JobEvent, MetricRecord, Prediction, ModelDocument };
export type { MetricsEvent, StatusEvent, CheckpointEvent, WarningEvent, DecisionEvent, JobEventType } from '../queue/job-events.js';

// Datasets
export type Dataset = Static<typeof DatasetSchema>;
export type DatasetSummary = Static<typeof DatasetSummarySchema>;
export type DatasetList = Static<typeof DatasetListSchema>;
export type DatasetRows = Static<typeof RowsSchema>;
export type DatasetListOptions = Partial<Static<typeof DatasetListQuery>>;
export type RowsOptions = Partial<Static<typeof RowsQuery>>;
export type SyntheticSpec = Static<typeof SyntheticBody>;
export type ExampleOptions = Static<typeof ExampleQuery>;
/** Upload options (query parameters of POST /v1/datasets); `format` also picks the content type (default csv). */
export type UploadOptions = Static<typeof UploadQuery> & { format?: 'csv' | 'json' };

// Jobs
export type JobSpec = Static<typeof JobSpecBodySchema>;
export type Job = Static<typeof JobView>;
export type JobStatus = Job['status'];
export type JobWarning = Static<typeof JobWarningView>;
export type JobList = Static<typeof JobListSchema>;
export type JobListOptions = Static<typeof JobListQuery>;
export type DryRun = Static<typeof DryRunView>;
export type MetricColumns = Static<typeof MetricColumnsSchema>;
export type MetricsOptions = Static<typeof MetricsQuery>;
export type Checkpoints = Static<typeof CheckpointList>;

// Models
export type Model = Static<typeof ModelSchema>;
export type ModelSummary = Static<typeof ModelSummarySchema>;
export type ModelList = Static<typeof ModelListSchema>;
export type ModelListOptions = Partial<Static<typeof ModelListQuery>>;
/** POST /v1/models/:id/predict; the schema leaves a prediction open, the server's Prediction type says what it is. */
export type PredictResult = Omit<Static<typeof PredictionsSchema>, 'predictions'> & { predictions: Prediction[] };
/** GET /v1/models/:id/decision-grid (src/routes/models/decision-grid.ts). */
export type DecisionGridResult = DecisionGrid & Pick<Model, 'task' | 'featureNames' | 'classNames'> & { modelId: string };

/** PATCH /v1/models/:id: any of the model's name, description and tags. */
export type ModelPatch = Partial<Pick<Model, 'name' | 'description' | 'tags'>>;
/** GET /v1/models/by-name/:name/versions. */
export interface ModelVersions {
  name: string;
  items: ModelSummary[];
}
/**
 * POST /v1/jobs/:id/checkpoints/:step/promote. (Its body schema is private to src/routes/jobs/lifecycle.ts; export
 * it there to derive this type.)
 */
export interface PromoteOptions {
  weights?: 'best' | 'current';
  name?: string;
}
export type Evaluation = Static<typeof EvaluationSchema>;
/** POST /v1/models/:id/evaluate: the stored evaluation, and the input columns the model ignored. */
export type EvaluationCreated = Evaluation & { ignoredColumns: string[] };
export interface EvaluationList {
  items: Evaluation[];
  nextCursor: string | null;
}

// Sweeps
export type SweepSpec = Static<typeof SweepBodySchema>;
export type Sweep = Static<typeof SweepView>;
export type SweepList = Static<typeof SweepListSchema>;
export type SweepListOptions = Static<typeof SweepListQuery>;
export type SweepStatus = Sweep['status'];
/** One row of a sweep's leaderboard. */
export type Trial = Sweep['trials'][number];

/**
 * Messages of GET /v1/sweeps/:id/stream (src/sweeps/stream.ts, which builds them inline): a `sweep` message first
 * and last (the last one with the sweep's end status), a `trial` message when a trial's job is released, and every
 * trial's job events as on GET /v1/jobs/:id/stream with `sweepId` and `trial` added.
 */
export interface SweepStateMessage {
  type: 'sweep';
  sweepId: string;
  status: SweepStatus;
  /** The trials released so far (those with a job). */
  trials: { trial: number; jobId: string; status: JobStatus }[];
}
export interface TrialReleasedMessage {
  type: 'trial';
  sweepId: string;
  trial: number;
  jobId: string;
  status: JobStatus;
}
/** A trial's job event (`jobId` is the trial's job). */
export type TrialEvent = JobEvent & { sweepId: string; trial: number };
export type SweepEvent = SweepStateMessage | TrialReleasedMessage | TrialEvent;

/** GET /v1/me. */
export interface Me {
  tenant: TenantRef;
}

/** Statuses a job never leaves (`pruned`: stopped early by its sweep). */
export const TERMINAL_STATUSES: readonly string[] = ['succeeded', 'failed', 'cancelled', 'pruned'];

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.includes(status);
}
