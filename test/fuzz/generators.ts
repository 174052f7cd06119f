/**
 * fast-check arbitraries of fuzz cases, and the work budget that sizes them.
 *
 * Sizes: widths 1–1,024 (mostly ≤ 32, sometimes ≤ 256, rarely more), raw inputs 1–2,048 (likewise; 2 is common, for
 * decision grids), 0–4 hidden layers, batches 1–1,024 (any size, so also the ones that are not multiples of the 4×8
 * kernel tiles), evaluate/predict up to 3·maxBatch rows (chunked). Every activation, loss, optimizer, schedule,
 * initialization, preprocessing type, l2/l1, dropout and input noise.
 *
 * Budget: the float64 side (reference network and tolerance model) costs ≈ 20 multiply-adds per parameter per row of
 * a training step and ≈ 6 per row of inference; a case gets WORK_BUDGET of them (1 case in 25 gets BIG_BUDGET), and
 * larger cases are scaled down deterministically — rows first, then the operation list is cut — so that a minute runs
 * a few thousand operations and big widths appear, rarely.
 */
import fc from 'fast-check';
import { OPTIMIZERS, type OptimizerConfig, type ScheduleConfig } from '../../src/engine/optimizers.js';
import { PREPROCESSING_TYPES, type PreprocessingSpec } from '../../src/engine/preprocessing.js';
import { ACTIVATIONS, INIT_SCHEMES, LOSSES, type HiddenLayerSpec } from '../../src/engine/spec.js';
import type { FuzzCase, Op } from './case.js';

export const WORK_BUDGET = 6e6;
export const BIG_BUDGET = 1.5e8;
/** Largest parameter count (2,048 inputs × 1,024 units and a bit). */
const MAX_PARAMS = 2_500_000;
/** PCA/whitening fit an eigen decomposition of features² values: kept to ≤ 256 raw features. */
const MAX_PCA_FEATURES = 256;

const sized = (small: number, medium: number, large: number, max: number) => fc.oneof(
  { weight: small, arbitrary: fc.integer({ min: 1, max: 32 }) },
  { weight: medium, arbitrary: fc.integer({ min: 33, max: 256 }) },
  { weight: large, arbitrary: fc.integer({ min: 257, max }) },
);
/** 10^(e/100) for e in [lo·100, hi·100]: log-uniform, shrinking towards 10^lo. */
const logUniform = (lo: number, hi: number) => fc.integer({ min: Math.round(lo * 100), max: Math.round(hi * 100) }).map((e) => Number(Math.pow(10, e / 100).toPrecision(3)));
const maybe = <T>(arb: fc.Arbitrary<T>, none: T, weightNone = 2) => fc.oneof({ weight: weightNone, arbitrary: fc.constant(none) }, { weight: 1, arbitrary: arb });

/** A hidden layer of any activation (alpha, pieces, dropout, init as they apply) with `units` units. */
export const layerArbOf = (units: fc.Arbitrary<number>): fc.Arbitrary<HiddenLayerSpec> => fc.record({
  units,
  activation: fc.constantFrom(...ACTIVATIONS),
  alpha: fc.integer({ min: 0, max: 99 }),
  pieces: fc.integer({ min: 2, max: 5 }),
  dropout: maybe(fc.integer({ min: 1, max: 90 }).map((p) => p / 100), 0, 3),
  init: fc.option(fc.constantFrom(...INIT_SCHEMES), { freq: 4 }),
}).map(({ units, activation, alpha, pieces, dropout, init }) => {
  const l: HiddenLayerSpec = { units, activation };
  if (activation === 'leaky-relu') l.alpha = alpha / 100;
  if (activation === 'prelu') l.alpha = (alpha - 30) / 40;
  if (activation === 'maxout') l.pieces = pieces;
  if (dropout > 0) l.dropout = dropout;
  if (init) l.init = init;
  return l;
});

const layerArb = layerArbOf(sized(12, 4, 1, 1024));

export const scheduleArb: fc.Arbitrary<ScheduleConfig | null> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant({ type: 'constant' as const }) },
  { weight: 1, arbitrary: fc.record({ every: fc.integer({ min: 1, max: 5 }), factor: fc.integer({ min: 1, max: 100 }) }).map(({ every, factor }) => ({ type: 'step' as const, every, factor: factor / 100 })) },
  { weight: 1, arbitrary: logUniform(-3, 0).map((decay) => ({ type: 'exponential' as const, decay })) },
  { weight: 1, arbitrary: fc.record({ steps: fc.integer({ min: 1, max: 12 }), min: maybe(logUniform(-5, -3), 0) }).map(({ steps, min }) => (min > 0 ? { type: 'cosine' as const, steps, minLearningRate: min } : { type: 'cosine' as const, steps })) },
);

