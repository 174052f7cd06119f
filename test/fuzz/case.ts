/**
 * What the differential fuzzer runs: a case is a network spec, an optimizer, a preprocessing of generated data, seeds,
 * and a sequence of operations. Cases are plain JSON, so a failing (shrunk) case can be printed and replayed with
 * `npm run test:fuzz -- --case '<json>'`.
 */
import type { OptimizerConfig } from '../../src/engine/optimizers.js';
import type { PreprocessingSpec } from '../../src/engine/preprocessing.js';
import type { HiddenLayerSpec, InitScheme, LossKind } from '../../src/engine/spec.js';

export type Op =
  /** trainStep on rows [start, start + rows) of the data (rows ≤ maxBatch), with or without layer statistics. */
  | { kind: 'train'; rows: number; start: number; stats: boolean }
  /** evaluate on rows [start, start + rows) (may exceed maxBatch: evaluate chunks). */
  | { kind: 'evaluate'; rows: number; start: number }
  /** predict on rows [start, start + rows). */
  | { kind: 'predict'; rows: number; start: number }
  /** layerStats(). */
  | { kind: 'layerStats' }
  /** saveState(); the bytes are kept for 'rewind'. */
  | { kind: 'save' }
  /** saveState() and restoreNetwork() into a fresh network, which carries on; the old one carries on beside it as a twin. */
  | { kind: 'restore' }
  /** restoreState() of the last 'save' into the current network(s) (nothing without a save). */
  | { kind: 'rewind' }
  /** exportWeights(). */
  | { kind: 'export' }
  /** A live decision grid (src/training/decision-grids.ts); only for 2 raw features and a classification loss. */
  | { kind: 'grid'; resolution: number };

export type OpKind = Op['kind'];
export const OP_KINDS: readonly OpKind[] = ['train', 'evaluate', 'predict', 'layerStats', 'save', 'restore', 'rewind', 'export', 'grid'];

export interface FuzzCase {
  /** Raw features of the generated data (the network's inputs are the preprocessing's outputs). */
  features: number;
  preprocessing: PreprocessingSpec;
  layers: HiddenLayerSpec[];
  outputs: number;
  loss: LossKind;
  /** logistic only: float targets in [0, 1] instead of labels. */
  floatTargets: boolean;
  regularization: { l2: number; l1: number };
  inputNoise: number;
  init: InitScheme | null;
  optimizer: OptimizerConfig;
  /** The network's seed. */
  seed: number;
  /** Seed of the generated data. */
  dataSeed: number;
  /** Rows of generated data (the preprocessing is fitted on all of them). */
  rows: number;
  maxBatch: number;
  ops: Op[];
}

/** One line describing a case, for progress output. */
export function describeCase(c: FuzzCase): string {
  const widths = c.layers.map((l) => `${l.units}${l.activation === 'maxout' ? `maxout${l.pieces ?? 2}` : l.activation}${l.dropout ? `/d${l.dropout.toFixed(2)}` : ''}`);
  const pre = c.preprocessing.type + ('components' in c.preprocessing && c.preprocessing.components ? `${c.preprocessing.components}` : '');
  return `${c.features}(${pre})-${[...widths, `${c.outputs}${c.loss}`].join('-')} ${c.optimizer.type} batch≤${c.maxBatch} ops ${c.ops.map((o) => o.kind).join(',')}`;
}
