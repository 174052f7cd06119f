/**
 * The network, on every engine configuration (reference; fast with 1 thread; fast with all cores): learning (spiral,
 * XOR, sine), exact resume, determinism of dropout and noise, evaluate/predict purity, warm starts, statistics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ComputeContext } from '../../src/engine/compute.js';
import { createNetwork, Network, readStateMeta, restoreNetwork, type NetworkOptions } from '../../src/engine/network.js';
import { createReferenceContext } from '../../src/engine/reference-context.js';
import { Rng } from '../../src/engine/rng.js';
import type { NetworkSpec } from '../../src/engine/spec.js';
import { sine, spiral, xor } from './datasets.js';
import { engineConfigs, loadFastContext } from './engine-configs.js';

const configs = await engineConfigs();

/** Rows `idx` of x (width w) gathered into `out`. */
function gather<A extends Float32Array | Int32Array>(src: A, w: number, idx: ArrayLike<number>, out: A): A {
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * w, idx[i] * w + w), i * w);
  return out;
}

const resumeSpec: NetworkSpec = {
  inputs: 2, inputNoise: 0.05, loss: 'softmax', outputs: 3, regularization: { l2: 1e-3, l1: 1e-5 },
  layers: [{ units: 24, activation: 'prelu', dropout: 0.2 }, { units: 12, activation: 'maxout', pieces: 2, dropout: 0.1 }],
};

/** Trains `steps` minibatch steps of 32 rows of the spiral, batches drawn from their own RNG (as the training loop will). */
function trainMinibatches(net: Network, data: ReturnType<typeof spiral>, batchRng: Rng, steps: number): number[] {
  const idx = new Int32Array(32), bx = new Float32Array(64), by = new Int32Array(32);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < 32; i++) idx[i] = batchRng.int(data.n);
    losses.push(net.trainStep(gather(data.x, 2, idx, bx), gather(data.y, 1, idx, by), 32).loss);
  }
  return losses;
}

