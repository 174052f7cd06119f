/**
 * A network built from a spec: its layers over one parameter buffer and one gradient buffer, an optimizer, an RNG,
 * and preallocated activation buffers for up to `maxBatch` rows — a training step allocates no buffer.
 *
 * Dimension letters: n rows of a batch (≤ maxBatch), D inputs, K outputs. x is (n, D) row-major; targets are class
 * indices (Int32Array, n) or values (Float32Array, n·K) as the loss requires (see LossKind in ./spec.ts).
 *
 * Randomness: one RNG seeded from `seed` initializes the weights (layer by layer, in forward order), then draws the
 * input noise and dropout masks of each training step, in forward order. `evaluate` and `predict` draw nothing.
 */
import type { Backend, Real } from './backend.js';
import { initWeights } from './init.js';
import { createLayer, type Layer } from './layers.js';
import { checkTargets, Metrics, outputTransform, type Targets } from './losses.js';
import { opsOf, type Ops, type Penalty } from './ops.js';
import { Optimizer, type OptimizerConfig, type ResolvedOptimizer } from './optimizers.js';
import { layoutParams, pack, unpack, type ParamLayout } from './params.js';
import { weightRanges } from './regularization.js';
import { Rng, type RngState } from './rng.js';
import {
  planLayers, resolveSpec, SpecError, type LayerInfo, type LayerPlan, type NetworkDescription, type NetworkSpec, type ResolvedSpec,
} from './spec.js';
import { decodeState, encodeState, type FloatArray } from './state-codec.js';
import { ActivityWindow, moments, saturatedFraction, sumSquaredDifferences, sumSquares, type LayerStats } from './stats.js';

export interface NetworkOptions<T extends Real = Float32Array> {
  /** Where the buffers live and the matmuls run: a ComputeContext (reference or fast), or a float64 Backend for checks. */
  ctx: Backend<T>;
  /** Most rows a training step takes, and the chunk size of evaluate/predict (an integer ≥ 1). Buffers are sized for it. */
  maxBatch: number;
  /** Seed of the network's RNG (non-negative safe integer). */
  seed: number;
  optimizer: OptimizerConfig;
}

export interface StepTimings {
  /** Copy-in, forward pass, loss, dead-unit bookkeeping. */
  forwardMs: number;
  /** Backward pass. */
  backwardMs: number;
  /** Regularization and optimizer update (one pass), and the update measurement when layer statistics were asked for. */
  updateMs: number;
}

/** What a training step reports; JSON-safe, it doubles as the progress message. */
export interface StepStats {
  /** Updates done so far, this one included. */
  step: number;
  batchSize: number;
  /** dataLoss + regLoss, at the parameters before this step's update. */
  loss: number;
  /** Mean loss over the batch (with dropout/noise as trained). */
  dataLoss: number;
  regLoss: number;
  /** Learning rate this update used. */
  learningRate: number;
  /** L2 norm of the gradient of the total loss over all parameters, as the update used it (finite unless diverging). */
  gradNorm: number;
  timings: StepTimings;
  /** Per-layer statistics, when the step was asked for them. */
  layers?: LayerStats[];
}

export interface TrainStepOptions {
  /** Measure this step's update and return layer statistics (reads and restarts the dead-unit window). Default false. */
  layerStats?: boolean;
}

export interface LossResult {
  loss: number;
  dataLoss: number;
  regLoss: number;
}

export interface EvaluateResult extends LossResult {
  rows: number;
  /** Classification losses: fraction correct (see Metrics in ./losses.ts); null for l2. */
  accuracy: number | null;
  /** l2 only: root mean squared error over all outputs. */
  rmse: number | null;
  /** l2 only: coefficient of determination. */
  r2: number | null;
}

/** A network's weights, packed (no padding), with the table that says what is where. */
export interface ExportedWeights {
  /** Each tensor: name (`dense1.W`, `dense1.b`, `dense1.alpha`, … `output.b`), shape, start in `values`. */
  layout: { name: string; rows: number; cols: number; offset: number }[];
  values: Float32Array<ArrayBuffer>;
}

/** The JSON part of a saved state. */
export interface StateMeta {
  format: 'trainyard-network';
  spec: NetworkSpec;
  resolvedSpec: ResolvedSpec;
  optimizer: ResolvedOptimizer;
  /** The optimizer config as given (so that a network can be rebuilt from the state alone). */
  optimizerConfig: OptimizerConfig;
  seed: number;
  step: number;
  rng: RngState;
  parameterCount: number;
}

const now = () => performance.now();
const RELU_FAMILY = new Set(['relu', 'leaky-relu', 'prelu']);

