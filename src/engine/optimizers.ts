/**
 * Optimizers, simplest first, as presets of two general updates (tinygrad's optim.py idea), and learning-rate schedules.
 *
 *   sgd, momentum, nesterov  → the momentum update (CS231n form): v = μ·v − lr·g;  w += v
 *                              (sgd: μ = 0, no state; nesterov: w += −μ·v_prev + (1 + μ)·v)
 *   adagrad, rmsprop, adam   → the adaptive update:  m = β₁·m + (1 − β₁)·g  (β₁ = 0: m = g, no state)
 *                                                    v = β₂·v + γ·g²
 *                                                    w −= lr·(m / c₁) / (√(v / c₂) + ε)
 *                              adagrad: β₂ = 1, γ = 1 (a running sum); rmsprop: β₂ = ρ, γ = 1 − ρ;
 *                              adam: γ = 1 − β₂ and bias corrections c₁ = 1 − β₁^t, c₂ = 1 − β₂^t (else c = 1).
 *
 * Updated weights and momentum velocities smaller than FLUSH_BELOW (1e-30) in magnitude are flushed to zero (see
 * ./backend.ts): a denormal weight slows every matmul that reads it. The moments m and v of adagrad, rmsprop and adam are
 * NOT flushed: their update divides by √v + ε, so zeroing a tiny v (or m) changes the step whenever ε is small — with
 * ε = 1e-16 and g ≈ 1e-20, a flushed v turned a step of ≈ lr into 1e-4·lr. Adam stays Adam for every ε > 0 that
 * validation accepts. The price: a moment that decays for tens of thousands of steps with an exactly zero gradient (a
 * dead unit's bias without a penalty) may pass through the denormal range, slowing only its own element's update.
 *
 * The gradient is that of the total loss (the network adds the regularization gradient first). The state (the step
 * counter t and the m/v buffers, laid out like the parameters) is all an optimizer has; it saves and restores exactly.
 */
import { FLUSH_BELOW, type Backend, type Real } from './backend.js';
import { opsOf, type Ops, type Penalty, type UpdateStep } from './ops.js';
import type { SpecIssue } from './spec.js';
import { SpecError } from './spec.js';

/** Learning rate as a function of t, the number of updates done before this one (0 for the first). */
export type ScheduleConfig =
  /** lr */
  | { type: 'constant' }
  /** lr·factor^⌊t / every⌋ */
  | { type: 'step'; every: number; factor: number }
  /** lr·e^(−decay·t) */
  | { type: 'exponential'; decay: number }
  /** min + ½·(lr − min)·(1 + cos(π·min(t, steps)/steps)); min = minLearningRate, default 0 */
  | { type: 'cosine'; steps: number; minLearningRate?: number };

interface Common {
  /** Base learning rate (> 0). */
  learningRate: number;
  /** Default constant. */
  schedule?: ScheduleConfig;
}

export type OptimizerConfig =
  | ({ type: 'sgd' } & Common)
  /** momentum: μ in [0, 1), default 0.9 */
  | ({ type: 'momentum'; momentum?: number } & Common)
  | ({ type: 'nesterov'; momentum?: number } & Common)
  /** epsilon: default 1e-8 */
  | ({ type: 'adagrad'; epsilon?: number } & Common)
  /** decay: ρ in [0, 1), default 0.99; epsilon: default 1e-8 */
  | ({ type: 'rmsprop'; decay?: number; epsilon?: number } & Common)
  /** beta1: default 0.9; beta2: default 0.999; epsilon: default 1e-8 */
  | ({ type: 'adam'; beta1?: number; beta2?: number; epsilon?: number } & Common);

export type OptimizerType = OptimizerConfig['type'];
export const OPTIMIZERS: readonly OptimizerType[] = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'];

/** The general update an optimizer config stands for. */
export type UpdateRule =
  | { family: 'momentum'; momentum: number; nesterov: boolean }
  | { family: 'adaptive'; beta1: number; beta2: number; gamma: number; epsilon: number; biasCorrection: boolean };

