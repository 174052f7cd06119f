/**
 * What a checkpoint's `state` bytes hold: everything for an exact continuation of a job.
 *
 * The engine's envelope (src/engine/envelope.ts) with magic "TYCK", version 2, and
 *   header  {loop: LoopState, preprocessing: FittedPreprocessing, kernel: string, engineBytes: E,
 *            best?: {step, epoch, values: P}}
 *   body    the engine's saved network state (Network.saveState: parameters, optimizer state, step, RNG), E bytes,
 *           then, when `best` is there, the best weights so far: P float32 (LE) in parameter-table order.
 * Version 1 (before quiet checkpoints) had no `engineBytes` and no best weights: its body is the engine state; it
 * still decodes (best null).
 *
 * Quiet checkpoints: the training loop keeps the best weights in memory and writes them with the next checkpoint after
 * they change (and at the end, a cancel, a hand-back): that checkpoint is marked `isBest` and kept by pruning, so a
 * resume restores them exactly from there, and a stopped job's best weights can be promoted to a model.
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
  /** The best weights so far (packed, parameter-table order), when this checkpoint carries them; else null. */
  best: BestWeights | null;
}

/** Best weights: the step and (1-based) epoch they are from, and the packed values. */
export interface BestWeights {
  step: number;
  epoch: number;
  weights: Float32Array<ArrayBuffer>;
}

const MAGIC = 'TYCK';
const VERSION = 2;

export function encodeCheckpoint(state: CheckpointState): Uint8Array<ArrayBuffer> {
  const best = state.best;
  const header = {
    loop: state.loop, preprocessing: state.preprocessing, ...(state.kernel !== null && { kernel: state.kernel }), engineBytes: state.engine.byteLength,
    ...(best && { best: { step: best.step, epoch: best.epoch, values: best.weights.length } }),
  };
  const bestBytes = best ? best.weights.length * 4 : 0;
  const { bytes, bodyStart } = encodeEnvelope(MAGIC, VERSION, header, state.engine.byteLength + bestBytes, 4);
  bytes.set(state.engine, bodyStart);
  if (best) {
    const dv = new DataView(bytes.buffer, bodyStart + state.engine.byteLength, bestBytes);
    for (let i = 0; i < best.weights.length; i++) dv.setFloat32(4 * i, best.weights[i]!, true);
  }
  return bytes;
}

/** The envelope version of checkpoint bytes (1 or 2), read before decoding. */
function versionOf(bytes: Uint8Array): number {
  return bytes.length >= 8 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) : 0;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const fail = (why: string): never => {
    throw new Error(`not a valid checkpoint: ${why}`);
  };
  const version = versionOf(bytes) === 1 ? 1 : VERSION;
  const envelope = decodeEnvelope(bytes, MAGIC, version, 'checkpoint');
  const parsed = (envelope.header ?? {}) as {
    loop?: LoopState; preprocessing?: FittedPreprocessing; kernel?: unknown; engineBytes?: unknown; best?: { step?: unknown; epoch?: unknown; values?: unknown };
  };
  const loop = parsed.loop;
  if (!loop || !Number.isInteger(loop.epoch) || !Number.isInteger(loop.position) || !Number.isInteger(loop.step)) fail('no loop state');
  if (!parsed.preprocessing) fail('no preprocessing');
  // Checkpoints written before the health detectors existed have no state for them: they start afresh.
  const withHealth: LoopState = { ...loop!, health: loop!.health ?? freshHealthState() };
  if (parsed.kernel !== undefined && typeof parsed.kernel !== 'string') fail('kernel is not a string');
  // Checkpoints written before the kernel was recorded: unknown (null), resumed unchecked.
  const kernel = typeof parsed.kernel === 'string' ? parsed.kernel : null;
  const bodyBytes = bytes.length - envelope.bodyStart;
  if (version === 1) return { loop: withHealth, preprocessing: parsed.preprocessing!, kernel, engine: bytes.slice(envelope.bodyStart), best: null };
  const engineBytes = parsed.engineBytes;
  if (!Number.isInteger(engineBytes) || (engineBytes as number) < 0 || (engineBytes as number) > bodyBytes) fail('bad engineBytes');
  const engineEnd = envelope.bodyStart + (engineBytes as number);
  let best: BestWeights | null = null;
  if (parsed.best !== undefined) {
    const { step, epoch, values } = parsed.best;
    if (!Number.isInteger(step) || !Number.isInteger(epoch) || !Number.isInteger(values) || engineEnd + 4 * (values as number) !== bytes.length) fail('bad best weights');
    const dv = new DataView(bytes.buffer, bytes.byteOffset + engineEnd, 4 * (values as number));
    const weights = new Float32Array(values as number);
    for (let i = 0; i < weights.length; i++) weights[i] = dv.getFloat32(4 * i, true);
    best = { step: step as number, epoch: epoch as number, weights };
  } else if (engineEnd !== bytes.length) fail('trailing bytes');
  return { loop: withHealth, preprocessing: parsed.preprocessing!, kernel, engine: bytes.slice(envelope.bodyStart, engineEnd), best };
}

/**
 * The 1-based number of the epoch the loop's last step belongs to: at an epoch end (position 0 after the epoch moved
 * on) the epochs completed, in the middle of an epoch the epoch in progress counted from 1; 0 before the first step.
 * Every epoch the API shows (metrics records, events, checkpoints, best and final metrics, the job) is this one.
 */
export function completedEpoch(loop: Pick<LoopState, 'epoch' | 'position'>): number {
  return loop.position > 0 ? loop.epoch + 1 : loop.epoch;
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