export const optimizerArb: fc.Arbitrary<OptimizerConfig> = fc.record({
  type: fc.constantFrom(...OPTIMIZERS),
  plainRate: logUniform(-4, -0.5),
  adaptiveRate: logUniform(-4, -1.3),
  momentum: maybe(fc.integer({ min: 0, max: 99 }).map((m) => m / 100), -1),
  decay: maybe(fc.integer({ min: 50, max: 999 }).map((d) => d / 1000), -1),
  beta1: maybe(fc.integer({ min: 0, max: 99 }).map((b) => b / 100), -1),
  beta2: maybe(fc.integer({ min: 900, max: 9999 }).map((b) => b / 10000), -1),
  epsilon: maybe(logUniform(-10, -4), -1),
  schedule: scheduleArb,
}).map((o) => {
  const adaptive = o.type === 'adagrad' || o.type === 'rmsprop' || o.type === 'adam';
  const c: Record<string, unknown> = { type: o.type, learningRate: adaptive ? o.adaptiveRate : o.plainRate };
  if ((o.type === 'momentum' || o.type === 'nesterov') && o.momentum >= 0) c.momentum = o.momentum;
  if (o.type === 'rmsprop' && o.decay >= 0) c.decay = o.decay;
  if (o.type === 'adam' && o.beta1 >= 0) c.beta1 = o.beta1;
  if (o.type === 'adam' && o.beta2 >= 0) c.beta2 = o.beta2;
  if (adaptive && o.epsilon >= 0) c.epsilon = o.epsilon;
  if (o.schedule) c.schedule = o.schedule;
  return c as unknown as OptimizerConfig;
});

const opArb = fc.record({
  kind: fc.oneof(
    { weight: 8, arbitrary: fc.constant('train' as const) },
    { weight: 3, arbitrary: fc.constant('evaluate' as const) },
    { weight: 3, arbitrary: fc.constant('predict' as const) },
    ...(['layerStats', 'save', 'restore', 'rewind', 'export', 'grid'] as const).map((k) => ({ weight: 1, arbitrary: fc.constant(k) })),
  ),
  /** rows as a fraction (per mille) of maxBatch (train) or 3·maxBatch (evaluate, predict) */
  fraction: fc.integer({ min: 1, max: 1000 }),
  start: fc.nat({ max: 4096 }),
  stats: fc.boolean(),
  resolution: fc.integer({ min: 2, max: 12 }),
});

const preprocessingArb = fc.record({
  type: fc.constantFrom(...PREPROCESSING_TYPES),
  components: fc.integer({ min: 1, max: 100 }),
  standardize: fc.boolean(),
  epsilon: maybe(logUniform(-6, -1), -1),
});

/** Raw generated values; `normalize` turns them into a valid case within its budget. */
export const rawCaseArb = fc.record({
  features: fc.oneof({ weight: 3, arbitrary: fc.constant(2) }, { weight: 10, arbitrary: sized(10, 4, 1, 2048) }),
  preprocessing: preprocessingArb,
  layers: fc.array(layerArb, { maxLength: 4 }),
  outputs: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 11, max: 64 }) }),
  loss: fc.constantFrom(...LOSSES),
  floatTargets: fc.boolean(),
  l2: maybe(logUniform(-6, -1), 0),
  l1: maybe(logUniform(-7, -2), 0, 3),
  inputNoise: maybe(fc.integer({ min: 1, max: 100 }).map((s) => s / 100), 0, 3),
  init: fc.option(fc.constantFrom(...INIT_SCHEMES), { freq: 3 }),
  optimizer: optimizerArb,
  seed: fc.nat({ max: 2 ** 31 - 1 }),
  dataSeed: fc.nat({ max: 2 ** 31 - 1 }),
  maxBatch: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 2, arbitrary: fc.integer({ min: 65, max: 1024 }) }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 12 }),
  big: fc.integer({ min: 0, max: 24 }),
});

export type RawCase = typeof rawCaseArb extends fc.Arbitrary<infer T> ? T : never;

function parameterCount(inputs: number, layers: HiddenLayerSpec[], outputs: number): number {
  let width = inputs, count = 0;
  for (const l of layers) {
    const k = l.activation === 'maxout' ? l.pieces ?? 2 : 1;
    count += (width + 1) * l.units * k + (l.activation === 'prelu' ? l.units : 0);
    width = l.units;
  }
  return count + (width + 1) * outputs;
}

