/**
 * Layers. Every layer has the same small interface: forward and backward side by side with the same argument order,
 * its parameters (views into the network's one parameter buffer and one gradient buffer) and toJSON.
 *
 * Dimension letters: n rows (the batch, ≤ the network's maxBatch), I the layer's inputs, O its outputs, k maxout pieces.
 *   x (n, I), y (n, O), dy (n, O), dx (n, I); all row-major.
 *   Fully-connected: W is (I, O) row-major — y = f(x·W + b). So the three matmuls are:
 *     forward  y  = x·W      gemm 'nn' M=n K=I N=O
 *     backward dW = xᵀ·dz    gemm 'tn' M=I K=n N=O
 *     backward dx = dz·Wᵀ    gemm 'nt' M=n K=O N=I
 *   Maxout: W is (I, O·k), the k pieces of unit j in columns j·k … j·k+k−1.
 *
 * Gradients are written, not accumulated: each backward overwrites the layer's gradient views.
 */
import * as act from './activations.js';
import { view, type Backend, type Real } from './backend.js';
import { opsOf, type Ops } from './ops.js';
import { entryView, type ParamEntry, type ParamLayout } from './params.js';
import type { Rng } from './rng.js';
import type { Activation, LayerInfo, LayerPlan } from './spec.js';

/** A parameter tensor of a layer: its table entry and its views in the parameter and gradient buffers. */
export interface ParamView<T extends Real> {
  entry: ParamEntry;
  value: T;
  grad: T;
}

export interface Layer<T extends Real> {
  readonly plan: LayerPlan;
  /** y (n, O) from x (n, I). `training` turns dropout and input noise on (they draw from the network's RNG). */
  forward(x: T, y: T, n: number, training: boolean): void;
  /**
   * From x, y (as the last forward left them) and dy (n, O), which it may overwrite: writes the layer's parameter
   * gradients and, unless dx is null, dx (n, I).
   */
  backward(x: T, y: T, dy: T, dx: T | null, n: number): void;
  readonly parameters: readonly ParamView<T>[];
  toJSON(): LayerInfo;
}

/** The layer's views of the parameter and gradient buffers, in table order. */
function paramViews<T extends Real>(plan: LayerPlan, layout: ParamLayout, params: T, grads: T): ParamView<T>[] {
  return layout.entries.filter((e) => e.layer === plan.name).map((e) => ({ entry: e, value: entryView(params, e), grad: entryView(grads, e) }));
}

function info(plan: LayerPlan): LayerInfo {
  return { name: plan.name, kind: plan.kind, activation: plan.activation, inputs: plan.inputs, outputs: plan.outputs, params: plan.parameterCount };
}

function copyAccumulator(acc: Float64Array, out: Real): void {
  for (let j = 0; j < acc.length; j++) out[j] = acc[j];
}

/**
 * Fully-connected layer with a fused bias and element-wise activation (identity, sigmoid, tanh, relu, leaky-relu, prelu):
 * the matmuls on the backend's gemm, the bias and activation (forward) and their gradients with the bias gradient
 * (backward) in one pass each of the backend's ops (./ops.ts).
 */
export class DenseLayer<T extends Real> implements Layer<T> {
  readonly parameters: readonly ParamView<T>[];
  private readonly W: ParamView<T>;
  private readonly b: ParamView<T>;
  private readonly alpha: ParamView<T> | undefined;
  private readonly activation: Exclude<Activation, 'maxout'>;
  /** PReLU only: z + b of the last training forward pass (maxBatch, O), which backward reads. */
  private readonly z: T | undefined;
  /** PReLU only: z + b of inference passes, allocated on first use — inference never touches the training workspace. */
  private inferenceZ: T | undefined;
  private readonly maxBatch: number;
  private readonly ops: Ops<T>;

