/**
 * The synthetic kinds, their defaults, and `generateSynthetic`, which is what POST /v1/datasets/synthetic stores:
 * the kind's generator output with its rows shuffled by the same seed, so that any contiguous slice (a validation
 * split) holds every class. Same kind, params and seed → the same bytes.
 */
import { blobs } from './blobs.js';
import { circles } from './circles.js';
import { moons } from './moons.js';
import { shuffleRows } from '../shuffle.js';
import { Rng } from './rng.js';
import { sine } from './sine.js';
import { spiral } from './spiral.js';
import type { SyntheticParams, SyntheticSet } from './types.js';
import { xor } from './xor.js';

export { blobs, circles, moons, sine, spiral, xor };
export type { SyntheticParams, SyntheticSet };

export const SYNTHETIC_KINDS = ['spiral', 'circles', 'xor', 'moons', 'blobs', 'sine'] as const;
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];

export interface SyntheticKindInfo {
  generate: (params: SyntheticParams, seed: number) => SyntheticSet;
  task: 'classification' | 'regression';
  defaults: SyntheticParams;
  /** The only class count the kind makes (xor, moons: 2); null when `classes` is free. Regression: 0. */
  fixedClasses: number | null;
}

export const SYNTHETIC: Readonly<Record<SyntheticKind, SyntheticKindInfo>> = {
  spiral: { generate: spiral, task: 'classification', defaults: { n: 100, classes: 3, noise: 0.2 }, fixedClasses: null },
  circles: { generate: circles, task: 'classification', defaults: { n: 100, classes: 2, noise: 0.05 }, fixedClasses: null },
  xor: { generate: xor, task: 'classification', defaults: { n: 100, classes: 2, noise: 0.1 }, fixedClasses: 2 },
  moons: { generate: moons, task: 'classification', defaults: { n: 100, classes: 2, noise: 0.1 }, fixedClasses: 2 },
  blobs: { generate: blobs, task: 'classification', defaults: { n: 100, classes: 3, noise: 1 }, fixedClasses: null },
  sine: { generate: sine, task: 'regression', defaults: { n: 200, classes: 0, noise: 0.1 }, fixedClasses: 0 },
};

/** Rows a kind makes for these params. */
export function syntheticRows(kind: SyntheticKind, params: SyntheticParams): number {
  return SYNTHETIC[kind].task === 'regression' ? params.n : params.n * params.classes;
}

export function generateSynthetic(kind: SyntheticKind, params: SyntheticParams, seed: number): SyntheticSet {
  const set = SYNTHETIC[kind].generate(params, seed);
  return shuffleRows(set, new Rng(seed ^ 0x5f3759df));
}
