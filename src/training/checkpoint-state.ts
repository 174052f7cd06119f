/**
 * What a checkpoint's `state` bytes hold: everything for an exact continuation of a job.
 *
 * The engine's envelope (src/engine/envelope.ts) with magic "TYCK", version 1, and
 *   header  {loop: LoopState, preprocessing: FittedPreprocessing}
 *   body    the engine's saved network state (Network.saveState: parameters, optimizer state, step, RNG)
 *
 * The epoch's shuffled order is not stored: it is derived from (seed, epoch) (./split.ts), so the position in it is
 * enough. Float64 numbers round-trip through JSON exactly.
 */
import { decodeEnvelope, encodeEnvelope } from '../engine/envelope.js';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import { freshHealthState, type HealthState } from './health/state.js';
import type { EvalSummary } from './trainer-protocol.js';

/** The training loop's own state; at a checkpoint the loop is always at a metrics-record boundary. */
export interface LoopState {
  /** The epoch in progress (0-based); equals `epochs` when all are done. */
  epoch: number;
  /** Batches of this epoch already trained (its position in the epoch's order). */
  position: number;
  /** Optimizer updates done. */
  step: number;
  /** Best value of the monitored metric so far, and the evaluation of that epoch. */
  best: { value: number; metrics: EvalSummary } | null;
  /** Epochs since the best (early stopping). */
  badEpochs: number;
  /** Early stopping fired: the job is complete. */
  stoppedEarly: boolean;
  /** Largest gradient norm of the first steps: the reference of the divergence check. */
  gradNormRef: number;
  /** Evaluation at the end of the last completed epoch. */
  lastEval: EvalSummary | null;
  /** The training-health detectors (./health/): warnings raised so far, streaks, the recent learning curve. */
  health: HealthState;
}

export interface CheckpointState {
  loop: LoopState;
  preprocessing: FittedPreprocessing;
  /** Network.saveState() */
  engine: Uint8Array;
}

const MAGIC = 'TYCK';
const VERSION = 1;

export function encodeCheckpoint(state: CheckpointState): Uint8Array<ArrayBuffer> {
  const { bytes, bodyStart } = encodeEnvelope(MAGIC, VERSION, { loop: state.loop, preprocessing: state.preprocessing }, state.engine.byteLength);
  bytes.set(state.engine, bodyStart);
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const fail = (why: string): never => {
    throw new Error(`not a valid checkpoint: ${why}`);
  };
  const envelope = decodeEnvelope(bytes, MAGIC, VERSION, 'checkpoint');
  const parsed = (envelope.header ?? {}) as { loop?: LoopState; preprocessing?: FittedPreprocessing };
  const loop = parsed.loop;
  if (!loop || !Number.isInteger(loop.epoch) || !Number.isInteger(loop.position) || !Number.isInteger(loop.step)) fail('no loop state');
  if (!parsed.preprocessing) fail('no preprocessing');
  // Checkpoints written before the health detectors existed have no state for them: they start afresh.
  const withHealth: LoopState = { ...loop!, health: loop!.health ?? freshHealthState() };
  return { loop: withHealth, preprocessing: parsed.preprocessing!, engine: bytes.slice(envelope.bodyStart) };
}