/** A config with its defaults filled in, and the rule it maps to. */
export interface ResolvedOptimizer {
  type: OptimizerType;
  learningRate: number;
  schedule: ScheduleConfig;
  rule: UpdateRule;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every problem of an optimizer config (empty when valid); paths are relative to the config. */
export function validateOptimizer(config: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });
  if (typeof config !== 'object' || config === null) return [{ path: '', message: 'must be an object' }];
  const c = config as Record<string, unknown>;
  if (!OPTIMIZERS.includes(c.type as OptimizerType)) bad('type', `must be one of ${OPTIMIZERS.join(', ')}`);
  if (!(finite(c.learningRate) && c.learningRate > 0)) bad('learningRate', 'must be a finite number > 0');
  const unit = (key: string) => {
    if (c[key] !== undefined && !(finite(c[key]) && c[key] >= 0 && c[key] < 1)) bad(key, 'must be a number in [0, 1)');
  };
  for (const key of ['momentum', 'decay', 'beta1', 'beta2']) unit(key);
  // ε ≥ 1e-30: a normal float32 (the kernels compute in float32), so √v + ε is never 0 — a smaller ε rounds to 0 and
  // turns the step of a parameter with zero gradient into 0/0.
  if (c.epsilon !== undefined && !(finite(c.epsilon) && c.epsilon >= 1e-30 && c.epsilon <= 1)) bad('epsilon', 'must be a number from 1e-30 to 1');
  const s = c.schedule as Record<string, unknown> | undefined;
  if (s !== undefined) {
    if (typeof s !== 'object' || s === null) bad('schedule', 'must be an object');
    else if (s.type === 'step') {
      if (!(Number.isInteger(s.every) && (s.every as number) >= 1)) bad('schedule.every', 'must be an integer ≥ 1');
      if (!(finite(s.factor) && s.factor > 0 && s.factor <= 1)) bad('schedule.factor', 'must be a number in (0, 1]');
    } else if (s.type === 'exponential') {
      if (!(finite(s.decay) && s.decay >= 0)) bad('schedule.decay', 'must be a finite number ≥ 0');
    } else if (s.type === 'cosine') {
      if (!(Number.isInteger(s.steps) && (s.steps as number) >= 1)) bad('schedule.steps', 'must be an integer ≥ 1');
      if (s.minLearningRate !== undefined && !(finite(s.minLearningRate) && s.minLearningRate >= 0)) bad('schedule.minLearningRate', 'must be a finite number ≥ 0');
    } else if (s.type !== 'constant') bad('schedule.type', 'must be one of constant, step, exponential, cosine');
  }
  return issues;
}

/** Fills the defaults; throws SpecError when invalid. */
export function resolveOptimizer(config: OptimizerConfig): ResolvedOptimizer {
  const issues = validateOptimizer(config);
  if (issues.length) throw new SpecError(issues.map((i) => ({ path: `optimizer.${i.path}`, message: i.message })));
  const base = { type: config.type, learningRate: config.learningRate, schedule: config.schedule ?? { type: 'constant' as const } };
  switch (config.type) {
    case 'sgd': return { ...base, rule: { family: 'momentum', momentum: 0, nesterov: false } };
    case 'momentum': return { ...base, rule: { family: 'momentum', momentum: config.momentum ?? 0.9, nesterov: false } };
    case 'nesterov': return { ...base, rule: { family: 'momentum', momentum: config.momentum ?? 0.9, nesterov: true } };
    case 'adagrad':
      return { ...base, rule: { family: 'adaptive', beta1: 0, beta2: 1, gamma: 1, epsilon: config.epsilon ?? 1e-8, biasCorrection: false } };
    case 'rmsprop': {
      const rho = config.decay ?? 0.99;
      return { ...base, rule: { family: 'adaptive', beta1: 0, beta2: rho, gamma: 1 - rho, epsilon: config.epsilon ?? 1e-8, biasCorrection: false } };
    }
    case 'adam': {
      const beta2 = config.beta2 ?? 0.999;
      return { ...base, rule: { family: 'adaptive', beta1: config.beta1 ?? 0.9, beta2, gamma: 1 - beta2, epsilon: config.epsilon ?? 1e-8, biasCorrection: true } };
    }
  }
}