  constructor(readonly plan: LayerPlan, private readonly backend: Backend<T>, layout: ParamLayout, params: T, grads: T, maxBatch: number) {
    if (plan.kind !== 'dense' || plan.activation === null || plan.activation === 'maxout') throw new Error(`${plan.name} is not a dense layer`);
    this.activation = plan.activation;
    this.parameters = paramViews(plan, layout, params, grads);
    const [W, b, alpha] = this.parameters;
    this.W = W;
    this.b = b;
    this.alpha = this.activation === 'prelu' ? alpha : undefined;
    this.z = this.activation === 'prelu' ? backend.alloc(maxBatch * plan.outputs, `${plan.name} PReLU input (training)`) : undefined;
    this.maxBatch = maxBatch;
    this.ops = opsOf(backend);
  }

  forward(x: T, y: T, n: number, training: boolean): void {
    const I = this.plan.inputs, O = this.plan.outputs;
    this.ops.denseForward(this.activation, x, this.W.value, this.b.value, this.workspace(training), y, n, I, O, this.plan.alpha, this.alpha?.value ?? null);
  }

  private workspace(training: boolean): T | null {
    if (!this.z) return null;
    if (training) return this.z;
    return (this.inferenceZ ??= this.backend.alloc(this.maxBatch * this.plan.outputs, `${this.plan.name} PReLU input (inference)`));
  }

  backward(x: T, y: T, dy: T, dx: T | null, n: number): void {
    const I = this.plan.inputs, O = this.plan.outputs;
    const a = this.z ?? y; // PReLU's backward reads z + b, the others their output
    this.ops.activationBackward(this.activation, a, dy, dy, this.b.grad, n, O, this.plan.alpha, this.alpha?.value ?? null, this.alpha?.grad ?? null);
    this.backend.gemm('tn', I, n, O, x, dy, this.W.grad, false);
    if (dx) this.backend.gemm('nt', n, O, I, dy, this.W.value, dx, false);
  }

  toJSON(): LayerInfo {
    return info(this.plan);
  }
}

/** Maxout: a fully-connected layer producing O·k values, then the max over each unit's k pieces. */
export class MaxoutLayer<T extends Real> implements Layer<T> {
  readonly parameters: readonly ParamView<T>[];
  /** Pre-activations and arg-max of the last training forward pass, which backward reads. */
  private readonly z: T;
  private readonly dz: T;
  private readonly arg: Uint8Array;
  private readonly dbAcc: Float64Array;
  /** The same for inference passes, allocated on first use — inference never touches the training workspace. */
  private inference: { z: T; arg: Uint8Array } | undefined;
  private readonly maxBatch: number;

  constructor(readonly plan: LayerPlan, private readonly backend: Backend<T>, layout: ParamLayout, params: T, grads: T, maxBatch: number) {
    if (plan.kind !== 'maxout') throw new Error(`${plan.name} is not a maxout layer`);
    if (plan.pieces > 255) throw new RangeError('maxout supports at most 255 pieces');
    this.parameters = paramViews(plan, layout, params, grads);
    const width = plan.outputs * plan.pieces;
    this.z = backend.alloc(maxBatch * width, `${plan.name} maxout pieces (training)`);
    this.dz = backend.alloc(maxBatch * width, `${plan.name} maxout piece gradients`);
    this.arg = new Uint8Array(maxBatch * plan.outputs);
    this.dbAcc = new Float64Array(width);
    this.maxBatch = maxBatch;
  }

  forward(x: T, y: T, n: number, training: boolean): void {
    const { inputs: I, outputs: O, pieces: k } = this.plan;
    const [W, b] = this.parameters;
    const ws: { z: T; arg: Uint8Array } = training ? { z: this.z, arg: this.arg } : (this.inference ??= {
      z: this.backend.alloc(this.maxBatch * O * k, `${this.plan.name} maxout pieces (inference)`),
      arg: new Uint8Array(this.maxBatch * O),
    });
    this.backend.gemm('nn', n, I, O * k, x, W.value, ws.z, false);
    act.maxoutForward(ws.z, b.value, y, ws.arg, n, O, k);
  }

