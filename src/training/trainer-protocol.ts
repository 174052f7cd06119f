/**
 * The contract between a worker process's main thread (src/training/processor.ts, which owns Postgres and Redis) and
 * its trainer thread (./trainer-thread.ts, which owns the engine's compute context and runs the training loop).
 *
 * Main → trainer: the job arrives as `workerData` ({@link TrainerInput}); afterwards the trainer is in a synchronous
 * loop that reads no messages, so commands go through a shared control block ({@link ControlBlock}): the main thread
 * stores a {@link StopCommand} in slot STOP; the trainer reads it between steps. The main thread also counts the
 * write messages it has committed (slots ACKED and CHECKPOINTS_ACKED) so that the trainer, which may block
 * (Atomics.wait) because it is not the main thread, never runs more than a bounded number of writes ahead of Postgres.
 *
 * Trainer → main: {@link TrainerMessage}s, in order. Exactly one of finished | stopped | diverged | error ends the
 * stream; an exception in the thread becomes an `error` message (and a thread that dies without one is reported by
 * the host as an error too).
 */
import type { EngineKernel } from '../config.js';
import type { LossKind, NetworkSpec, ResolvedSpec } from '../engine/spec.js';
import type { JobSpec } from '../jobs/plan.js';
import type { CheckpointTrigger, JobWarning, MetricRecord } from '../queue/job-events.js';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import type { DecisionGrid, DecisionGridSettings } from './decision-grids.js';
import type { HealthThresholds } from './health/state.js';
import type { EvalSummary } from '../models/artifact.js';

/** Slots of the control block (an Int32Array over a SharedArrayBuffer). */
export const ControlSlot = {
  /** A StopCommand, set by the main thread. */
  STOP: 0,
  /** Write messages (metrics, checkpoint) the main thread has committed (or dropped). */
  ACKED: 1,
  /** Checkpoint messages the main thread has committed (or dropped). */
  CHECKPOINTS_ACKED: 2,
} as const;
const SLOTS = 3;

export const StopCommand = {
  NONE: 0,
  /** Cancelled by a user: stop after the current step, no checkpoint. */
  CANCEL: 1,
  /** The worker is stopping: train on to the next metrics record, checkpoint there, stop. */
  HAND_BACK: 2,
  /** Another worker holds the job now: stop at once, write nothing. */
  LEASE_LOST: 3,
} as const;
export type StopCommand = (typeof StopCommand)[keyof typeof StopCommand];

export type StopReason = 'cancel' | 'hand-back' | 'lease-lost';
export const STOP_REASONS: Record<Exclude<StopCommand, 0>, StopReason> = { 1: 'cancel', 2: 'hand-back', 3: 'lease-lost' };

/**
 * Most write messages the trainer may have in flight, and most checkpoints among them. The main thread writes metrics
 * in batches of half the window (src/training/job-run.ts), so a fast trainer runs on while one batch is written.
 */
export const MAX_PENDING_WRITES = 128;
export const MAX_PENDING_CHECKPOINTS = 2;

export type ControlBlock = Int32Array<SharedArrayBuffer>;

export function createControlBlock(): ControlBlock {
  return new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
}

/** Main thread: asks the trainer to stop. The first command wins, except that LEASE_LOST overrides anything. */
export function requestStop(control: ControlBlock, command: Exclude<StopCommand, 0>): void {
  if (command === StopCommand.LEASE_LOST) Atomics.store(control, ControlSlot.STOP, command);
  else Atomics.compareExchange(control, ControlSlot.STOP, StopCommand.NONE, command);
  Atomics.notify(control, ControlSlot.ACKED);
}

/** Main thread: one write message committed. */
export function acknowledge(control: ControlBlock, checkpoint: boolean): void {
  Atomics.add(control, ControlSlot.ACKED, 1);
  if (checkpoint) Atomics.add(control, ControlSlot.CHECKPOINTS_ACKED, 1);
  Atomics.notify(control, ControlSlot.ACKED);
}