function positiveInteger(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new SpecError([{ path: name, message: `must be an integer ≥ 1, got ${v}` }]);
}

export class Network<T extends Real = Float32Array> {
  /** The spec as given. */
  readonly spec: NetworkSpec;
  /** The spec with its defaults. */
  readonly resolved: ResolvedSpec;
  readonly layers: readonly Layer<T>[];
  readonly layout: ParamLayout;
  readonly parameterCount: number;
  /** All parameters, in the layout of {@link layout} (padded). */
  readonly params: T;
  /** All gradients of the last backward pass (of the total loss, regularization included), same layout. */
  readonly grads: T;
  readonly optimizer: Optimizer<T>;
  /** The network's RNG (initialization, noise, dropout). Its state is part of the saved state. */
  readonly rng: Rng;
  readonly maxBatch: number;
  readonly seed: number;

  private readonly ctx: Backend<T>;
  private readonly ops: Ops<T>;
  /** The weight penalties over the weight matrices, null without any. */
  private readonly penalty: Penalty | null;
  private readonly optimizerConfig: OptimizerConfig;
  /** acts[0]: the input copy; acts[l + 1]: output of layer l (training workspace). */
  private readonly acts: T[];
  /** deltas[l + 1]: ∂loss/∂(output of layer l) — null when no layer up to l learns (nothing would use it). */
  private readonly deltas: (T | null)[];
  /** Forward-only workspace of evaluate/predict, allocated on first use, so they do not disturb the training buffers. */
  private inference: T[] | null = null;
  private readonly windows: (ActivityWindow | null)[];
  private readonly updateRatios: (number | null)[];
  private weightSnapshot: T | null = null;
  private lastBatch = 0;

  constructor(spec: NetworkSpec, options: NetworkOptions<T>) {
    this.resolved = resolveSpec(spec);
    this.spec = JSON.parse(JSON.stringify(spec)) as NetworkSpec;
    positiveInteger('maxBatch', options.maxBatch);
    this.maxBatch = options.maxBatch;
    this.seed = options.seed;
    this.ctx = options.ctx;
    this.ops = opsOf(this.ctx);
    this.optimizerConfig = JSON.parse(JSON.stringify(options.optimizer)) as OptimizerConfig;
    this.rng = new Rng(options.seed);

    const plans = planLayers(this.resolved);
    this.layout = layoutParams(plans);
    this.parameterCount = this.layout.parameterCount;
    const { l2, l1 } = this.resolved.regularization;
    this.penalty = l2 !== 0 || l1 !== 0 ? { l2, l1, ranges: weightRanges(this.layout) } : null;
    this.params = this.ctx.alloc(this.layout.bufferLength, 'parameters');
    this.grads = this.ctx.alloc(this.layout.bufferLength, 'gradients');
    this.optimizer = new Optimizer(options.optimizer, this.ctx, this.layout.bufferLength);
    this.layers = plans.map((p) => createLayer(p, this.ctx, this.layout, this.params, this.grads, this.rng, this.maxBatch));
    this.initialize(plans);

    const B = this.maxBatch;
    this.acts = [this.ctx.alloc(B * this.resolved.inputs, 'training input'), ...plans.map((p) => this.ctx.alloc(B * p.outputs, `training output of ${p.name}`))];
    this.deltas = [null];
    for (let i = 1; i <= plans.length; i++) {
      this.deltas.push(plans.slice(0, i).some((p) => p.parameterCount > 0) ? this.ctx.alloc(B * plans[i - 1].outputs, `gradient at the output of ${plans[i - 1].name}`) : null);
    }
    this.windows = plans.map((p) => (p.activation !== null && RELU_FAMILY.has(p.activation) ? new ActivityWindow(p.outputs) : null));
    this.updateRatios = plans.map(() => null);
  }

  private initialize(plans: readonly LayerPlan[]): void {
    for (const [l, plan] of plans.entries()) {
      for (const p of this.layers[l].parameters) {
        if (p.entry.role === 'weight') initWeights(p.value, plan.inputs, plan.outputs, plan.init!, this.rng);
        else if (p.entry.role === 'alpha') p.value.fill(plan.alpha);
      }
    }
  }

  /** Parameter count and layer table (same as describeNetwork(spec)). */
  describe(): NetworkDescription {
    return { parameterCount: this.parameterCount, layers: this.layerTable };
  }

  get layerTable(): LayerInfo[] {
    return this.layers.map((l) => l.toJSON());
  }

  /** Updates done so far. */
  get step(): number {
    return this.optimizer.step;
  }