/** The learning rate of update number t (0-based) under a schedule. */
export function scheduledRate(learningRate: number, schedule: ScheduleConfig, t: number): number {
  switch (schedule.type) {
    case 'constant': return learningRate;
    case 'step': return learningRate * Math.pow(schedule.factor, Math.floor(t / schedule.every));
    case 'exponential': return learningRate * Math.exp(-schedule.decay * t);
    case 'cosine': {
      const min = schedule.minLearningRate ?? 0;
      return min + 0.5 * (learningRate - min) * (1 + Math.cos((Math.PI * Math.min(t, schedule.steps)) / schedule.steps));
    }
  }
}

// The two updates. w, g and the state buffers have the same layout; `length` elements from 0. -------------------------

/**
 * Momentum family: μ = 0 is plain SGD (v unused, may be null). Returns Σ g² (the squared gradient norm comes almost for
 * free in the same pass, so a training loop never needs a pass of its own).
 */
export function momentumUpdate(w: Real, g: Real, v: Real | null, length: number, lr: number, mu: number, nesterov: boolean): number {
  let s = 0;
  if (v === null || mu === 0) {
    for (let i = 0; i < length; i++) {
      const gi = g[i];
      s += gi * gi;
      const wi = w[i] - lr * gi;
      w[i] = Math.abs(wi) < FLUSH_BELOW ? 0 : wi;
    }
  } else if (!nesterov) {
    for (let i = 0; i < length; i++) {
      const gi = g[i];
      s += gi * gi;
      const vi = mu * v[i] - lr * gi;
      v[i] = Math.abs(vi) < FLUSH_BELOW ? 0 : vi;
      const wi = w[i] + vi;
      w[i] = Math.abs(wi) < FLUSH_BELOW ? 0 : wi;
    }
  } else {
    for (let i = 0; i < length; i++) {
      const gi = g[i];
      s += gi * gi;
      const prev = v[i];
      const vi = mu * prev - lr * gi;
      v[i] = Math.abs(vi) < FLUSH_BELOW ? 0 : vi;
      const wi = w[i] - mu * prev + (1 + mu) * vi;
      w[i] = Math.abs(wi) < FLUSH_BELOW ? 0 : wi;
    }
  }
  return s;
}

/** Adaptive family (adagrad, rmsprop, adam); m may be null when β₁ = 0. Returns Σ g². */
export function adaptiveUpdate(
  w: Real, g: Real, m: Real | null, v: Real, length: number,
  lr: number, beta1: number, beta2: number, gamma: number, epsilon: number, c1: number, c2: number,
): number {
  const step = lr / c1, inv2 = 1 / c2;
  let s = 0;
  if (m === null || beta1 === 0) {
    for (let i = 0; i < length; i++) {
      const gi = g[i];
      const g2 = gi * gi;
      s += g2;
      const vi = beta2 * v[i] + gamma * g2;
      v[i] = vi;
      const wi = w[i] - (step * gi) / (Math.sqrt(vi * inv2) + epsilon);
      w[i] = Math.abs(wi) < FLUSH_BELOW ? 0 : wi;
    }
  } else {
    for (let i = 0; i < length; i++) {
      const gi = g[i];
      const g2 = gi * gi;
      s += g2;
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + gamma * g2;
      m[i] = mi;
      v[i] = vi;
      const wi = w[i] - (step * mi) / (Math.sqrt(vi * inv2) + epsilon);
      w[i] = Math.abs(wi) < FLUSH_BELOW ? 0 : wi;
    }
  }
  return s;
}

