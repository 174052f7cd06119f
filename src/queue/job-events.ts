/**
 * Live events of training jobs: the one module that defines what workers publish and what the API's stream reads.
 *
 * Contract (version 1):
 * - Transport: Redis pub/sub, one channel per job, {@link jobEventsChannel}(prefix, jobId) =
 *   `${QUEUE_PREFIX}:job:${jobId}:events`. One JSON text per message ({@link encodeJobEvent} / {@link parseJobEvent}).
 * - Every event has `v` (1), `type`, `jobId`, `attempt` (the lease's fencing token of the worker that published it),
 *   `step` (optimizer updates done when it was published) and `at` (ISO time of publishing).
 * - Published only after what it describes is committed to Postgres. So a consumer that subscribes first, then reads
 *   Postgres, then forwards live events, misses nothing: what it read is never newer than what it will receive.
 * - `metrics` events come in step order within an attempt. After a crash the next attempt resumes from its checkpoint
 *   and publishes the steps after it again, with identical values: forward only steps above the last one forwarded.
 *   Their `record` is exactly a stored Metric row (GET /v1/jobs/:id/metrics), per-layer statistics included.
 * - `status` on every change of the Job's status: `running` when a worker takes the lease, `queued` when a stopping
 *   worker hands the job back, and the terminal `succeeded` | `failed` | `cancelled` (the last event of a job; a
 *   `succeeded` event names the model).
 * - `checkpoint` after a checkpoint committed.
 * - `warning` after a training-health warning was stored in Job.warnings: once per job for each code and layer (a
 *   resumed attempt that computes it again finds it stored and publishes nothing). See src/training/health/.
 * - `decision` at some epoch ends of 2-input classification jobs: the predicted classes over a grid (a live view, not
 *   stored; after a crash, the epochs a resumed attempt trains again publish their grids again).
 */
import type { JobStatus } from '../db/client.js';
import type { LayerStats } from '../engine/stats.js';

export const JOB_EVENTS_VERSION = 1;

/** The Redis channel of one job's events. */
export function jobEventsChannel(queuePrefix: string, jobId: string): string {
  return `${queuePrefix}:job:${jobId}:events`;
}

/** One point of the learning curve, as stored (Metric row) and as streamed. Null where the field does not apply. */
export interface MetricRecord {
  step: number;
  /** Epoch (1-based) the step belongs to: ⌈step / stepsPerEpoch⌉; at an epoch end, the epochs completed. */
  epoch: number;
  /** Mean total loss (data + regularization) over the steps since the previous record. */
  trainLoss: number;
  /** Mean data loss over the same steps. */
  dataLoss: number;
  /** Regularization loss at this step. */
  regLoss: number;
  /** Accuracy on the whole training split; only on the record that ends an epoch, and only for classification. */
  trainAccuracy: number | null;
  /** Validation loss/accuracy (classification) or RMSE/R² (regression); only on epoch-end records with a validation split. */
  valLoss: number | null;
  valAccuracy: number | null;
  valRmse: number | null;
  valR2: number | null;
  /** Learning rate of this step's update. */
  learningRate: number;
  /** Training throughput since the previous record (wall clock, including evaluation). */
  samplesPerSec: number;
  /** The engine's per-layer statistics at this step (layers with parameters, in forward order). */
  layers: LayerStats[];
}

interface EventBase {
  v: typeof JOB_EVENTS_VERSION;
  jobId: string;
  attempt: number;
  step: number;
  at: string;
}

export interface MetricsEvent extends EventBase {
  type: 'metrics';
  epoch: number;
  record: MetricRecord;
}

export interface StatusEvent extends EventBase {
  type: 'status';
  status: JobStatus;
  epoch: number;
  /** Stable failure code (DIVERGED, DATASET_GONE, …) when failed. */
  code: string | null;
  /** Human-readable reason (failure, cancel, hand-back). */
  reason: string | null;
  /** The model created, when succeeded. */
  modelId: string | null;
}

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  epoch: number;
  checkpointId: string;
  /** Why it was taken. */
  trigger: CheckpointTrigger;
  /** The early-stopping metric at this checkpoint (epoch ends only). */
  metric: number | null;
  isBest: boolean;
  bytes: number;
}

