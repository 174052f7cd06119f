/**
 * What a network is, as data: the spec type (mapped from the REST job spec), its validation, its defaults, and the
 * plan derived from it (layers, parameter shapes, parameter count) — computed without allocating any buffer, so the
 * API can answer a dry run.
 *
 * A network is: inputs → [Gaussian input noise] → hidden layer 1 → [dropout] → … → hidden layer L → [dropout] →
 * output layer (fully-connected, identity) → loss. Counting as CS231n does (the input layer is not a layer), it has
 * L + 1 layers; a 3-4-2 network (one hidden layer of 4) has 26 parameters, a 3-4-4-1 network 41.
 */

/** Non-linearity of a hidden layer. */
export type Activation =
  /** f(z) = z */
  | 'identity'
  /** f(z) = 1 / (1 + e^−z) */
  | 'sigmoid'
  /** f(z) = tanh z */
  | 'tanh'
  /** f(z) = max(0, z) */
  | 'relu'
  /** f(z) = z for z > 0, α·z otherwise; α fixed (`alpha`, default 0.01, in [0, 1)). */
  | 'leaky-relu'
  /** f(z) = z for z > 0, α_j·z otherwise; one learned α per unit (He et al. 2015), starting at `alpha` (default 0.25). */
  | 'prelu'
  /** f = max over `pieces` (default 2) fully-connected pieces per unit (Goodfellow et al. 2013). */
  | 'maxout';

/**
 * Loss on the output scores s (n rows of `outputs`); every data loss is the mean over the rows of the batch.
 * - 'softmax':  cross-entropy of softmax(s), labels are class indices (Int32Array, one per row); outputs ≥ 2.
 * - 'logistic': sigmoid cross-entropy, each output an independent binary classifier. With outputs = 1, labels are 0/1
 *               (Int32Array) or targets in [0, 1] (Float32Array); with outputs > 1, either class indices (Int32Array,
 *               one-vs-all) or multi-label targets (Float32Array, n·outputs values in [0, 1]).
 * - 'svm':      hinge loss with margin 1. Outputs ≥ 2: multiclass (Weston–Watkins, Σ_{j≠y} max(0, s_j − s_y + 1)),
 *               labels are class indices. Outputs = 1: binary, max(0, 1 − t·s) with t = ±1 from labels 0/1 (Int32Array).
 * - 'l2':       ½·Σ_j (s_j − t_j)² per row (squared error summed over outputs, halved), targets Float32Array n·outputs.
 */
export type LossKind = 'softmax' | 'logistic' | 'svm' | 'l2';

/**
 * Weight initialization (biases start at 0):
 * - 'he':     N(0, 2/fan_in)                (He et al. 2015; default for relu, leaky-relu, prelu, maxout)
 * - 'xavier': N(0, 2/(fan_in + fan_out))    (Glorot & Bengio 2010; default for sigmoid, tanh, identity and the output layer)
 * - 'small':  0.01·N(0, 1)                  (the CS231n case-study recipe)
 */
export type InitScheme = 'he' | 'xavier' | 'small';

export interface HiddenLayerSpec {
  /** Units (neurons) of the layer: an integer ≥ 1. */
  units: number;
  activation: Activation;
  /** Leaky ReLU slope (default 0.01, in [0, 1)), or PReLU starting slope (default 0.25). Only for those two. */
  alpha?: number;
  /** Maxout pieces k per unit (default 2, integer ≥ 2). Only for maxout. */
  pieces?: number;
  /** Inverted dropout after this layer: probability of dropping a unit while training, in [0, 1). Default 0 (none). */
  dropout?: number;
  /** Overrides the network's `init` for this layer's weights. */
  init?: InitScheme;
}

export interface RegularizationSpec {
  /** λ of the L2 penalty ½·λ·Σw² over all weights (not biases, not PReLU slopes). Default 0. */
  l2?: number;
  /** λ of the L1 penalty λ·Σ|w| over all weights (not biases, not PReLU slopes). Default 0. */
  l1?: number;
}

export interface NetworkSpec {
  /** Width of an input row (features): an integer ≥ 1. */
  inputs: number;
  /** Hidden layers, first to last; may be empty (a linear/logistic/SVM classifier). */
  layers: HiddenLayerSpec[];
  /** Width of the output layer (see {@link LossKind}). */
  outputs: number;
  loss: LossKind;
  regularization?: RegularizationSpec;
  /** Standard deviation of Gaussian noise added to the inputs while training. Default 0 (none). */
  inputNoise?: number;
  /** Weight initialization of every layer; default per the layer's activation (see {@link InitScheme}). */
  init?: InitScheme;
}

/** A spec with every default filled in (what a network actually runs, and what its saved state records). */
export interface ResolvedLayerSpec {
  units: number;
  activation: Activation;
  alpha: number;
  pieces: number;
  dropout: number;
  init: InitScheme;
}