  backward(x: T, y: T, dy: T, dx: T | null, n: number): void {
    const { inputs: I, outputs: O, pieces: k } = this.plan;
    const [W, b] = this.parameters;
    this.dbAcc.fill(0);
    act.maxoutBackward(this.arg, dy, this.dz, this.dbAcc, n, O, k);
    copyAccumulator(this.dbAcc, b.grad);
    this.backend.gemm('tn', I, n, O * k, x, this.dz, W.grad, false);
    if (dx) this.backend.gemm('nt', n, O * k, I, this.dz, W.value, dx, false);
  }

  toJSON(): LayerInfo {
    return info(this.plan);
  }
}

/**
 * Inverted dropout: while training each value is kept with probability 1 − p and scaled by 1/(1 − p), so that nothing
 * changes at inference (where the layer is the identity). One RNG draw per value: kept when the raw 32-bit draw is
 * ≥ ⌊p·2³²⌋.
 */
export class DropoutLayer<T extends Real> implements Layer<T> {
  readonly parameters: readonly ParamView<T>[] = [];
  /** The last training mask: 1/(1 − p) where kept, 0 where dropped. (maxBatch, O) */
  private readonly mask: T;
  private readonly threshold: number;
  private readonly scale: number;
  /** Whether the last forward pass was a training one (then backward applies the mask, else it is the identity). */
  private masked = false;

  constructor(readonly plan: LayerPlan, backend: Backend<T>, private readonly rng: Rng, maxBatch: number) {
    if (plan.kind !== 'dropout') throw new Error(`${plan.name} is not a dropout layer`);
    this.mask = backend.alloc(maxBatch * plan.outputs, `${plan.name} dropout mask`);
    this.threshold = Math.floor(plan.rate * 4294967296);
    this.scale = 1 / (1 - plan.rate);
  }

  forward(x: T, y: T, n: number, training: boolean): void {
    const len = n * this.plan.outputs;
    this.masked = training;
    if (!training) {
      y.set(view(x, 0, len));
      return;
    }
    const mask = this.mask, rng = this.rng, threshold = this.threshold, scale = this.scale;
    for (let i = 0; i < len; i++) {
      const m = +(rng.nextUint32() >= threshold) * scale;
      mask[i] = m;
      y[i] = x[i] * m;
    }
  }

  backward(x: T, y: T, dy: T, dx: T | null, n: number): void {
    if (!dx) return;
    const len = n * this.plan.outputs, mask = this.mask;
    if (!this.masked) dx.set(view(dy, 0, len));
    else for (let i = 0; i < len; i++) dx[i] = dy[i] * mask[i];
  }

  toJSON(): LayerInfo {
    return info(this.plan);
  }
}

/** Gaussian input noise: y = x + σ·N(0, 1) while training, y = x at inference. */
export class NoiseLayer<T extends Real> implements Layer<T> {
  readonly parameters: readonly ParamView<T>[] = [];

  constructor(readonly plan: LayerPlan, private readonly rng: Rng) {
    if (plan.kind !== 'noise') throw new Error(`${plan.name} is not a noise layer`);
  }

  forward(x: T, y: T, n: number, training: boolean): void {
    const len = n * this.plan.outputs;
    if (!training) {
      y.set(view(x, 0, len));
      return;
    }
    this.rng.fillNormal(y, 0, len, 0, this.plan.rate);
    for (let i = 0; i < len; i++) y[i] += x[i];
  }

  backward(x: T, y: T, dy: T, dx: T | null, n: number): void {
    if (dx) dx.set(view(dy, 0, n * this.plan.outputs));
  }

  toJSON(): LayerInfo {
    return info(this.plan);
  }
}

/** The layer a plan describes. */
export function createLayer<T extends Real>(
  plan: LayerPlan, backend: Backend<T>, layout: ParamLayout, params: T, grads: T, rng: Rng, maxBatch: number,
): Layer<T> {
  switch (plan.kind) {
    case 'dense': return new DenseLayer(plan, backend, layout, params, grads, maxBatch);
    case 'maxout': return new MaxoutLayer(plan, backend, layout, params, grads, maxBatch);
    case 'dropout': return new DropoutLayer(plan, backend, rng, maxBatch);
    case 'noise': return new NoiseLayer(plan, rng);
  }
}
