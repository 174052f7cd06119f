import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFloat64Backend } from '../../src/engine/backend.js';
import { Optimizer, resolveOptimizer, scheduledRate, validateOptimizer, type OptimizerConfig } from '../../src/engine/optimizers.js';
import { Rng } from '../../src/engine/rng.js';
import { SpecError } from '../../src/engine/spec.js';

/** The CS231n update formulas, written out plainly (one element at a time), as the independent reference. */
function reference(config: OptimizerConfig, steps: Float64Array[], w0: Float64Array): Float64Array {
  const w = Float64Array.from(w0);
  const n = w.length;
  const m = new Float64Array(n), v = new Float64Array(n);
  steps.forEach((g, t) => {
    const lr = config.learningRate;
    for (let i = 0; i < n; i++) {
      switch (config.type) {
        case 'sgd': w[i] += -lr * g[i]; break;
        case 'momentum': v[i] = 0.9 * v[i] - lr * g[i]; w[i] += v[i]; break;
        case 'nesterov': { const prev = v[i]; v[i] = 0.9 * v[i] - lr * g[i]; w[i] += -0.9 * prev + 1.9 * v[i]; break; }
        case 'adagrad': v[i] += g[i] * g[i]; w[i] += (-lr * g[i]) / (Math.sqrt(v[i]) + 1e-8); break;
        case 'rmsprop': v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i]; w[i] += (-lr * g[i]) / (Math.sqrt(v[i]) + 1e-8); break;
        case 'adam': {
          m[i] = 0.9 * m[i] + 0.1 * g[i];
          v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
          const mt = m[i] / (1 - 0.9 ** (t + 1)), vt = v[i] / (1 - 0.999 ** (t + 1));
          w[i] += (-lr * mt) / (Math.sqrt(vt) + 1e-8);
          break;
        }
      }
    }
  });
  return w;
}

const configs: OptimizerConfig[] = [
  { type: 'sgd', learningRate: 0.1 },
  { type: 'momentum', learningRate: 0.1 },
  { type: 'nesterov', learningRate: 0.1 },
  { type: 'adagrad', learningRate: 0.1 },
  { type: 'rmsprop', learningRate: 0.01 },
  { type: 'adam', learningRate: 0.01 },
];

describe('optimizers follow the CS231n update formulas', () => {
  for (const config of configs) {
    test(config.type, () => {
      const rng = new Rng(2);
      const n = 9;
      const w0 = Float64Array.from({ length: n }, () => rng.normal());
      const steps = Array.from({ length: 7 }, () => Float64Array.from({ length: n }, () => rng.normal()));
      const opt = new Optimizer(config, createFloat64Backend(), n);
      const w = Float64Array.from(w0);
      for (const g of steps) {
        const { gradSquares } = opt.update(w, g);
        assert.ok(Math.abs(gradSquares - g.reduce((s, v) => s + v * v, 0)) < 1e-12);
      }
      const expected = reference(config, steps, w0);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(w[i] - expected[i]) < 1e-12, `${config.type} w[${i}]: ${w[i]} vs ${expected[i]}`);
      assert.equal(opt.step, 7);
    });
  }
});

test('every optimizer minimizes a quadratic bowl', () => {
  for (const config of configs) {
    const opt = new Optimizer(config, createFloat64Backend(), 2);
    const w = Float64Array.from([3, -2]);
    const g = new Float64Array(2);
    for (let t = 0; t < 2000; t++) {
      g[0] = 2 * w[0];
      g[1] = 10 * w[1];
      opt.update(w, g);
    }
    assert.ok(Math.hypot(w[0], w[1]) < 0.05, `${config.type} ended at ${w[0]}, ${w[1]}`);
  }
});

