/**
 * Finite-difference gradient checks of every layer, activation, loss and regularizer — in float64: the layer math is
 * generic over the element type, so the same code runs on a float64 backend (naive double-precision gemm).
 *
 * Central differences with h = 1e-6: truncation error O(h²) ≈ 1e-12, rounding error ≈ 1e-16·|f|/h ≈ 1e-10, so a
 * relative error |a − n| / (|a| + |n|) below 1e-6 (or an absolute error below 1e-8 for near-zero gradients) is a pass;
 * a wrong gradient is off by O(1). Kinks (ReLU at 0, hinge margins, maxout ties, |w| at 0) are crossed only if a
 * value lies within ~h of one — with random data and fixed seeds that does not happen.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFloat64Backend } from '../../src/engine/backend.js';
import { createLayer } from '../../src/engine/layers.js';
import { sumLoss, type Targets } from '../../src/engine/losses.js';
import { Network } from '../../src/engine/network.js';
import { layoutParams } from '../../src/engine/params.js';
import { createReferenceContext } from '../../src/engine/reference-context.js';
import { regularize } from '../../src/engine/regularization.js';
import { Rng } from '../../src/engine/rng.js';
import { planLayers, resolveSpec, type Activation, type LossKind, type NetworkSpec } from '../../src/engine/spec.js';

const H = 1e-6;

function assertGradClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string): void {
  assert.equal(analytic.length, numeric.length, `${what}: lengths`);
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i], n = numeric[i];
    const abs = Math.abs(a - n);
    const rel = abs / (Math.abs(a) + Math.abs(n) || 1);
    assert.ok(abs < 1e-8 || rel < 1e-6, `${what}[${i}]: analytic ${a}, numeric ${n} (relative error ${rel.toExponential(2)})`);
  }
}

/** Numerical gradient of f() with respect to every entry of `x` (perturbed in place and restored). */
function numericGradient(x: Float64Array, f: () => number, indices: Iterable<number> = x.keys()): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of indices) {
    const keep = x[i];
    x[i] = keep + H;
    const plus = f();
    x[i] = keep - H;
    const minus = f();
    x[i] = keep;
    out.set(i, (plus - minus) / (2 * H));
  }
  return out;
}

function randomArray(rng: Rng, length: number, std = 1): Float64Array {
  const a = new Float64Array(length);
  rng.fillNormal(a, 0, length, 0, std);
  return a;
}

// ---- layers -------------------------------------------------------------------------------------------------------

interface LayerCase {
  name: string;
  spec: NetworkSpec;
  /** Index of the layer under test in the plan. */
  index: number;
}

const hidden = (activation: Activation, extra: object = {}): NetworkSpec => ({
  inputs: 4, layers: [{ units: 5, activation, ...extra }], outputs: 2, loss: 'l2',
});

const layerCases: LayerCase[] = [
  ...(['identity', 'sigmoid', 'tanh', 'relu'] as const).map((a) => ({ name: `dense ${a}`, spec: hidden(a), index: 0 })),
  { name: 'dense leaky-relu α=0.1', spec: hidden('leaky-relu', { alpha: 0.1 }), index: 0 },
  { name: 'dense prelu (learned α, per unit)', spec: hidden('prelu', { alpha: 0.2 }), index: 0 },
  { name: 'maxout k=3', spec: hidden('maxout', { pieces: 3 }), index: 0 },
  { name: 'inverted dropout p=0.4', spec: hidden('relu', { dropout: 0.4 }), index: 1 },
  { name: 'gaussian input noise σ=0.3', spec: { ...hidden('relu'), inputNoise: 0.3 }, index: 0 },
];

describe('layer gradients (float64 finite differences)', () => {
  for (const c of layerCases) {
    test(c.name, () => {
      const backend = createFloat64Backend();
      const plan = planLayers(resolveSpec(c.spec))[c.index];
      const layout = layoutParams([plan]);
      const params = backend.alloc(layout.bufferLength);
      const grads = backend.alloc(layout.bufferLength);
      const rng = new Rng(7);
      const n = 3;
      const layer = createLayer(plan, backend, layout, params, grads, rng, n);
      params.set(randomArray(rng, params.length));
      for (const p of layer.parameters) if (p.entry.role === 'alpha') p.value.fill(0.2); // keep slopes < 1 like an init
      const x = randomArray(rng, n * plan.inputs);
      const r = randomArray(rng, n * plan.outputs); // loss = Σ r ⊙ y, so ∂loss/∂y = r
      const y = backend.alloc(n * plan.outputs);
      const noiseState = rng.state(); // dropout masks and noise are redrawn identically on every evaluation
      const lossAt = (): number => {
        rng.restore(noiseState);
        layer.forward(x, y, n, true);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += r[i] * y[i];
        return s;
      };
      lossAt();
      const dx = backend.alloc(n * plan.inputs);
      layer.backward(x, y, Float64Array.from(r), dx, n);
      assertGradClose(dx, [...numericGradient(x, lossAt).values()], `${c.name} dx`);
      for (const p of layer.parameters) {
        const numeric = numericGradient(params, lossAt, Array.from({ length: p.entry.size }, (_, i) => p.entry.offset + i));
        assertGradClose(p.grad, [...numeric.values()], `${c.name} ${p.entry.name}`);
      }
    });
  }
});