  // ---- training --------------------------------------------------------------------------------------------------

  private checkBatch(x: Real, targets: Targets | null, n: number, limit: number): void {
    if (!Number.isInteger(n) || n < 1 || n > limit) throw new RangeError(`batch size must be an integer from 1 to ${limit}, got ${n}`);
    const need = n * this.resolved.inputs;
    if (x.length < need) throw new RangeError(`x has ${x.length} values, ${n} rows of ${this.resolved.inputs} need ${need}`);
    if (targets) checkTargets(this.resolved.loss, this.resolved.outputs, targets, n);
  }

  /** Forward pass in the training workspace; returns the mean data loss and leaves ∂loss/∂scores in the last delta. */
  private forwardTrain(x: Real, targets: Targets, n: number, training: boolean, withGradient: boolean): number {
    const acts = this.acts, layers = this.layers;
    acts[0].set(x.subarray(0, n * this.resolved.inputs));
    for (let l = 0; l < layers.length; l++) layers[l].forward(acts[l], acts[l + 1], n, training);
    this.lastBatch = n;
    const L = layers.length;
    return this.ops.sumLoss(this.resolved.loss, acts[L], this.resolved.outputs, targets, n, withGradient ? this.deltas[L] : null, 1 / n) / n;
  }

  private backward(n: number): void {
    const acts = this.acts, deltas = this.deltas, layers = this.layers;
    for (let l = layers.length - 1; l >= 0; l--) {
      const dy = deltas[l + 1];
      if (!dy) break; // nothing before this layer learns
      layers[l].backward(acts[l], acts[l + 1], dy, deltas[l], n);
    }
  }

  /** The penalty's value, its gradient added to `grads` unless null (trainStep folds this into the update instead). */
  private regularization(grads: T | null): number {
    if (!this.penalty) return 0;
    return this.ops.update({ kind: 'none' }, this.params, grads, null, null, this.layout.bufferLength, this.penalty).penalty;
  }

  /**
   * One step of training on n rows: forward (with dropout and noise), loss, backward, then regularization and update
   * (one pass: the penalty's gradient is added to the gradient on the way). Throws RangeError/TypeError on a bad batch,
   * before changing anything.
   */
  trainStep(x: Real, targets: Targets, n: number, options: TrainStepOptions = {}): StepStats {
    this.checkBatch(x, targets, n, this.maxBatch);
    const t0 = now();
    const dataLoss = this.forwardTrain(x, targets, n, true, true);
    for (let l = 0; l < this.layers.length; l++) this.windows[l]?.observe(this.acts[l + 1], n);
    const t1 = now();
    this.backward(n);
    const t2 = now();
    const measure = options.layerStats === true;
    if (measure) (this.weightSnapshot ??= this.ctx.alloc(this.layout.bufferLength, 'weights before the update')).set(this.params);
    const { learningRate, gradSquares, regLoss } = this.optimizer.update(this.params, this.grads, this.penalty);
    if (measure) this.measureUpdate();
    const t3 = now();
    const stats: StepStats = {
      step: this.optimizer.step,
      batchSize: n,
      loss: dataLoss + regLoss,
      dataLoss,
      regLoss,
      learningRate,
      gradNorm: Math.sqrt(gradSquares),
      timings: { forwardMs: t1 - t0, backwardMs: t2 - t1, updateMs: t3 - t2 },
    };
    if (measure) stats.layers = this.layerStats();
    return stats;
  }

  /**
   * Forward and backward without an update: the loss, and the gradient of the total loss (regularization included) in
   * {@link grads}. `training` (default true) turns dropout and noise on — they then draw from the RNG.
   */
  computeGradients(x: Real, targets: Targets, n: number, options: { training?: boolean } = {}): LossResult {
    this.checkBatch(x, targets, n, this.maxBatch);
    const dataLoss = this.forwardTrain(x, targets, n, options.training ?? true, true);
    this.backward(n);
    const regLoss = this.regularization(this.grads);
    return { loss: dataLoss + regLoss, dataLoss, regLoss };
  }

  // ---- inference -------------------------------------------------------------------------------------------------

  /** Buffers of the forward-only workspace; dropout and noise are the identity there, so they share their input's buffer. */
  private inferenceActs(): T[] {
    if (!this.inference) {
      const acts: T[] = [this.ctx.alloc(this.maxBatch * this.resolved.inputs, 'inference input')];
      for (const layer of this.layers) {
        const passThrough = layer.plan.kind === 'dropout' || layer.plan.kind === 'noise';
        acts.push(passThrough ? acts[acts.length - 1] : this.ctx.alloc(this.maxBatch * layer.plan.outputs, `inference output of ${layer.plan.name}`));
      }
      this.inference = acts;
    }
    return this.inference;
  }