test('optimizer state restores exactly', () => {
  for (const config of configs) {
    const rng = new Rng(3);
    const grads = Array.from({ length: 10 }, () => Float64Array.from({ length: 5 }, () => rng.normal()));
    const a = new Optimizer(config, createFloat64Backend(), 5);
    const wa = new Float64Array(5).fill(1);
    grads.forEach((g) => a.update(wa, g));
    const b = new Optimizer(config, createFloat64Backend(), 5);
    const wb = new Float64Array(5).fill(1);
    grads.slice(0, 4).forEach((g) => b.update(wb, g));
    const saved = { step: b.step, buffers: b.buffers.map((x) => Float64Array.from(x)) };
    const c = new Optimizer(config, createFloat64Backend(), 5);
    c.restore(saved);
    grads.slice(4).forEach((g) => c.update(wb, g));
    assert.deepEqual(wb, wa, config.type);
  }
});

test('presets map to the general updates', () => {
  assert.deepEqual(resolveOptimizer({ type: 'sgd', learningRate: 1 }).rule, { family: 'momentum', momentum: 0, nesterov: false });
  assert.deepEqual(resolveOptimizer({ type: 'adagrad', learningRate: 1 }).rule,
    { family: 'adaptive', beta1: 0, beta2: 1, gamma: 1, epsilon: 1e-8, biasCorrection: false });
  const adam = resolveOptimizer({ type: 'adam', learningRate: 1, beta1: 0.8 }).rule;
  assert.equal(adam.family === 'adaptive' && adam.beta1, 0.8);
  assert.equal(new Optimizer({ type: 'sgd', learningRate: 1 }, createFloat64Backend(), 3).buffers.length, 0);
  assert.equal(new Optimizer({ type: 'adam', learningRate: 1 }, createFloat64Backend(), 3).buffers.length, 2);
});

test('learning-rate schedules', () => {
  assert.equal(scheduledRate(0.1, { type: 'constant' }, 1000), 0.1);
  assert.equal(scheduledRate(1, { type: 'step', every: 10, factor: 0.5 }, 9), 1);
  assert.equal(scheduledRate(1, { type: 'step', every: 10, factor: 0.5 }, 10), 0.5);
  assert.equal(scheduledRate(1, { type: 'step', every: 10, factor: 0.5 }, 25), 0.25);
  assert.ok(Math.abs(scheduledRate(2, { type: 'exponential', decay: 0.1 }, 10) - 2 * Math.exp(-1)) < 1e-15);
  const cosine = { type: 'cosine', steps: 100, minLearningRate: 0.1 } as const;
  assert.equal(scheduledRate(1, cosine, 0), 1);
  assert.ok(Math.abs(scheduledRate(1, cosine, 50) - 0.55) < 1e-12);
  assert.ok(Math.abs(scheduledRate(1, cosine, 100) - 0.1) < 1e-12);
  assert.ok(Math.abs(scheduledRate(1, cosine, 500) - 0.1) < 1e-12);
  const opt = new Optimizer({ type: 'sgd', learningRate: 1, schedule: { type: 'step', every: 2, factor: 0.1 } }, createFloat64Backend(), 1);
  const w = Float64Array.from([0]);
  const used = Array.from({ length: 5 }, () => opt.update(w, Float64Array.from([1])).learningRate);
  assert.deepEqual(used, [1, 1, 0.1, 0.1, 0.1 * 0.1]);
});

test('invalid configs are reported, not defaulted', () => {
  assert.deepEqual(validateOptimizer({ type: 'sgd', learningRate: 0.1 }), []);
  const paths = (c: unknown) => validateOptimizer(c).map((i) => i.path);
  assert.deepEqual(paths({ type: 'adamw', learningRate: 0.1 }), ['type']);
  assert.deepEqual(paths({ type: 'adam', learningRate: -1, beta1: 1, epsilon: 0 }), ['learningRate', 'beta1', 'epsilon']);
  assert.deepEqual(paths({ type: 'sgd', learningRate: 1, schedule: { type: 'step', every: 0, factor: 2 } }), ['schedule.every', 'schedule.factor']);
  assert.deepEqual(paths({ type: 'sgd', learningRate: 1, schedule: { type: 'linear' } }), ['schedule.type']);
  assert.throws(() => new Optimizer({ type: 'momentum', learningRate: 0.1, momentum: 1.5 }, createFloat64Backend(), 1), SpecError);
});