// ---- losses -------------------------------------------------------------------------------------------------------

interface LossCase {
  name: string;
  kind: LossKind;
  k: number;
  targets: (rng: Rng, n: number, k: number) => Targets;
}

const labels = (classes: number) => (rng: Rng, n: number) => Int32Array.from({ length: n }, () => rng.int(classes));
const uniformTargets = (rng: Rng, n: number, k: number) => Float64Array.from({ length: n * k }, () => rng.uniform());

const lossCases: LossCase[] = [
  { name: 'softmax cross-entropy', kind: 'softmax', k: 4, targets: labels(4) },
  { name: 'logistic, binary labels', kind: 'logistic', k: 1, targets: labels(2) },
  { name: 'logistic, one-vs-all labels', kind: 'logistic', k: 3, targets: labels(3) },
  { name: 'logistic, multi-label soft targets', kind: 'logistic', k: 3, targets: uniformTargets },
  { name: 'multiclass SVM (Weston–Watkins)', kind: 'svm', k: 4, targets: labels(4) },
  { name: 'binary SVM hinge', kind: 'svm', k: 1, targets: labels(2) },
  { name: 'L2 regression', kind: 'l2', k: 2, targets: (rng, n, k) => randomArray(rng, n * k) },
];

describe('loss gradients (float64 finite differences)', () => {
  for (const c of lossCases) {
    test(c.name, () => {
      const rng = new Rng(11);
      const n = 6;
      const scores = randomArray(rng, n * c.k, 1.5);
      const targets = c.targets(rng, n, c.k);
      const grad = new Float64Array(n * c.k);
      const mean = () => sumLoss(c.kind, scores, c.k, targets, n, null, 1) / n;
      const value = sumLoss(c.kind, scores, c.k, targets, n, grad, 1 / n) / n;
      assert.ok(Number.isFinite(value) && value >= 0);
      assertGradClose(grad, [...numericGradient(scores, mean).values()], c.name);
    });
  }

  test('softmax is stable for huge scores', () => {
    const scores = Float64Array.from([1000, -1000, 999]);
    const grad = new Float64Array(3);
    const loss = sumLoss('softmax', scores, 3, Int32Array.from([2]), 1, grad, 1);
    assert.ok(Math.abs(loss - (1 + Math.log(1 + Math.exp(-1)))) < 1e-12); // −log p₂ = log Σ e^(s − 1000) − (999 − 1000)
    assert.ok(grad.every(Number.isFinite));
  });

  test('logistic is stable for huge scores', () => {
    const grad = new Float64Array(2);
    const loss = sumLoss('logistic', Float64Array.from([800, -800]), 1, Int32Array.from([0, 1]), 2, grad, 1);
    assert.equal(loss, 1600);
    assert.deepEqual([...grad], [1, -1]);
  });
});

// ---- regularizers -------------------------------------------------------------------------------------------------

describe('regularization gradients (float64 finite differences)', () => {
  for (const [name, l2, l1] of [['L2 ½λ‖W‖²', 0.3, 0], ['L1 λ‖W‖₁', 0, 0.2], ['L2 + L1', 0.1, 0.05]] as const) {
    test(name, () => {
      const layout = layoutParams(planLayers(resolveSpec({ inputs: 3, layers: [{ units: 4, activation: 'prelu' }], outputs: 2, loss: 'softmax' })));
      const rng = new Rng(5);
      const params = randomArray(rng, layout.bufferLength);
      const grads = new Float64Array(layout.bufferLength);
      const loss = regularize(layout, params, grads, l2, l1);
      let squares = 0, abs = 0;
      for (const e of layout.entries.filter((x) => x.role === 'weight')) {
        for (let i = e.offset; i < e.offset + e.size; i++) {
          squares += params[i] ** 2;
          abs += Math.abs(params[i]);
        }
      }
      assert.ok(Math.abs(loss - (0.5 * l2 * squares + l1 * abs)) < 1e-12);
      const numeric = numericGradient(params, () => regularize(layout, params, null, l2, l1));
      assertGradClose(grads, [...numeric.values()], name);
      for (const e of layout.entries.filter((x) => x.role !== 'weight')) {
        assert.ok(grads.subarray(e.offset, e.offset + e.size).every((g) => g === 0), `${e.name} must not be regularized`);
      }
    });
  }
});

