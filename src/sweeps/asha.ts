/**
 * Asynchronous successive halving (ASHA, Li et al. 2018), the promotion rule: rungs at minEpochs·η^k epochs below
 * maxEpochs. A trial that reaches a rung is compared, by its metric at that rung, with every trial of the sweep that
 * reached the rung so far (itself included): it goes on when it ranks in the top ⌊n/η⌋ of those n values, and is pruned
 * otherwise. While fewer than η trials reached the rung (⌊n/η⌋ = 0), it goes on only when it is the best of them (as
 * Optuna's SuccessiveHalvingPruner does): trials are never paused waiting for later ones.
 */
import type { Direction } from './body-schema.js';

/** The rungs (epochs) at which a trial is judged: minEpochs·η^k for k = 0, 1, … while below maxEpochs. */
export function ashaRungs(minEpochs: number, maxEpochs: number, eta: number): number[] {
  const rungs: number[] = [];
  for (let r = minEpochs; r < maxEpochs; r *= eta) rungs.push(r);
  return rungs;
}

export interface RungDecision {
  promote: boolean;
  /** How many trials reached the rung (this one included), and how many of them go on. */
  reached: number;
  kept: number;
  /** The value a trial must match or beat to go on. */
  cutoff: number;
}

/** Whether `value` ranks among the top ⌊n/η⌋ (at least the best one) of `competing` (which includes it). */
export function decideRung(value: number, competing: readonly number[], eta: number, direction: Direction): RungDecision {
  const sorted = [...competing].sort((a, b) => (direction === 'min' ? a - b : b - a));
  const kept = Math.max(1, Math.floor(sorted.length / eta));
  const cutoff = sorted[kept - 1]!;
  const promote = direction === 'min' ? value <= cutoff : value >= cutoff;
  return { promote, reached: sorted.length, kept, cutoff };
}