for (const config of configs) {
  describe(`network on ${config.name}`, () => {
    let ctx: ComputeContext;
    before(async () => {
      ctx = await config.create();
    });
    after(() => ctx.close());
    const options = (extra: Partial<NetworkOptions> = {}): NetworkOptions => ({
      ctx, maxBatch: 300, seed: 1, optimizer: { type: 'sgd', learningRate: 1 }, ...extra,
    });

    test('CS231n spiral: one hidden layer of 100 ReLUs reaches ≥ 97% training accuracy', () => {
      const data = spiral();
      // The case-study recipe: 0.01·randn weights, SGD with step size 1, L2 1e-3, full batch.
      const sgd = createNetwork({ inputs: 2, layers: [{ units: 100, activation: 'relu' }], outputs: 3, loss: 'softmax', regularization: { l2: 1e-3 }, init: 'small' }, options());
      assert.equal(sgd.parameterCount, 2 * 100 + 100 + 100 * 3 + 3);
      let first = 0;
      for (let i = 0; i < 3000; i++) {
        const s = sgd.trainStep(data.x, data.y, data.n);
        if (i === 0) first = s.loss;
      }
      const result = sgd.evaluate(data.x, data.y, data.n);
      assert.ok(Math.abs(first - Math.log(3)) < 0.01, `initial loss ${first} should be ≈ ln 3`);
      assert.ok(result.accuracy! >= 0.97, `SGD accuracy ${result.accuracy}`);
      // Adam with the default (He) initialization gets there faster.
      const adam = createNetwork({ inputs: 2, layers: [{ units: 100, activation: 'relu' }], outputs: 3, loss: 'softmax', regularization: { l2: 1e-3 } },
        options({ optimizer: { type: 'adam', learningRate: 0.02 } }));
      for (let i = 0; i < 800; i++) adam.trainStep(data.x, data.y, data.n);
      assert.ok(adam.evaluate(data.x, data.y, data.n).accuracy! >= 0.97, 'Adam accuracy');
    });

    test('XOR is learned (softmax and binary logistic heads)', () => {
      const data = xor();
      for (const spec of [
        { inputs: 2, layers: [{ units: 8, activation: 'tanh' }], outputs: 2, loss: 'softmax' },
        { inputs: 2, layers: [{ units: 8, activation: 'relu' }], outputs: 1, loss: 'logistic' },
        { inputs: 2, layers: [{ units: 8, activation: 'sigmoid' }], outputs: 1, loss: 'svm' },
      ] as NetworkSpec[]) {
        const net = createNetwork(spec, options({ maxBatch: 4, optimizer: { type: 'adam', learningRate: 0.05 } }));
        for (let i = 0; i < 600; i++) net.trainStep(data.x, data.y, 4);
        const r = net.evaluate(data.x, data.y, 4);
        assert.equal(r.accuracy, 1, `${spec.loss}: accuracy ${r.accuracy}`);
        assert.ok(r.dataLoss < 0.1, `${spec.loss}: loss ${r.dataLoss}`);
      }
    });

    test('1-D regression: sin(x) is learned', () => {
      const data = sine();
      const net = createNetwork({ inputs: 1, layers: [{ units: 32, activation: 'tanh' }], outputs: 1, loss: 'l2' },
        options({ maxBatch: data.n, optimizer: { type: 'adam', learningRate: 0.01 } }));
      for (let i = 0; i < 2000; i++) net.trainStep(data.x, data.y, data.n);
      const r = net.evaluate(data.x, data.y, data.n);
      assert.ok(r.rmse! < 0.05 && r.r2! > 0.99, `rmse ${r.rmse}, r² ${r.r2}`);
      assert.equal(r.accuracy, null);
      const p = net.predict(Float32Array.from([Math.PI / 2]), 1);
      assert.ok(Math.abs(p[0] - 1) < 0.1, `sin(π/2) predicted as ${p[0]}`);
    });

    test('save → restore → continue gives bit-identical weights to never stopping', () => {
      const data = spiral(3);
      const opts = options({ maxBatch: 32, seed: 9, optimizer: { type: 'adam', learningRate: 0.01, schedule: { type: 'cosine', steps: 40 } } });
      const straight = createNetwork(resumeSpec, opts);
      const straightLosses = trainMinibatches(straight, data, new Rng(100), 40);

      const first = createNetwork(resumeSpec, opts);
      const batchRng = new Rng(100);
      const firstLosses = trainMinibatches(first, data, batchRng, 17);
      const saved = first.saveState();
      trainMinibatches(first, data, new Rng(5), 3); // the interrupted run goes on a bit (and is lost)
      assert.equal(readStateMeta(saved).step, 17);
      const resumed = restoreNetwork(saved, { ctx, maxBatch: 32 });
      const resumedLosses = trainMinibatches(resumed, data, batchRng, 23);

      assert.deepEqual([...firstLosses, ...resumedLosses], straightLosses);
      assert.deepEqual(resumed.params, straight.params);
      resumed.optimizer.buffers.forEach((b, i) => assert.deepEqual(b, straight.optimizer.buffers[i]));
      assert.deepEqual(resumed.rng.state(), straight.rng.state());
      assert.equal(resumed.step, 40);
      assert.deepEqual(resumed.saveState(), straight.saveState());

      // restoreState into an existing network of the same spec works too; another spec is refused.
      first.restoreState(saved);
      assert.equal(first.step, 17);
      const other = createNetwork({ ...resumeSpec, outputs: 4 }, opts);
      assert.throws(() => other.restoreState(saved), /another spec/);
      assert.throws(() => first.restoreState(saved.subarray(0, saved.length - 4)), /truncated|trailing/);
    });

    test('dropout and input noise are deterministic given the seed, and off at inference', () => {
      const data = spiral(1);
      const run = (seed: number) => {
        const net = createNetwork(resumeSpec, options({ maxBatch: 32, seed }));
        return { net, losses: trainMinibatches(net, data, new Rng(7), 10) };
      };
      const a = run(4), b = run(4), c = run(5);
      assert.deepEqual(a.losses, b.losses);
      assert.deepEqual(a.net.params, b.net.params);
      assert.notDeepEqual(a.losses, c.losses);
      // Training-mode passes draw fresh masks (different losses); evaluation draws nothing and is repeatable.
      const x = data.x.subarray(0, 64), y = data.y.subarray(0, 32);
      const l1 = a.net.computeGradients(x, y, 32).loss, l2 = a.net.computeGradients(x, y, 32).loss;
      assert.notEqual(l1, l2);
      const e1 = a.net.computeGradients(x, y, 32, { training: false }).loss;
      assert.equal(a.net.computeGradients(x, y, 32, { training: false }).loss, e1);
      assert.equal(a.net.evaluate(x, y, 32).loss, e1);
    });

    test('evaluate and predict change no state and chunk large inputs', () => {
      const data = spiral(2);
      const net = createNetwork(resumeSpec, options({ maxBatch: 64 }));
      trainMinibatches(net, data, new Rng(3), 5);
      const before = net.saveState();
      const statsBefore = net.layerStats().map(({ deadFraction: _, ...s }) => s);
      const r = net.evaluate(data.x, data.y, data.n); // 300 rows in chunks of 64
      const p = net.predict(data.x, data.n);
      assert.deepEqual(net.saveState(), before);
      assert.deepEqual(net.layerStats().map(({ deadFraction: _, ...s }) => s), statsBefore);
      assert.equal(r.rows, 300);
      // predict gives probabilities whose argmax agrees with evaluate's accuracy
      let correct = 0;
      for (let i = 0; i < data.n; i++) {
        const row = p.subarray(i * 3, i * 3 + 3);
        assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5);
        correct += +(row.indexOf(Math.max(...row)) === data.y[i]);
      }
      assert.equal(correct / data.n, r.accuracy);
      // chunked evaluation equals one big batch
      const big = createNetwork(resumeSpec, options({ maxBatch: 300 }));
      big.importWeights(net.exportWeights());
      const whole = big.evaluate(data.x, data.y, data.n);
      assert.ok(Math.abs(whole.loss - r.loss) < 1e-6 && whole.accuracy === r.accuracy);
    });

    test('warm start from another network of the same architecture', () => {
      const data = spiral(4);
      const a = createNetwork(resumeSpec, options({ maxBatch: 32, seed: 1 }));
      trainMinibatches(a, data, new Rng(1), 10);
      const weights = a.exportWeights();
      assert.equal(weights.values.length, a.parameterCount);
      const b = createNetwork(resumeSpec, options({ maxBatch: 32, seed: 2, optimizer: { type: 'momentum', learningRate: 0.1 } }));
      b.importWeights(weights);
      assert.deepEqual(b.params, a.params);
      assert.deepEqual(b.evaluate(data.x, data.y, data.n), a.evaluate(data.x, data.y, data.n));
      assert.equal(b.step, 0);
      const c = createNetwork({ ...resumeSpec, layers: [{ units: 25, activation: 'relu' }] }, options());
      assert.throws(() => c.importWeights(weights), /architecture/);
    });

    test('bad batches are refused before anything changes', () => {
      const net = createNetwork({ inputs: 2, layers: [], outputs: 3, loss: 'softmax' }, options({ maxBatch: 4 }));
      const x = new Float32Array(8);
      const before = net.saveState();
      assert.throws(() => net.trainStep(x, Int32Array.from([0, 1, 2, 3]), 4), /label 3/);
      assert.throws(() => net.trainStep(x, new Float32Array(12), 4), TypeError);
      assert.throws(() => net.trainStep(x, new Int32Array(5), 5), /batch size/);
      assert.throws(() => net.trainStep(x.subarray(0, 6), new Int32Array(4), 4), /x has 6 values/);
      assert.deepEqual(net.saveState(), before);
      const l2 = createNetwork({ inputs: 2, layers: [], outputs: 2, loss: 'l2' }, options({ maxBatch: 4 }));
      assert.throws(() => l2.trainStep(x, Float32Array.from([0, 1, 2, NaN, 0, 0, 0, 0]), 4), /not finite/);
    });

    test('layer statistics: gradient norm, update ratio, activations, dead and saturated units', () => {
      const data = spiral(5);
      const net = createNetwork({ inputs: 2, layers: [{ units: 10, activation: 'relu' }, { units: 8, activation: 'tanh' }], outputs: 3, loss: 'softmax' },
        options({ optimizer: { type: 'sgd', learningRate: 0.01 } }));
      const [W1, b1] = net.layers[0].parameters;
      b1.value.fill(0);
      for (let j = 0; j < 3; j++) { // kill units 0..2: zero weights, very negative bias
        for (let i = 0; i < 2; i++) W1.value[i * 10 + j] = 0;
        b1.value[j] = -100;
      }
      const W2 = net.layers[1].parameters[0];
      for (let i = 0; i < W2.value.length; i++) W2.value[i] *= 1000; // saturate tanh
      for (let s = 0; s < 3; s++) net.trainStep(data.x, data.y, data.n);
      const stats = net.trainStep(data.x, data.y, data.n, { layerStats: true }).layers!;
      assert.deepEqual(stats.map((s) => s.name), ['dense1', 'dense2', 'output']);
      const [d1, d2, out] = stats;
      assert.equal(d1.deadFraction, 0.3);
      assert.equal(d1.saturatedFraction, null);
      assert.ok(d2.saturatedFraction! >= 0.75, `saturated ${d2.saturatedFraction}`);
      assert.equal(d2.deadFraction, null);
      assert.equal(out.deadFraction, null);
      // gradient norm of a layer = ‖(dW, db)‖; the update ratio of plain SGD = lr·‖dW‖/‖W‖ (up to float32 rounding)
      const [oW, ob] = net.layers[2].parameters;
      const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
      assert.ok(Math.abs(out.gradNorm - Math.hypot(norm(oW.grad), norm(ob.grad))) < 1e-6 * out.gradNorm);
      const wBefore = oW.value.map((w, i) => w + 0.01 * oW.grad[i]);
      assert.ok(Math.abs(out.updateRatio! - (0.01 * norm(oW.grad)) / norm(wBefore)) < 1e-4 * out.updateRatio!);
      assert.ok(Math.abs(out.weightNorm - norm(oW.value)) < 1e-6 * out.weightNorm);
      assert.ok(d1.activationMean > 0 && d1.activationStd > 0);
      // the dead window restarts at each read: no training step since → null; a later step → measured again
      assert.equal(net.layerStats()[0].deadFraction, null);
      net.trainStep(data.x, data.y, data.n);
      assert.equal(net.layerStats()[0].deadFraction, 0.3);
    });

    test('trains like the reference context (same math, up to float32 rounding and FMA)', () => {
      const data = spiral(7);
      const spec: NetworkSpec = { inputs: 2, layers: [{ units: 40, activation: 'tanh' }, { units: 30, activation: 'prelu' }], outputs: 3, loss: 'svm', regularization: { l2: 1e-3 } };
      const opts = { maxBatch: 300, seed: 5, optimizer: { type: 'momentum', learningRate: 0.05 } } as const;
      const mine = createNetwork(spec, { ...opts, ctx });
      const ref = createNetwork(spec, { ...opts, ctx: createReferenceContext() });
      for (let i = 0; i < 20; i++) {
        const a = mine.trainStep(data.x, data.y, data.n).loss, b = ref.trainStep(data.x, data.y, data.n).loss;
        assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `step ${i}: ${a} vs ${b}`);
      }
      for (let i = 0; i < ref.params.length; i++) assert.ok(Math.abs(mine.params[i] - ref.params[i]) < 1e-5, `param ${i}`);
    });

    test('step stats double as a progress message', () => {
      const data = spiral(6);
      const net = createNetwork({ inputs: 2, layers: [{ units: 16, activation: 'relu' }], outputs: 3, loss: 'softmax', regularization: { l2: 0.01 } }, options());
      const s = net.trainStep(data.x, data.y, data.n);
      assert.deepEqual(Object.keys(s), ['step', 'batchSize', 'loss', 'dataLoss', 'regLoss', 'learningRate', 'gradNorm', 'timings']);
      assert.ok(Math.abs(s.gradNorm - Math.sqrt(Array.from(net.grads).reduce((a, g) => a + g * g, 0))) < 1e-6 * s.gradNorm);
      assert.equal(s.step, 1);
      assert.ok(s.regLoss > 0 && Math.abs(s.loss - s.dataLoss - s.regLoss) < 1e-12);
      assert.ok(s.timings.forwardMs >= 0 && s.timings.backwardMs >= 0 && s.timings.updateMs >= 0);
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    });
  });
}