  /** Runs rows [start, start + n) of x through the network without dropout/noise; returns the scores buffer. */
  private forwardInference(x: Real, start: number, n: number): T {
    const acts = this.inferenceActs(), D = this.resolved.inputs;
    acts[0].set(x.subarray(start * D, (start + n) * D));
    for (let l = 0; l < this.layers.length; l++) {
      const kind = this.layers[l].plan.kind;
      if (kind !== 'dropout' && kind !== 'noise') this.layers[l].forward(acts[l], acts[l + 1], n, false);
    }
    return acts[this.layers.length];
  }

  /** Loss and metrics over n rows (any n ≥ 1, in chunks of maxBatch), without dropout/noise and without changing any state. */
  evaluate(x: Real, targets: Targets, n: number): EvaluateResult {
    this.checkBatch(x, targets, n, Number.MAX_SAFE_INTEGER);
    const { loss: kind, outputs: K } = this.resolved;
    const metrics = new Metrics(kind, K);
    let sum = 0;
    for (let start = 0; start < n; start += this.maxBatch) {
      const rows = Math.min(this.maxBatch, n - start);
      const scores = this.forwardInference(x, start, rows);
      const t = targets instanceof Int32Array ? targets.subarray(start, start + rows) : targets.subarray(start * K, (start + rows) * K);
      sum += this.ops.sumLoss(kind, scores, K, t, rows, null, 1);
      metrics.add(scores, t, rows);
    }
    const dataLoss = sum / n;
    const regLoss = this.regularization(null);
    return { rows: n, loss: dataLoss + regLoss, dataLoss, regLoss, accuracy: metrics.accuracy, rmse: metrics.rmse, r2: metrics.r2 };
  }

  /**
   * Outputs for n rows (n·K values, row-major): class probabilities for softmax; per-output probabilities σ(s) for
   * logistic; raw scores for svm; predicted values for l2. No dropout/noise, no state change.
   */
  predict(x: Real, n: number): Float32Array<ArrayBuffer> {
    this.checkBatch(x, null, n, Number.MAX_SAFE_INTEGER);
    const K = this.resolved.outputs;
    const out = new Float32Array(n * K);
    for (let start = 0; start < n; start += this.maxBatch) {
      const rows = Math.min(this.maxBatch, n - start);
      const scores = this.forwardInference(x, start, rows);
      outputTransform(this.resolved.loss, scores, K, rows, out.subarray(start * K, (start + rows) * K));
    }
    return out;
  }

  // ---- statistics ------------------------------------------------------------------------------------------------

  private measureUpdate(): void {
    const before = this.weightSnapshot!;
    for (const [l, layer] of this.layers.entries()) {
      const W = layer.parameters.find((p) => p.entry.role === 'weight');
      if (!W) continue;
      const { offset, size } = W.entry;
      const norm = Math.sqrt(sumSquares(before, offset, size));
      this.updateRatios[l] = norm > 0 ? Math.sqrt(sumSquaredDifferences(this.params, before, offset, size)) / norm : 0;
    }
  }

  /**
   * Statistics of each layer with parameters (see LayerStats in ./stats.ts). Reads the training buffers as the last
   * step left them, and restarts the dead-unit windows.
   */
  layerStats(): LayerStats[] {
    const out: LayerStats[] = [];
    for (const [l, layer] of this.layers.entries()) {
      if (layer.parameters.length === 0) continue;
      const plan = layer.plan;
      let grad = 0;
      for (const p of layer.parameters) grad += sumSquares(p.grad);
      const W = layer.parameters.find((p) => p.entry.role === 'weight')!;
      const { mean, std } = moments(this.acts[l + 1], this.lastBatch, plan.outputs);
      const a = plan.activation;
      out.push({
        name: plan.name,
        kind: plan.kind,
        activation: a,
        gradNorm: Math.sqrt(grad),
        weightNorm: Math.sqrt(sumSquares(W.value)),
        updateRatio: this.updateRatios[l],
        activationMean: mean,
        activationStd: std,
        deadFraction: this.windows[l]?.read() ?? null,
        saturatedFraction: a === 'sigmoid' || a === 'tanh' ? saturatedFraction(this.acts[l + 1], this.lastBatch, plan.outputs, a) : null,
      });
    }
    return out;
  }

  // ---- weights and state -----------------------------------------------------------------------------------------

