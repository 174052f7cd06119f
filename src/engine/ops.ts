/**
 * The element-wise half of the engine: what layers, losses and optimizers need besides gemm, as one interface every
 * backend provides. Here is its TypeScript reference, generic over the element type (the reference context and the
 * float64 backend use it, so the gradient checks run it in double precision); a fast context has WASM SIMD kernels
 * (./ops-wasm.ts, ./kernels/assembly/ops.ts), tested against this one on odd sizes.
 *
 * Dimension letters as in ./activations.ts: n rows (the batch), u units; k outputs for the losses.
 *   z, a, da, dz  (n, u) row-major;  b, db, α, dα  (u)
 * Buffers passed to a backend's ops must come from that backend's alloc (like gemm's operands).
 */
import * as act from './activations.js';
import type { Backend, Real } from './backend.js';
import { sumLoss, type Targets } from './losses.js';
import { adaptiveUpdate, momentumUpdate } from './optimizers.js';
import { regularizeRanges } from './regularization.js';
import type { Activation, LossKind } from './spec.js';
import { sumSquares } from './stats.js';

/** The activations of a dense layer (maxout is a layer of its own). */
export type PointActivation = Exclude<Activation, 'maxout'>;

/** What one optimizer step does to each element (the presets of ./optimizers.ts, resolved to numbers). */
export type UpdateStep =
  /** No update: only the penalty's gradient (added to g when given) and the sums. */
  | { readonly kind: 'none' }
  /** v = μ·v − lr·g; w += v (μ = 0: w −= lr·g, v unused); Nesterov: w += −μ·v_prev + (1 + μ)·v. */
  | { readonly kind: 'momentum'; readonly learningRate: number; readonly momentum: number; readonly nesterov: boolean }
  /** m = β₁m + (1 − β₁)g (β₁ = 0: m = g, unused); v = β₂v + γg²; w −= lr·(m/c₁)/(√(v/c₂) + ε). */
  | {
    readonly kind: 'adaptive'; readonly learningRate: number; readonly beta1: number; readonly beta2: number;
    readonly gamma: number; readonly epsilon: number; readonly c1: number; readonly c2: number;
  };

/** Weight penalties folded into an update: ½·l2·Σw² + l1·Σ|w| over `ranges` of the buffer. */
export interface Penalty {
  readonly l2: number;
  readonly l1: number;
  /** The penalized [start, end) ranges of the parameter buffer (the weight matrices), sorted and disjoint. */
  readonly ranges: readonly (readonly [number, number])[];
}

/** The sums an update makes on its way. */
export interface UpdateSums {
  /** Σg² over all elements, of the gradient the update used (penalty included). */
  gradSquares: number;
  /** ½·l2·Σw² + l1·Σ|w| over the penalized ranges, at the weights before the update (0 without a penalty). */
  penalty: number;
}

export interface Ops<T extends Real> {
  /**
   * A dense layer's forward pass, y = f(x·W + b): x (n, I), W (I, O), b and α (O), y (n, O). `z` (n, O) receives
   * x·W + b where the activation needs it kept (PReLU), else it is `y` or null. The same as gemm('nn') then
   * activationForward; a fast backend fuses them where it can.
   */
  denseForward(
    f: PointActivation, x: T, W: T, b: T, z: T | null, y: T, n: number, I: number, O: number, slope: number, alpha: T | null,
  ): void;
  /** a = f(z + b) on n rows of u. `a` may be `z` except for PReLU, which also overwrites z with z + b and reads α (u). */
  activationForward(f: PointActivation, z: T, b: T, a: T, n: number, u: number, slope: number, alpha: T | null): void;
  /**
   * dz = da ⊙ f'(…) (dz may be da) and db = Σ_rows dz, written. `a` is f's output, except for PReLU where it is z + b as
   * the forward pass left it; PReLU also writes dα = Σ_rows da·(z + b)·[z + b ≤ 0].
   */
  activationBackward(
    f: PointActivation, a: T, da: T, dz: T, db: T, n: number, u: number, slope: number, alpha: T | null, dalpha: T | null,
  ): void;
  /** Σ over the n rows of the loss, and grad = scale·∂(Σ loss)/∂scores unless null (see ./losses.ts). */
  sumLoss(kind: LossKind, scores: T, k: number, targets: Targets, n: number, grad: T | null, scale: number): number;
  /**
   * One update of w[0, length) from g (the gradient of the data loss), with the penalty's gradient l2·w + l1·sign(w)
   * first added to g (and stored there) on its ranges. m, v: the step's state buffers (null where it keeps none).
   * g null (only with kind 'none'): the penalty's value alone.
   */
  update(step: UpdateStep, w: T, g: T | null, m: T | null, v: T | null, length: number, penalty: Penalty | null): UpdateSums;
  /** Σ a[i]² over [offset, offset + length). */
  sumSquares(a: T, offset?: number, length?: number): number;
}