describe('fast context determinism', async () => {
  const createFast = await loadFastContext();
  test('training on 1, 2 and 3 threads gives bit-identical weights', { skip: createFast ? false : 'no fast context in this tree' }, async () => {
    const spec: NetworkSpec = {
      inputs: 64, loss: 'softmax', outputs: 10, regularization: { l2: 1e-4 },
      layers: [{ units: 160, activation: 'relu', dropout: 0.1 }, { units: 96, activation: 'maxout', pieces: 2 }, { units: 48, activation: 'tanh' }],
    };
    const rng = new Rng(8);
    const n = 128;
    const x = new Float32Array(n * 64);
    rng.fillNormal(x, 0, x.length);
    const y = Int32Array.from({ length: n }, () => rng.int(10));
    const results: { params: Float32Array; losses: number[] }[] = [];
    for (const threads of [1, 2, 3]) {
      const ctx = await createFast!({ threads });
      try {
        const net = createNetwork(spec, { ctx, maxBatch: n, seed: 12, optimizer: { type: 'nesterov', learningRate: 0.05 } });
        const losses = Array.from({ length: 15 }, () => net.trainStep(x, y, n).loss);
        results.push({ params: Float32Array.from(net.params), losses });
      } finally {
        await ctx.close();
      }
    }
    assert.deepEqual(results[1].losses, results[0].losses);
    assert.deepEqual(results[2].losses, results[0].losses);
    assert.deepEqual(results[1].params, results[0].params);
    assert.deepEqual(results[2].params, results[0].params);
  });
});