/** What one update did. */
export interface UpdateResult {
  learningRate: number;
  /** Σ g² over all parameters: the squared L2 norm of the gradient the update used (the penalty's gradient included). */
  gradSquares: number;
  /** The penalty's value ½·l2·Σw² + l1·Σ|w| at the weights before the update (0 without a penalty). */
  regLoss: number;
}

/** The saved form of an optimizer: update count and state buffers (in the parameter layout), copied. */
export interface OptimizerState<T extends Real> {
  step: number;
  buffers: T[];
}

export class Optimizer<T extends Real> {
  readonly config: ResolvedOptimizer;
  /** State buffers: [v] for momentum/nesterov, [] for sgd, [v] for adagrad/rmsprop (the g² accumulator), [m, v] for adam. */
  readonly buffers: readonly T[];
  private t = 0;
  private readonly ops: Ops<T>;

  constructor(config: OptimizerConfig, backend: Backend<T>, readonly length: number) {
    this.config = resolveOptimizer(config);
    const rule = this.config.rule;
    const count = rule.family === 'momentum' ? (rule.momentum > 0 ? 1 : 0) : rule.beta1 > 0 ? 2 : 1;
    this.buffers = Array.from({ length: count }, (_, i) => backend.alloc(length, `optimizer state ${i}`));
    this.ops = opsOf(backend);
  }

  /** Updates done so far. */
  get step(): number {
    return this.t;
  }

  /** The learning rate the next update uses (or update number `t`). */
  learningRate(t = this.t): number {
    return scheduledRate(this.config.learningRate, this.config.schedule, t);
  }

  /**
   * One update of `w` from `g`: the gradient of the total loss, or — with a penalty — of the data loss, the penalty's
   * gradient being added to `g` first (in the same pass of the backend's ops; see ./ops.ts).
   */
  update(w: T, g: T, penalty: Penalty | null = null): UpdateResult {
    const learningRate = this.learningRate();
    const rule = this.config.rule;
    this.t++;
    let step: UpdateStep, m: T | null = null, v: T | null;
    if (rule.family === 'momentum') {
      step = { kind: 'momentum', learningRate, momentum: rule.momentum, nesterov: rule.nesterov };
      v = this.buffers[0] ?? null;
    } else {
      const c1 = rule.biasCorrection ? 1 - Math.pow(rule.beta1, this.t) : 1;
      const c2 = rule.biasCorrection ? 1 - Math.pow(rule.beta2, this.t) : 1;
      step = { kind: 'adaptive', learningRate, beta1: rule.beta1, beta2: rule.beta2, gamma: rule.gamma, epsilon: rule.epsilon, c1, c2 };
      const [first, second] = this.buffers;
      m = this.buffers.length === 2 ? first : null;
      v = this.buffers.length === 2 ? second : first;
    }
    const sums = this.ops.update(step, w, g, m, v, this.length, penalty);
    return { learningRate, gradSquares: sums.gradSquares, regLoss: sums.penalty };
  }

  /** Restores the update count and copies the state buffers in. */
  restore(state: OptimizerState<Real>): void {
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new RangeError(`optimizer step must be a non-negative integer, got ${state.step}`);
    if (state.buffers.length !== this.buffers.length) {
      throw new RangeError(`${this.config.type} keeps ${this.buffers.length} state buffers, the saved state has ${state.buffers.length}`);
    }
    state.buffers.forEach((b, i) => {
      if (b.length !== this.length) throw new RangeError(`optimizer state buffer ${i} has ${b.length} values, expected ${this.length}`);
      this.buffers[i].set(b);
    });
    this.t = state.step;
  }

  /** Forgets all state (warm starts begin with a fresh optimizer). */
  reset(): void {
    for (const b of this.buffers) b.fill(0);
    this.t = 0;
  }
}