/** `epoch`: no longer written (epoch ends checkpoint only when `steps` or `seconds` is due); `end`: the last state of a finished job; `cancel`: a cancelled job's best weights. */
export type CheckpointTrigger = 'steps' | 'seconds' | 'epoch' | 'hand-back' | 'end' | 'cancel';

export const WARNING_CODES = ['DEAD_RELU', 'SATURATED', 'UPDATE_RATIO', 'LOSS_FLAT', 'OVERFITTING'] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** A training-health warning, as stored (an element of Job.warnings, GET /v1/jobs/:id) and as streamed. */
export interface JobWarning {
  code: WarningCode;
  /** The layer it is about (DEAD_RELU, SATURATED, UPDATE_RATIO), null for the whole network (LOSS_FLAT, OVERFITTING). */
  layer: string | null;
  /** The step of the metrics record at which it was raised. */
  step: number;
  /** What was measured. */
  message: string;
  /** What to do about it (CS231n). */
  advice: string;
}

/** A training-health warning, streamed once when it starts (its `step` is the step it was raised at). */
export interface WarningEvent extends EventBase {
  type: 'warning';
  /** Stable code, one of {@link WARNING_CODES}. */
  code: string;
  layer: string | null;
  message: string;
  advice: string;
}

/** Predicted classes over a grid covering the data's bounding box (2-input classifiers). */
export interface DecisionEvent extends EventBase {
  type: 'decision';
  epoch: number;
  /** Grid points per axis. */
  resolution: number;
  /** [min, max] of feature 0 (x axis) and feature 1 (y axis), in the raw (unpreprocessed) feature space. */
  xRange: [number, number];
  yRange: [number, number];
  /** resolution² class indices, row-major with y varying slowest. */
  classes: number[];
}

export type JobEvent = MetricsEvent | StatusEvent | CheckpointEvent | WarningEvent | DecisionEvent;
export type JobEventType = JobEvent['type'];

/** Distributes Omit over the union, so each variant keeps its own fields. */
export type JobEventInput = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 'v' | 'at'> : never) : never;

export function encodeJobEvent(event: JobEventInput, at: Date = new Date()): string {
  return JSON.stringify({ v: JOB_EVENTS_VERSION, at: at.toISOString(), ...event });
}

const TYPES: ReadonlySet<string> = new Set<JobEventType>(['metrics', 'status', 'checkpoint', 'warning', 'decision']);

/** Parses a message of a job channel; null when it is not a version-1 job event. */
export function parseJobEvent(message: string): JobEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Partial<EventBase> & { type?: unknown };
  if (e.v !== JOB_EVENTS_VERSION || typeof e.type !== 'string' || !TYPES.has(e.type)) return null;
  if (typeof e.jobId !== 'string' || typeof e.step !== 'number' || typeof e.attempt !== 'number') return null;
  return value as JobEvent;
}

const CODES: ReadonlySet<string> = new Set<string>(WARNING_CODES);

/** The warnings of a Job.warnings column (JSON); entries that are not warnings are left out. */
export function parseWarnings(json: unknown): JobWarning[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((e: unknown): JobWarning[] => {
    if (typeof e !== 'object' || e === null) return [];
    const { code, layer = null, step, message, advice } = e as Record<string, unknown>;
    const ok = typeof code === 'string' && CODES.has(code) && (layer === null || typeof layer === 'string')
      && typeof step === 'number' && typeof message === 'string' && typeof advice === 'string';
    return ok ? [{ code: code as WarningCode, layer: layer as string | null, step, message, advice }] : [];
  });
}

/** What can publish: an ioredis client (or anything with the same method). */
export interface Publisher {
  publish(channel: string, message: string): Promise<number>;
}

/** Publishes one event on its job's channel; resolves to the number of subscribers that received it. */
export function publishJobEvent(redis: Publisher, queuePrefix: string, event: JobEventInput): Promise<number> {
  return redis.publish(jobEventsChannel(queuePrefix, event.jobId), encodeJobEvent(event));
}
