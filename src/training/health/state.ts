/**
 * The training-health detector's state: plain JSON, kept in the loop state and so in every checkpoint, so a resumed job
 * continues the detectors exactly where the checkpoint left them (it neither raises again what was raised before the
 * checkpoint, nor misses what comes after).
 */
import type { Config } from '../../config.js';

/** The thresholds (configuration, src/config.ts). */
export type HealthThresholds = Config['health'];

/**
 * One epoch end, as the curve rules see it: the training split's loss, the validation loss (null without one) and the
 * validation quality metric OVERFITTING also looks at (accuracy, or the monitored RMSE/R²; null without one, and in
 * states older than the field).
 */
export interface EpochPoint {
  epoch: number;
  train: number;
  val: number | null;
  quality?: number | null;
}

export interface HealthState {
  /** Keys ({@link warningKey}) of the warnings raised so far: each is raised once per job, never again. */
  raised: string[];
  /** Per-layer conditions not raised yet: key → metrics records in a row the condition held. */
  streaks: Record<string, number>;
  /** The first metrics record's training loss: where the loss started. */
  firstLoss: number | null;
  /** The most recent epoch ends, oldest first (as many as the curve rules look at). */
  recent: EpochPoint[];
  /** The lowest training loss of the epoch ends that have left `recent`. */
  bestTrainBefore: number | null;
}

export function freshHealthState(): HealthState {
  return { raised: [], streaks: {}, firstLoss: null, recent: [], bestTrainBefore: null };
}

/** A warning's identity within a job: its code, and its layer for per-layer warnings. */
export function warningKey(code: string, layer: string | null): string {
  return layer === null ? code : `${code}:${layer}`;
}