export interface ResolvedSpec {
  inputs: number;
  layers: ResolvedLayerSpec[];
  outputs: number;
  loss: LossKind;
  regularization: { l2: number; l1: number };
  inputNoise: number;
  /** Initialization of the output layer. */
  outputInit: InitScheme;
}

/** One problem found by {@link validateSpec}: where (a JSON path such as `layers[1].dropout`) and what. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** Thrown when a spec (or an option) is invalid; `issues` lists every problem found. */
export class SpecError extends Error {
  constructor(readonly issues: readonly SpecIssue[]) {
    super(`invalid network spec: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'SpecError';
  }
}

export const ACTIVATIONS: readonly Activation[] = ['identity', 'sigmoid', 'tanh', 'relu', 'leaky-relu', 'prelu', 'maxout'];
export const LOSSES: readonly LossKind[] = ['softmax', 'logistic', 'svm', 'l2'];
export const INIT_SCHEMES: readonly InitScheme[] = ['he', 'xavier', 'small'];

/** Upper bound on any layer width, to refuse absurd specs before allocating. */
export const MAX_UNITS = 1 << 20;

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_UNITS;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The default initialization for a layer with this activation. */
export function defaultInit(activation: Activation): InitScheme {
  return activation === 'relu' || activation === 'leaky-relu' || activation === 'prelu' || activation === 'maxout' ? 'he' : 'xavier';
}

/** Every problem of a spec (empty when valid). Accepts unknown input, so it can check parsed JSON. */
export function validateSpec(spec: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });
  if (typeof spec !== 'object' || spec === null) return [{ path: '', message: 'must be an object' }];
  const s = spec as Record<string, unknown>;
  if (!isPositiveInt(s.inputs)) bad('inputs', `must be an integer from 1 to ${MAX_UNITS}`);
  if (!isPositiveInt(s.outputs)) bad('outputs', `must be an integer from 1 to ${MAX_UNITS}`);
  if (!LOSSES.includes(s.loss as LossKind)) bad('loss', `must be one of ${LOSSES.join(', ')}`);
  else if (isPositiveInt(s.outputs) && s.outputs < 2 && s.loss === 'softmax') bad('outputs', 'softmax needs at least 2 outputs (use logistic or svm for one)');
  if (s.init !== undefined && !INIT_SCHEMES.includes(s.init as InitScheme)) bad('init', `must be one of ${INIT_SCHEMES.join(', ')}`);
  if (s.inputNoise !== undefined && !(isFiniteNumber(s.inputNoise) && s.inputNoise >= 0)) bad('inputNoise', 'must be a finite number ≥ 0');
  if (s.regularization !== undefined) {
    if (typeof s.regularization !== 'object' || s.regularization === null) bad('regularization', 'must be an object');
    else {
      const r = s.regularization as Record<string, unknown>;
      for (const key of ['l2', 'l1'] as const) {
        if (r[key] !== undefined && !(isFiniteNumber(r[key]) && r[key] >= 0)) bad(`regularization.${key}`, 'must be a finite number ≥ 0');
      }
    }
  }
  if (!Array.isArray(s.layers)) {
    bad('layers', 'must be an array');
    return issues;
  }
  s.layers.forEach((layer: unknown, i: number) => {
    const at = `layers[${i}]`;
    if (typeof layer !== 'object' || layer === null) return bad(at, 'must be an object');
    const l = layer as Record<string, unknown>;
    if (!isPositiveInt(l.units)) bad(`${at}.units`, `must be an integer from 1 to ${MAX_UNITS}`);
    if (!ACTIVATIONS.includes(l.activation as Activation)) bad(`${at}.activation`, `must be one of ${ACTIVATIONS.join(', ')}`);
    if (l.alpha !== undefined) {
      if (l.activation === 'leaky-relu') {
        if (!(isFiniteNumber(l.alpha) && l.alpha >= 0 && l.alpha < 1)) bad(`${at}.alpha`, 'must be a number in [0, 1)');
      } else if (l.activation === 'prelu') {
        if (!isFiniteNumber(l.alpha)) bad(`${at}.alpha`, 'must be a finite number');
      } else bad(`${at}.alpha`, 'only applies to leaky-relu and prelu');
    }
    if (l.pieces !== undefined) {
      if (l.activation !== 'maxout') bad(`${at}.pieces`, 'only applies to maxout');
      else if (!(typeof l.pieces === 'number' && Number.isInteger(l.pieces) && l.pieces >= 2 && l.pieces <= 64)) bad(`${at}.pieces`, 'must be an integer from 2 to 64');
    }
    if (l.dropout !== undefined && !(isFiniteNumber(l.dropout) && l.dropout >= 0 && l.dropout < 1)) bad(`${at}.dropout`, 'must be a number in [0, 1)');
    if (l.init !== undefined && !INIT_SCHEMES.includes(l.init as InitScheme)) bad(`${at}.init`, `must be one of ${INIT_SCHEMES.join(', ')}`);
  });
  return issues;
}

/** The spec with defaults filled in; throws {@link SpecError} when invalid. */
export function resolveSpec(spec: NetworkSpec): ResolvedSpec {
  const issues = validateSpec(spec);
  if (issues.length) throw new SpecError(issues);
  return {
    inputs: spec.inputs,
    layers: spec.layers.map((l) => ({
      units: l.units,
      activation: l.activation,
      alpha: l.activation === 'leaky-relu' ? l.alpha ?? 0.01 : l.activation === 'prelu' ? l.alpha ?? 0.25 : 0,
      pieces: l.activation === 'maxout' ? l.pieces ?? 2 : 1,
      dropout: l.dropout ?? 0,
      init: l.init ?? spec.init ?? defaultInit(l.activation),
    })),
    outputs: spec.outputs,
    loss: spec.loss,
    regularization: { l2: spec.regularization?.l2 ?? 0, l1: spec.regularization?.l1 ?? 0 },
    inputNoise: spec.inputNoise ?? 0,
    outputInit: spec.init ?? 'xavier',
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The plan: layers and parameter shapes.

export type LayerKind = 'noise' | 'dense' | 'maxout' | 'dropout';

/** What a parameter is for: weights are regularized, biases and PReLU slopes are not. */
export type ParamRole = 'weight' | 'bias' | 'alpha';

/** A parameter tensor of a layer, shaped (rows, cols) row-major. Weights are (inputs, outputs·pieces). */
export interface ParamShape {
  role: ParamRole;
  rows: number;
  cols: number;
}

export interface LayerPlan {
  /** 'noise', 'dense1'…, 'dropout1'…, 'output'. Hidden layer i (1-based) is 'dense{i}' (also for maxout). */
  name: string;
  kind: LayerKind;
  inputs: number;
  outputs: number;
  /** Non-linearity of dense/maxout layers ('identity' for the output layer); null for noise and dropout. */
  activation: Activation | null;
  params: ParamShape[];
  /** Number of parameters of the layer. */
  parameterCount: number;
  init: InitScheme | null;
  /** Leaky ReLU slope, or PReLU starting slope (0 otherwise). */
  alpha: number;
  /** Maxout pieces per unit (1 otherwise). */
  pieces: number;
  /** Dropout probability, or input-noise standard deviation (0 otherwise). */
  rate: number;
}

/** One row of the layer table a network reports. */
export interface LayerInfo {
  name: string;
  kind: LayerKind;
  activation: Activation | null;
  inputs: number;
  outputs: number;
  params: number;
}

export interface NetworkDescription {
  parameterCount: number;
  layers: LayerInfo[];
}

function layerPlan(
  name: string, kind: LayerKind, inputs: number, outputs: number, activation: Activation | null,
  params: ParamShape[], init: InitScheme | null, alpha: number, pieces: number, rate: number,
): LayerPlan {
  const parameterCount = params.reduce((sum, p) => sum + p.rows * p.cols, 0);
  return { name, kind, inputs, outputs, activation, params, parameterCount, init, alpha, pieces, rate };
}

/** The layers of a resolved spec, in forward order. */
export function planLayers(spec: ResolvedSpec): LayerPlan[] {
  const plans: LayerPlan[] = [];
  let width = spec.inputs;
  if (spec.inputNoise > 0) plans.push(layerPlan('noise', 'noise', width, width, null, [], null, 0, 1, spec.inputNoise));
  spec.layers.forEach((l, i) => {
    const name = `dense${i + 1}`;
    if (l.activation === 'maxout') {
      const cols = l.units * l.pieces;
      plans.push(layerPlan(name, 'maxout', width, l.units, 'maxout',
        [{ role: 'weight', rows: width, cols }, { role: 'bias', rows: 1, cols }], l.init, 0, l.pieces, 0));
    } else {
      const params: ParamShape[] = [{ role: 'weight', rows: width, cols: l.units }, { role: 'bias', rows: 1, cols: l.units }];
      if (l.activation === 'prelu') params.push({ role: 'alpha', rows: 1, cols: l.units });
      plans.push(layerPlan(name, 'dense', width, l.units, l.activation, params, l.init, l.alpha, 1, 0));
    }
    width = l.units;
    if (l.dropout > 0) plans.push(layerPlan(`dropout${i + 1}`, 'dropout', width, width, null, [], null, 0, 1, l.dropout));
  });
  plans.push(layerPlan('output', 'dense', width, spec.outputs, 'identity',
    [{ role: 'weight', rows: width, cols: spec.outputs }, { role: 'bias', rows: 1, cols: spec.outputs }], spec.outputInit, 0, 1, 0));
  return plans;
}

/** Parameter count and layer table of a spec, without allocating a network. Throws {@link SpecError} when invalid. */
export function describeNetwork(spec: NetworkSpec): NetworkDescription {
  const plans = planLayers(resolveSpec(spec));
  return {
    parameterCount: plans.reduce((sum, p) => sum + p.parameterCount, 0),
    layers: plans.map((p) => ({ name: p.name, kind: p.kind, activation: p.activation, inputs: p.inputs, outputs: p.outputs, params: p.parameterCount })),
  };
}