/** Estimated float64 work of a case (see the top of the file). */
export function caseCost(c: FuzzCase, inputs: number): number {
  const P = parameterCount(inputs, c.layers, c.outputs);
  let cost = c.rows * c.features * 20;
  if (c.preprocessing.type === 'pca' || c.preprocessing.type === 'whiten') cost += c.rows * c.features ** 2 + 10 * c.features ** 3;
  for (const op of c.ops) {
    cost += 40 * P; // snapshots and comparisons
    if (op.kind === 'train') cost += 20 * op.rows * P;
    else if (op.kind === 'evaluate' || op.kind === 'predict') cost += 6 * op.rows * P;
    else if (op.kind === 'grid') cost += 6 * op.resolution ** 2 * P;
  }
  return cost;
}

export function normalize(raw: RawCase): FuzzCase {
  const features = raw.features;
  let preprocessing: PreprocessingSpec;
  const pre = raw.preprocessing;
  const projects = pre.type === 'pca' || pre.type === 'whiten';
  if (projects && features > MAX_PCA_FEATURES) preprocessing = { type: 'standardize' };
  else if (pre.type === 'pca') preprocessing = { type: 'pca', components: Math.max(1, Math.ceil((pre.components / 100) * features)), standardize: pre.standardize };
  else if (pre.type === 'whiten') {
    const w: PreprocessingSpec = { type: 'whiten', components: Math.max(1, Math.ceil((pre.components / 100) * features)), standardize: pre.standardize };
    if (pre.epsilon > 0) w.epsilon = pre.epsilon;
    preprocessing = w;
  } else preprocessing = { type: pre.type };
  const inputs = projects && preprocessing.type !== 'standardize' ? (preprocessing as { components: number }).components : features;

  const layers = raw.layers.map((l) => ({ ...l }));
  const outputs = raw.loss === 'softmax' ? Math.max(2, raw.outputs) : raw.outputs;
  // Parameter cap: fewer maxout pieces, then narrower layers (widest first).
  while (parameterCount(inputs, layers, outputs) > MAX_PARAMS) {
    const maxout = layers.find((l) => l.activation === 'maxout' && (l.pieces ?? 2) > 2);
    if (maxout) {
      maxout.pieces = 2;
      continue;
    }
    const widest = layers.reduce((a, b) => (b.units > a.units ? b : a));
    widest.units = Math.max(1, Math.floor(widest.units / 2));
  }

  const maxBatch = raw.maxBatch;
  const ops: Op[] = raw.ops.map((o) => {
    const trainRows = Math.max(1, Math.ceil((o.fraction / 1000) * maxBatch));
    const inferRows = Math.max(1, Math.ceil((o.fraction / 1000) * 3 * maxBatch));
    switch (o.kind) {
      case 'train': return { kind: 'train', rows: trainRows, start: o.start, stats: o.stats };
      case 'evaluate': return { kind: 'evaluate', rows: inferRows, start: o.start };
      case 'predict': return { kind: 'predict', rows: inferRows, start: o.start };
      case 'grid': return features === 2 && raw.loss !== 'l2' ? { kind: 'grid', resolution: o.resolution } : { kind: 'predict', rows: inferRows, start: o.start };
      default: return { kind: o.kind };
    }
  });
  const c: FuzzCase = {
    features, preprocessing, layers, outputs, loss: raw.loss, floatTargets: raw.loss === 'logistic' && raw.floatTargets,
    regularization: { l2: raw.l2, l1: raw.l1 }, inputNoise: raw.inputNoise, init: raw.init, optimizer: raw.optimizer,
    seed: raw.seed, dataSeed: raw.dataSeed, rows: 0, maxBatch, ops,
  };
  // Budget: scale the rows down, then cut operations.
  const budget = raw.big === 0 ? BIG_BUDGET : WORK_BUDGET;
  const rowsOf = () => Math.max(2, ...c.ops.map((o) => ('rows' in o ? o.rows : 0)));
  c.rows = rowsOf();
  for (let guard = 0; caseCost(c, inputs) > budget && guard < 40; guard++) {
    const rowsLeft = c.ops.some((o) => 'rows' in o && o.rows > 1);
    if (rowsLeft) {
      // halve the rows and the batch size (so that evaluate/predict keep their number of chunks)
      for (const o of c.ops) if ('rows' in o) o.rows = Math.max(1, Math.floor(o.rows / 2));
      c.maxBatch = Math.max(1, Math.floor(c.maxBatch / 2));
    } else if (c.ops.length > 1) c.ops.length = Math.ceil(c.ops.length / 2);
    else break;
    c.rows = rowsOf();
  }
  for (const o of c.ops) if (o.kind === 'train') o.rows = Math.min(o.rows, c.maxBatch);
  for (const o of c.ops) if ('start' in o) o.start = o.start % Math.max(1, c.rows - o.rows + 1);
  return c;
}

export const caseArb: fc.Arbitrary<FuzzCase> = rawCaseArb.map(normalize);
