/**
 * What a checkpoint's `state` bytes hold: everything for an exact continuation of a job.
 *
 * The engine's envelope (src/engine/envelope.ts) with magic "TYCK", version 1, and
 *   header  {loop: LoopState, preprocessing: FittedPreprocessing, kernel: string}
 *   body    the engine's saved network state (Network.saveState: parameters, optimizer state, step, RNG)
 *
 * The epoch's shuffled order is not stored: it is derived from (seed, epoch) (./split.ts), so the position in it is
 * enough. Float64 numbers round-trip through JSON exactly.
 *
 * Scope of "exact": the engine gives bit-identical results for any thread count, but only within one kernel build
 * (the compute context's `flavour`: 'relaxed-simd' or 'simd', later 'native') on one CPU family. Another build sums
 * and rounds differently, and relaxed SIMD's multiply-add is fused on some CPUs and not on others. So a checkpoint
 * records the flavour it was made with (`kernel`), and a worker that resumes it under another flavour logs a warning
 * ({@link kernelChange}; src/training/job-run.ts): the job goes on correctly, but no longer bit-identically to a run
 * that never stopped. Pin ENGINE_KERNEL on the workers of one installation to avoid it. Checkpoints written before
 * the field existed (kernel null) resume as before, unchecked.
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
  /** The kernel flavour of the compute context that made it ('relaxed-simd' | 'simd' | …); null in older checkpoints. */
  kernel: string | null;
  /** Network.saveState() */
  engine: Uint8Array;
}

const MAGIC = 'TYCK';
const VERSION = 1;

export function encodeCheckpoint(state: CheckpointState): Uint8Array<ArrayBuffer> {
  const header = { loop: state.loop, preprocessing: state.preprocessing, ...(state.kernel !== null && { kernel: state.kernel }) };
  const { bytes, bodyStart } = encodeEnvelope(MAGIC, VERSION, header, state.engine.byteLength);
  bytes.set(state.engine, bodyStart);
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const fail = (why: string): never => {
    throw new Error(`not a valid checkpoint: ${why}`);
  };
  const envelope = decodeEnvelope(bytes, MAGIC, VERSION, 'checkpoint');
  const parsed = (envelope.header ?? {}) as { loop?: LoopState; preprocessing?: FittedPreprocessing; kernel?: unknown };
  const loop = parsed.loop;
  if (!loop || !Number.isInteger(loop.epoch) || !Number.isInteger(loop.position) || !Number.isInteger(loop.step)) fail('no loop state');
  if (!parsed.preprocessing) fail('no preprocessing');
  // Checkpoints written before the health detectors existed have no state for them: they start afresh.
  const withHealth: LoopState = { ...loop!, health: loop!.health ?? freshHealthState() };
  if (parsed.kernel !== undefined && typeof parsed.kernel !== 'string') fail('kernel is not a string');
  // Checkpoints written before the kernel was recorded: unknown (null), resumed unchecked.
  const kernel = typeof parsed.kernel === 'string' ? parsed.kernel : null;
  return { loop: withHealth, preprocessing: parsed.preprocessing!, kernel, engine: bytes.slice(envelope.bodyStart) };
}

/**
 * The warning to log when a checkpoint made with kernel flavour `made` is resumed under `now`; null when they are the
 * same, or when the checkpoint does not say (older than the record).
 */
export function kernelChange(made: string | null, now: string): string | null {
  if (made === null || bitFamily(made) === bitFamily(now)) return null;
  return `resuming a checkpoint made with the '${made}' kernel build under '${now}': training continues correctly, but the ` +
    `results are no longer bit-identical to a run that never stopped (exactness holds within one kernel build and CPU family; pin ENGINE_KERNEL)`;
}

/**
 * Kernel builds that give the same bits: 'native' makes the same fused multiply-adds in the same order as
 * 'relaxed-simd' and shares its element-wise WebAssembly kernels (tested in test/engine/native-gemm.test.ts); plain
 * 'simd' rounds each multiply and add separately.
 */
function bitFamily(kernel: string): string {
  return kernel === 'native' ? 'relaxed-simd' : kernel;
}
