/**
 * What a checkpoint's `state` bytes hold: everything for an exact continuation of a job.
 *
 *   bytes 0–3   magic "TYCK"
 *   bytes 4–7   format version (u32 LE), currently 1
 *   bytes 8–11  J, byte length of the JSON part (u32 LE)
 *   12 … 12+J   UTF-8 JSON {loop: LoopState, preprocessing: FittedPreprocessing}
 *   then        the engine's saved network state (Network.saveState: parameters, optimizer state, step, RNG)
 *
 * The epoch's shuffled order is not stored: it is derived from (seed, epoch) (./split.ts), so the position in it is
 * enough. Float64 numbers round-trip through JSON exactly.
 */
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

const MAGIC = [0x54, 0x59, 0x43, 0x4b]; // "TYCK"
const VERSION = 1;

export function encodeCheckpoint(state: CheckpointState): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify({ loop: state.loop, preprocessing: state.preprocessing }));
  const out = new Uint8Array(12 + json.length + state.engine.byteLength);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(state.engine, 12 + json.length);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointState {
  const fail = (why: string): never => {
    throw new Error(`not a valid checkpoint: ${why}`);
  };
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) fail('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) fail(`unsupported version ${version}`);
  const jsonLength = dv.getUint32(8, true);
  if (12 + jsonLength > bytes.length) fail('truncated');
  let parsed: { loop?: LoopState; preprocessing?: FittedPreprocessing };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as typeof parsed;
  } catch {
    return fail('unreadable JSON part');
  }
  const loop = parsed.loop;
  if (!loop || !Number.isInteger(loop.epoch) || !Number.isInteger(loop.position) || !Number.isInteger(loop.step)) fail('no loop state');
  if (!parsed.preprocessing) fail('no preprocessing');
  // Checkpoints written before the health detectors existed have no state for them: they start afresh.
  const withHealth: LoopState = { ...loop!, health: loop!.health ?? freshHealthState() };
  return { loop: withHealth, preprocessing: parsed.preprocessing!, engine: bytes.slice(12 + jsonLength) };
}