/** The dataset, as rows of the raw matrix (transferred, not copied). */
export interface TrainerDataset {
  rows: number;
  features: number;
  x: Float32Array;
  y: Int32Array | Float32Array;
}

export interface TrainerInput {
  jobId: string;
  attempt: number;
  spec: JobSpec;
  /** The engine spec planned from the job spec and the dataset. */
  network: NetworkSpec;
  dataset: TrainerDataset;
  /** Continue from these checkpoint states (checkpoint-state.ts), or start fresh when null. */
  resume: { latest: Uint8Array; best: Uint8Array | null } | null;
  /** Initial weights and fitted preprocessing of a warm-start model (ignored when resuming). */
  warmStart: { weights: Float32Array; preprocessing: FittedPreprocessing } | null;
  engineThreads: number;
  /** The engine's kernel build (ENGINE_KERNEL). Default 'auto'. */
  engineKernel?: EngineKernel;
  /** Training-health warning thresholds (configuration). */
  health: HealthThresholds;
  /** Live decision grids (configuration). */
  decisionGrid: DecisionGridSettings;
  /** Epochs (1-based) whose end is recorded whatever the record schedule (a sweep trial's ASHA rungs). Default none. */
  recordEpochs?: readonly number[];
  control: ControlBlock;
}

/** Re-exported for the training modules: defined with the model artifact, which stores it. */
export type { EvalSummary };

export type TrainerMessage =
  | {
      type: 'started';
      step: number;
      epoch: number;
      parameterCount: number;
      resumed: boolean;
      /** The kernel flavour of this attempt's compute context. */
      flavour: string;
      /** The kernel flavour the resumed checkpoint was made with (null: a fresh start, or a checkpoint older than the record). */
      checkpointKernel: string | null;
      threads: number;
    }
  | {
      type: 'metrics';
      record: MetricRecord;
      /** Training-health warnings raised at this record (./health/monitor.ts). */
      warnings: JobWarning[];
      /** At some epoch ends of 2-input classification jobs: the decision grid (./decision-grids.ts). */
      decision: DecisionGrid | null;
    }
  | {
      type: 'checkpoint';
      step: number;
      epoch: number;
      trigger: CheckpointTrigger;
      state: Uint8Array<ArrayBuffer>;
      /** Monitored metric (epoch ends only). */
      metric: number | null;
      /** It carries the best weights so far (they changed since the previous checkpoint). */
      isBest: boolean;
      /** The step of the best weights it carries (null: none). */
      bestStep: number | null;
      best: { metric: number; metrics: EvalSummary } | null;
    }
  | {
      type: 'finished';
      outcome: 'completed' | 'early-stopped';
      step: number;
      epoch: number;
      /** The weights that become the model (best or final per spec), packed in parameter-table order. */
      weights: Float32Array<ArrayBuffer>;
      /** The step those weights are from, and whether they are the best epoch's or the last. */
      weightsStep: number;
      weightsSource: 'best' | 'final';
      preprocessing: FittedPreprocessing;
      resolvedSpec: ResolvedSpec;
      loss: LossKind;
      /** The metrics of the epoch the weights are from. */
      modelMetrics: EvalSummary | null;
      /** The metrics of the last epoch. */
      finalMetrics: EvalSummary | null;
    }
  | { type: 'stopped'; reason: StopReason; step: number; epoch: number }
  | { type: 'diverged'; step: number; epoch: number; cause: 'loss' | 'grad-norm'; value: number; message: string }
  | { type: 'error'; message: string; stack: string | null };

/** Messages the main thread must acknowledge (see ControlSlot.ACKED). */
export function isWriteMessage(m: TrainerMessage): m is Extract<TrainerMessage, { type: 'metrics' | 'checkpoint' }> {
  return m.type === 'metrics' || m.type === 'checkpoint';
}