  /** A packed copy of all parameters with their table (for models and warm starts). */
  exportWeights(): ExportedWeights {
    const values = new Float32Array(this.parameterCount);
    pack(this.params, this.layout, values);
    return { layout: this.layout.entries.map((e) => ({ name: e.name, rows: e.rows, cols: e.cols, offset: e.packedOffset })), values };
  }

  /**
   * Sets all parameters from exported weights of a network with the same architecture (same tensor names and shapes).
   * Only the parameters change: optimizer state, step counter and RNG are left as they are (a warm start).
   */
  importWeights(weights: { layout: ExportedWeights['layout']; values: Float32Array | Float64Array }): void {
    const mine = this.layout.entries;
    const same = weights.layout.length === mine.length
      && weights.layout.every((e, i) => e.name === mine[i].name && e.rows === mine[i].rows && e.cols === mine[i].cols && e.offset === mine[i].packedOffset);
    if (!same) throw new RangeError('weights come from a network of another architecture');
    unpack(weights.values, this.layout, this.params);
  }

  /**
   * Everything that determines how training continues, as one byte string: spec, optimizer config, parameters,
   * optimizer state, step counter, RNG state. restoreState(saveState()) then continuing gives bit-identical results to
   * never stopping. (Statistics windows are not saved: they never affect training.)
   */
  saveState(): Uint8Array<ArrayBuffer> {
    const meta: StateMeta = {
      format: 'trainyard-network',
      spec: this.spec,
      resolvedSpec: this.resolved,
      optimizer: this.optimizer.config,
      optimizerConfig: this.optimizerConfig,
      seed: this.seed,
      step: this.optimizer.step,
      rng: this.rng.state(),
      parameterCount: this.parameterCount,
    };
    const packed = (buffer: T): FloatArray => {
      const out = buffer instanceof Float64Array ? new Float64Array(this.parameterCount) : new Float32Array(this.parameterCount);
      pack(buffer, this.layout, out);
      return out;
    };
    return encodeState(meta, [
      { name: 'params', data: packed(this.params) },
      ...this.optimizer.buffers.map((b, i) => ({ name: `optimizer.${i}`, data: packed(b) })),
    ]);
  }

  /** Restores a state saved by a network with the same spec and optimizer config. */
  restoreState(bytes: Uint8Array): void {
    const { meta, sections } = decodeState(bytes);
    const m = checkMeta(meta);
    if (JSON.stringify(m.resolvedSpec) !== JSON.stringify(this.resolved)) throw new RangeError('the state was saved by a network with another spec');
    if (JSON.stringify(m.optimizer) !== JSON.stringify(this.optimizer.config)) throw new RangeError('the state was saved with another optimizer config');
    const params = sections.get('params');
    if (!params || params.length !== this.parameterCount) throw new RangeError('the state has no parameters of the right size');
    const buffers = this.optimizer.buffers.map((_, i) => {
      const packed = sections.get(`optimizer.${i}`);
      if (!packed || packed.length !== this.parameterCount) throw new RangeError(`the state lacks optimizer buffer ${i}`);
      const padded = new Float64Array(this.layout.bufferLength);
      unpack(packed, this.layout, padded);
      return padded;
    });
    this.rng.restore(m.rng); // validates before anything changes
    this.optimizer.restore({ step: m.step, buffers });
    unpack(params, this.layout, this.params);
  }
}

function checkMeta(meta: unknown): StateMeta {
  const m = meta as Partial<StateMeta> | null;
  if (!m || m.format !== 'trainyard-network' || !m.spec || !m.resolvedSpec || !m.optimizer || !m.optimizerConfig || !Array.isArray(m.rng)) {
    throw new Error('not a saved network state');
  }
  return m as StateMeta;
}

/** The JSON part of a saved state (spec, optimizer, seed, step…), e.g. to build the network it restores into. */
export function readStateMeta(bytes: Uint8Array): StateMeta {
  return checkMeta(decodeState(bytes).meta);
}

export function createNetwork<T extends Real = Float32Array>(spec: NetworkSpec, options: NetworkOptions<T>): Network<T> {
  return new Network(spec, options);
}

/** A network rebuilt from a saved state alone (its spec, optimizer and seed), with the state restored. */
export function restoreNetwork<T extends Real = Float32Array>(bytes: Uint8Array, options: { ctx: Backend<T>; maxBatch: number }): Network<T> {
  const meta = readStateMeta(bytes);
  const network = new Network(meta.spec, { ctx: options.ctx, maxBatch: options.maxBatch, seed: meta.seed, optimizer: meta.optimizerConfig });
  network.restoreState(bytes);
  return network;
}