// ---- whole networks -----------------------------------------------------------------------------------------------

interface NetworkCase {
  name: string;
  spec: NetworkSpec;
  targets: (rng: Rng, n: number, k: number) => Targets;
}

const networkCases: NetworkCase[] = [
  {
    name: 'tanh → sigmoid, softmax, L2',
    spec: { inputs: 3, layers: [{ units: 5, activation: 'tanh' }, { units: 4, activation: 'sigmoid' }], outputs: 3, loss: 'softmax', regularization: { l2: 0.05 } },
    targets: labels(3),
  },
  {
    name: 'relu → leaky-relu, multiclass SVM, L1',
    spec: { inputs: 3, layers: [{ units: 6, activation: 'relu' }, { units: 5, activation: 'leaky-relu', alpha: 0.05 }], outputs: 3, loss: 'svm', regularization: { l1: 0.01 } },
    targets: labels(3),
  },
  {
    name: 'prelu → maxout, multi-label logistic',
    spec: { inputs: 4, layers: [{ units: 5, activation: 'prelu' }, { units: 3, activation: 'maxout', pieces: 2 }], outputs: 2, loss: 'logistic', regularization: { l2: 0.01, l1: 0.01 } },
    targets: uniformTargets,
  },
  {
    name: 'input noise, relu + dropout → tanh + dropout, L2 regression',
    spec: { inputs: 2, inputNoise: 0.2, layers: [{ units: 6, activation: 'relu', dropout: 0.3 }, { units: 4, activation: 'tanh', dropout: 0.5 }], outputs: 2, loss: 'l2' },
    targets: (rng, n, k) => randomArray(rng, n * k),
  },
  { name: 'binary SVM, no hidden layer', spec: { inputs: 3, layers: [], outputs: 1, loss: 'svm' }, targets: labels(2) },
  { name: 'binary logistic', spec: { inputs: 3, layers: [{ units: 4, activation: 'identity' }], outputs: 1, loss: 'logistic' }, targets: labels(2) },
];

describe('whole-network gradients (float64 finite differences)', () => {
  for (const c of networkCases) {
    test(c.name, () => {
      const n = 5;
      const net = new Network(c.spec, { ctx: createFloat64Backend(), maxBatch: n, seed: 3, optimizer: { type: 'sgd', learningRate: 0.1 } });
      const rng = new Rng(9);
      const x = randomArray(rng, n * c.spec.inputs);
      const targets = c.targets(rng, n, c.spec.outputs);
      const rngState = net.rng.state();
      const lossAt = (): number => {
        net.rng.restore(rngState);
        return net.computeGradients(x, targets, n).loss;
      };
      lossAt();
      const analytic = Float64Array.from(net.grads);
      if (c.spec.layers.some((l) => l.dropout) || c.spec.inputNoise) {
        // without dropout and noise (training: false) the gradient is that of the deterministic network
        net.computeGradients(x, targets, n, { training: false });
        const plain = Float64Array.from(net.grads);
        const numericPlain = numericGradient(net.params, () => net.computeGradients(x, targets, n, { training: false }).loss);
        for (const [i, v] of numericPlain) assertGradClose([plain[i]], [v], `${c.name} (inference mode) param ${i}`);
      }
      const numeric = numericGradient(net.params, lossAt, net.layout.entries.flatMap((e) => Array.from({ length: e.size }, (_, i) => e.offset + i)));
      for (const e of net.layout.entries) {
        const indices = Array.from({ length: e.size }, (_, i) => e.offset + i);
        assertGradClose(indices.map((i) => analytic[i]), indices.map((i) => numeric.get(i)!), `${c.name} ${e.name}`);
      }
    });
  }

  test('the float32 path computes the same gradients as the float64 path', () => {
    const spec = networkCases[0].spec;
    const n = 8;
    const rng = new Rng(4);
    const x = randomArray(rng, n * spec.inputs);
    const y = labels(3)(rng, n);
    const options = { maxBatch: n, seed: 3, optimizer: { type: 'sgd', learningRate: 0.1 } as const };
    const f64 = new Network(spec, { ...options, ctx: createFloat64Backend() });
    const f32 = new Network(spec, { ...options, ctx: createReferenceContext() });
    const a = f64.computeGradients(x, y, n);
    const b = f32.computeGradients(x, y, n);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * a.loss);
    // float32 rounding of inputs, weights and every intermediate: ~1e-7 relative per operation, a few dozen operations deep.
    let worst = 0;
    for (let i = 0; i < f64.grads.length; i++) worst = Math.max(worst, Math.abs(f64.grads[i] - f32.grads[i]));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });
});