/** Backward functions of ./activations.ts by name (those whose first argument is the activation's output). */
const BACKWARD = {
  identity: act.identityBackward, relu: act.reluBackward, sigmoid: act.sigmoidBackward, tanh: act.tanhBackward,
} as const;

/**
 * The TypeScript reference ops (./activations.ts, ./losses.ts, ./optimizers.ts, ./regularization.ts, ./stats.ts), with
 * `gemm` for the matmul of denseForward.
 */
export function referenceOps<T extends Real>(gemm: Backend<T>['gemm']): Ops<T> {
  // float64 column sums of the backward pass, as the reference activations take them
  let dbAcc = new Float64Array(0);
  let dalphaAcc = new Float64Array(0);
  const activationForward: Ops<T>['activationForward'] = (f, z, b, a, n, u, slope, alpha) => {
    switch (f) {
      case 'identity': return act.identityForward(z, b, a, n, u);
      case 'relu': return act.reluForward(z, b, a, n, u);
      case 'leaky-relu': return act.leakyReluForward(z, b, a, n, u, slope);
      case 'prelu': return act.preluForward(z, b, alpha!, a, n, u);
      case 'sigmoid': return act.sigmoidForward(z, b, a, n, u);
      case 'tanh': return act.tanhForward(z, b, a, n, u);
    }
  };
  const activationBackward: Ops<T>['activationBackward'] = (f, a, da, dz, db, n, u, slope, alpha, dalpha) => {
    if (dbAcc.length < u) dbAcc = new Float64Array(u);
    const dbSum = dbAcc.subarray(0, u).fill(0);
    if (f === 'prelu') {
      if (dalphaAcc.length < u) dalphaAcc = new Float64Array(u);
      const daSum = dalphaAcc.subarray(0, u).fill(0);
      act.preluBackward(a, alpha!, da, dz, dbSum, daSum, n, u);
      for (let j = 0; j < u; j++) dalpha![j] = daSum[j];
    } else if (f === 'leaky-relu') {
      act.leakyReluBackward(a, da, dz, dbSum, n, u, slope);
    } else {
      BACKWARD[f](a, da, dz, dbSum, n, u);
    }
    for (let j = 0; j < u; j++) db[j] = dbSum[j];
  };
  return {
    denseForward(f, x, W, b, z, y, n, I, O, slope, alpha) {
      const out = z ?? y;
      gemm('nn', n, I, O, x, W, out, false);
      activationForward(f, out, b, y, n, O, slope, alpha);
    },
    activationForward,
    activationBackward,
    sumLoss,
    update(step, w, g, m, v, length, penalty) {
      const penaltyValue = penalty ? regularizeRanges(penalty.ranges, w, g, penalty.l2, penalty.l1) : 0;
      let gradSquares = 0;
      if (step.kind === 'momentum') {
        gradSquares = momentumUpdate(w, g!, v, length, step.learningRate, step.momentum, step.nesterov);
      } else if (step.kind === 'adaptive') {
        gradSquares = adaptiveUpdate(w, g!, m, v!, length, step.learningRate, step.beta1, step.beta2, step.gamma, step.epsilon, step.c1, step.c2);
      } else if (g) {
        gradSquares = sumSquares(g, 0, length);
      }
      return { gradSquares, penalty: penaltyValue };
    },
    sumSquares,
  };
}

/** The ops of a backend: its own, or the reference ones over its gemm for a backend that has none. */
export function opsOf<T extends Real>(backend: Backend<T>): Ops<T> {
  return backend.ops ?? referenceOps<T>((...args) => backend.gemm(...args));
}
