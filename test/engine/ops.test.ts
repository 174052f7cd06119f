/**
 * The fast element-wise ops (WASM SIMD, src/engine/kernels/assembly/ops.ts through src/engine/ops-wasm.ts) against the
 * TypeScript reference ops (src/engine/ops.ts), for every kernel flavour, on odd sizes (1, 3, 7, 33 … and sizes off
 * the 4-lane vectors and the 16 384-element update chunks); and their determinism across thread counts.
 *
 * Where the fast kernel does the reference's arithmetic (identity/ReLU/leaky ReLU/PReLU forward, every backward and its
 * column sums) the results must be bit-identical. Elsewhere the tolerances are stated with each check.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createFastContext, type FastContext } from '../../src/engine/fast-context.js';
import { gemmReference } from '../../src/engine/kernels/gemm-reference.js';
import { relaxedSimdAvailable, type WasmFlavour } from '../../src/engine/kernels/gemm-wasm.js';
import { referenceOps, type Penalty, type PointActivation, type UpdateStep } from '../../src/engine/ops.js';
import { sumSquares } from '../../src/engine/stats.js';
import { rng } from './seeded-random.js';

const flavours: WasmFlavour[] = relaxedSimdAvailable() ? ['simd', 'relaxed-simd'] : ['simd'];
const ACTIVATIONS: readonly PointActivation[] = ['identity', 'relu', 'leaky-relu', 'prelu', 'sigmoid', 'tanh'];
/** (n, u): ones, odd sizes, sizes off the 4-lane vectors and the 8-column blocks. */
const SHAPES: readonly (readonly [number, number])[] = [
  [1, 1], [1, 3], [3, 1], [3, 7], [7, 4], [2, 5], [5, 8], [4, 9], [7, 17], [33, 33], [1, 100], [13, 100],
];
const U = 2 ** -24; // unit roundoff of float32

/** Random values of mixed magnitude, with exact zeros, negative zeros and (for `wide`) values that saturate. */
function fill(view: Float32Array, next: () => number, wide = false): Float32Array {
  for (let i = 0; i < view.length; i++) {
    const r = next();
    view[i] = r < 0.05 ? 0 : r < 0.08 ? -0 : (next() * 2 - 1) * (wide && r > 0.8 ? 60 : 3);
  }
  return view;
}

/** A copy of `host` in the context's memory. */
function shared(ctx: FastContext, host: Float32Array): Float32Array {
  const view = ctx.alloc(host.length);
  view.set(host);
  return view;
}

function assertSame(got: Float32Array, want: Float32Array, where: string): void {
  assert.equal(got.length, want.length, `${where}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${where}[${i}]: ${got[i]}, reference ${want[i]}`);
  }
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: (i: number) => number, where: string): void {
  assert.equal(got.length, want.length, `${where}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tolerance(i)) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.fail(`${where}[${i}]: ${got[i]}, reference ${want[i]}, tolerance ${tolerance(i)}`);
    }
  }
}

const reference = referenceOps<Float32Array>(gemmReference);

for (const flavour of flavours) {
  describe(`fast ops, ${flavour}`, () => {
    let ctx: FastContext;
    before(async () => {
      ctx = await createFastContext({ threads: 1, kernel: flavour });
    });
    after(() => ctx.close());

    for (const f of ACTIVATIONS) {
      test(`${f} forward matches the reference`, () => {
        const exact = f !== 'sigmoid' && f !== 'tanh';
        SHAPES.forEach(([n, u], s) => {
          const next = rng(100 * s + ACTIVATIONS.indexOf(f));
          const z = fill(new Float32Array(n * u), next, true), b = fill(new Float32Array(u), next);
          const alpha = fill(new Float32Array(u), next);
          const slope = 0.01 + next() * 0.3;
          const want = new Float32Array(n * u), wantZ = Float32Array.from(z);
          reference.activationForward(f, wantZ, b, want, n, u, slope, alpha);
          // out of place, with guard values around the output
          const zs = shared(ctx, z), bs = shared(ctx, b), alphas = shared(ctx, alpha);
          const outAll = ctx.alloc(n * u + 8).fill(7), out = outAll.subarray(4, 4 + n * u);
          ctx.ops.activationForward(f, zs, bs, out, n, u, slope, alphas);
          const where = `${f} (${n}, ${u})`;
          assert.ok([...outAll.subarray(0, 4), ...outAll.subarray(4 + n * u)].every((x) => x === 7), `${where}: wrote outside a`);
          if (exact) {
            assertSame(out, want, where);
          } else {
            // The kernel computes f(v) with v = z + b rounded to f32 (the reference keeps z + b in f64): that rounding,
            // |Δv| ≤ u·|v|, moves f by |f'(v)|·u·|v|; the f32 polynomials add at most 1.5 ulp (4u·|f| covers both that
            // and the final rounding). 1e-38 absolute for results flushed to 0 (σ below 1e-30) or saturated alike.
            const slopeAt = (i: number) => (f === 'sigmoid' ? want[i] * (1 - want[i]) : 1 - want[i] * want[i]);
            assertClose(out, want, (i) => {
              const v = Math.abs(z[i] + b[i % u]);
              return 4 * U * Math.abs(want[i]) + U * v * Math.abs(slopeAt(i)) + 1e-38;
            }, where);
          }
          if (f === 'prelu') assertSame(zs, wantZ, `${where} z + b`);
          else assertSame(zs, z, `${where} z untouched`);
          if (f !== 'prelu') {
            // in place
            const inPlace = shared(ctx, z);
            ctx.ops.activationForward(f, inPlace, bs, inPlace, n, u, slope, null);
            assertSame(inPlace, out, `${where} in place`);
          }
        });
      });

      test(`${f} backward (dz and the column sums) is bit-identical to the reference`, () => {
        SHAPES.forEach(([n, u], s) => {
          const next = rng(7000 + 100 * s + ACTIVATIONS.indexOf(f));
          // `a` as the forward pass leaves it: the activation's output (PReLU: z + b)
          const a = new Float32Array(n * u);
          const pre = fill(new Float32Array(n * u), next, true);
          const alpha = fill(new Float32Array(u), next);
          const slope = 0.01 + next() * 0.3;
          if (f === 'prelu') a.set(pre);
          else reference.activationForward(f, pre, new Float32Array(u), a, n, u, slope, alpha);
          const da = fill(new Float32Array(n * u), next);
          const wantDz = new Float32Array(n * u), wantDb = new Float32Array(u), wantDalpha = new Float32Array(u);
          reference.activationBackward(f, a, da, wantDz, wantDb, n, u, slope, alpha, wantDalpha);
          const where = `${f} (${n}, ${u})`;
          for (const inPlace of [false, true]) {
            const as = shared(ctx, a), das = shared(ctx, da), alphas = shared(ctx, alpha);
            const dz = inPlace ? das : ctx.alloc(n * u), db = ctx.alloc(u).fill(9), dalpha = ctx.alloc(u).fill(9);
            ctx.ops.activationBackward(f, as, das, dz, db, n, u, slope, alphas, dalpha);
            assertSame(dz, wantDz, `${where} dz${inPlace ? ' in place' : ''}`);
            assertSame(db, wantDb, `${where} db`);
            if (f === 'prelu') assertSame(dalpha, wantDalpha, `${where} dalpha`);
            assertSame(as, a, `${where} a untouched`);
          }
        });
      });
    }

    test('denseForward (bias and activation fused into the gemm) = gemm, then activationForward', () => {
      // (M = n, K = I, N = O) through each gemm path: narrow (transposed), in place (≤ 8 rows), packed; several K blocks.
      const shapes = [[1, 1, 1], [3, 2, 100], [7, 5, 3], [300, 2, 100], [300, 100, 3], [33, 600, 17], [13, 70, 130], [8, 9, 9], [40, 300, 5], [2, 7, 40], [1, 3, 33]] as const;
      for (const f of ACTIVATIONS) {
        shapes.forEach(([n, I, O], s) => {
          const next = rng(500 * s + ACTIVATIONS.indexOf(f));
          const x = shared(ctx, fill(new Float32Array(n * I), next)), W = shared(ctx, fill(new Float32Array(I * O), next));
          const b = shared(ctx, fill(new Float32Array(O), next)), alpha = shared(ctx, fill(new Float32Array(O), next));
          const want = ctx.alloc(n * O), wantZ = ctx.alloc(n * O);
          ctx.gemm('nn', n, I, O, x, W, wantZ, false);
          ctx.ops.activationForward(f, wantZ, b, want, n, O, 0.05, alpha);
          const y = ctx.alloc(n * O).fill(NaN), z = f === 'prelu' ? ctx.alloc(n * O) : null;
          ctx.ops.denseForward(f, x, W, b, z, y, n, I, O, 0.05, alpha);
          assertSame(y, want, `${f} (${n}, ${I}, ${O})`);
          if (z) assertSame(z, wantZ, `${f} (${n}, ${I}, ${O}) z`);
        });
      }
    });

    test('softmax cross-entropy: loss and gradient match the reference', () => {
      for (const [n, k] of [[1, 2], [2, 3], [3, 3], [4, 10], [5, 2], [7, 17], [33, 3], [9, 100]] as const) {
        const next = rng(n * 1000 + k);
        const scores = fill(new Float32Array(n * k), next, true);
        const labels = Int32Array.from({ length: n }, () => Math.floor(next() * k));
        const scale = 1 / n;
        const wantGrad = new Float32Array(n * k);
        const wantLoss = reference.sumLoss('softmax', scores, k, labels, n, wantGrad, scale);
        const ss = shared(ctx, scores);
        const gradAll = ctx.alloc(n * k + 8).fill(7), grad = gradAll.subarray(4, 4 + n * k);
        const loss = ctx.ops.sumLoss('softmax', ss, k, labels, n, grad, scale);
        const where = `softmax (${n}, ${k})`;
        // Per row, log Σe and the f32 terms are within a few ulp; the sum over rows is in f64.
        assert.ok(Math.abs(loss - wantLoss) <= 1e-6 * Math.abs(wantLoss) + 1e-6 * n, `${where}: loss ${loss}, reference ${wantLoss}`);
        assert.equal(ctx.ops.sumLoss('softmax', ss, k, labels, n, null, scale), loss, `${where}: loss without the gradient`);
        // p = e^(s − m)·(scale/Σ): about 3 ulp of scale per term, plus the rounding of the k-term sum (k·u).
        assertClose(grad, wantGrad, () => (8 + 2 * k) * U * scale, where);
        assert.ok([...gradAll.subarray(0, 4), ...gradAll.subarray(4 + n * k)].every((x) => x === 7), `${where}: wrote outside grad`);
        assertSame(ss, scores, `${where}: scores untouched`);
      }
      const ss = shared(ctx, Float32Array.from([1000, -1000, 999]));
      const grad = ctx.alloc(3);
      const loss = ctx.ops.sumLoss('softmax', ss, 3, Int32Array.from([2]), 1, grad, 1);
      assert.ok(Math.abs(loss - (1 + Math.log(1 + Math.exp(-1)))) < 1e-6, `huge scores: loss ${loss}`);
      assert.equal(grad[1], 0, 'a probability below 1e-30 is flushed to 0');
      assert.throws(() => ctx.ops.sumLoss('softmax', ss, 3, Int32Array.from([3]), 1, grad, 1), /label 3/);
    });

    test('other losses run the reference on the shared buffers', () => {
      const next = rng(5);
      const scores = fill(new Float32Array(12), next), targets = fill(new Float32Array(12), next);
      const want = new Float32Array(12), grad = ctx.alloc(12);
      const wantLoss = reference.sumLoss('l2', scores, 3, targets, 4, want, 0.25);
      assert.equal(ctx.ops.sumLoss('l2', shared(ctx, scores), 3, targets, 4, grad, 0.25), wantLoss);
      assertSame(grad, want, 'l2 grad');
    });

    const steps: Record<string, UpdateStep> = {
      none: { kind: 'none' },
      sgd: { kind: 'momentum', learningRate: 0.1, momentum: 0, nesterov: false },
      momentum: { kind: 'momentum', learningRate: 0.05, momentum: 0.9, nesterov: false },
      nesterov: { kind: 'momentum', learningRate: 0.05, momentum: 0.8, nesterov: true },
      rmsprop: { kind: 'adaptive', learningRate: 0.01, beta1: 0, beta2: 0.99, gamma: 0.01, epsilon: 1e-8, c1: 1, c2: 1 },
      adam: { kind: 'adaptive', learningRate: 0.01, beta1: 0.9, beta2: 0.999, gamma: 0.001, epsilon: 1e-8, c1: 1 - 0.9 ** 3, c2: 1 - 0.999 ** 3 },
    };
    for (const [name, step] of Object.entries(steps)) {
      test(`update ${name}: weights, state, gradient and sums match the reference`, () => {
        const lengths = [1, 3, 7, 33, 16384 + 5, 3 * 16384 + 7];
        lengths.forEach((length, s) => {
          const next = rng(31 * s + name.length);
          const w = fill(new Float32Array(length), next), g = fill(new Float32Array(length), next);
          const m = fill(new Float32Array(length), next).map(Math.abs), v = fill(new Float32Array(length), next).map(Math.abs);
          // penalized ranges with boundaries off the vectors and across chunks
          const cut = (x: number) => Math.min(length, Math.floor(x));
          const ranges: [number, number][] = length < 4 ? [[0, length]] : [[1, cut(length / 3)], [cut(length / 3) + 2, length - 1]];
          for (const penalty of [null, { l2: 0.01, l1: 0.001, ranges }] as (Penalty | null)[]) {
            const where = `${name} length ${length}${penalty ? ' with penalty' : ''}`;
            const want = { w: Float32Array.from(w), g: Float32Array.from(g), m: Float32Array.from(m), v: Float32Array.from(v) };
            const wantSums = reference.update(step, want.w, want.g, want.m, want.v, length, penalty);
            const got = { w: shared(ctx, w), g: shared(ctx, g), m: shared(ctx, m), v: shared(ctx, v) };
            const sums = ctx.ops.update(step, got.w, got.g, got.m, got.v, length, penalty);
            // The gradient (penalty added): g + (l2·w + l1·sign w) in f32, a few roundings of the terms' size.
            assertClose(got.g, want.g, (i) => 4 * U * (Math.abs(g[i]) + 0.01 * Math.abs(w[i]) + 0.001), `${where} g`);
            // State and weights: f32 arithmetic with FMA, against f64 rounded once: a few ulp of the terms involved.
            const lr = 'learningRate' in step ? step.learningRate : 0;
            const size = (i: number) => Math.abs(w[i]) + Math.abs(want.w[i]) + Math.abs(m[i]) + Math.abs(v[i]) + lr * (Math.abs(g[i]) + 1);
            const relative = step.kind === 'adaptive' ? 64 * U : 8 * U;
            assertClose(got.w, want.w, (i) => relative * size(i), `${where} w`);
            assertClose(got.v, want.v, (i) => relative * size(i), `${where} v`);
            assertClose(got.m, want.m, (i) => relative * size(i), `${where} m`);
            // Σg²: f32 block sums of at most 8 terms per lane, in f64 → within 16u relative.
            assert.ok(Math.abs(sums.gradSquares - wantSums.gradSquares) <= 16 * U * wantSums.gradSquares + 1e-30, `${where}: Σg² ${sums.gradSquares}, reference ${wantSums.gradSquares}`);
            assert.ok(Math.abs(sums.penalty - wantSums.penalty) <= 16 * U * wantSums.penalty, `${where}: penalty ${sums.penalty}, reference ${wantSums.penalty}`);
          }
        });
      });
    }

    test('penalty alone (no gradient) and sums of squares', () => {
      const next = rng(77);
      const length = 2 * 16384 + 9;
      const w = fill(new Float32Array(length), next);
      const penalty: Penalty = { l2: 0.3, l1: 0.2, ranges: [[3, 1000], [1003, length]] };
      const want = reference.update({ kind: 'none' }, w, null, null, null, length, penalty);
      const ws = shared(ctx, w);
      const got = ctx.ops.update({ kind: 'none' }, ws, null, null, null, length, penalty);
      assert.ok(Math.abs(got.penalty - want.penalty) <= 16 * U * want.penalty);
      assertSame(ws, w, 'w untouched');
      for (const [offset, len] of [[0, length], [5, 7], [1, 16384 + 3], [length - 1, 1], [4, 0]]) {
        const wantSq = reference.sumSquares(w, offset, len);
        const gotSq = ctx.ops.sumSquares(ws, offset, len);
        assert.ok(Math.abs(gotSq - wantSq) <= 16 * U * wantSq, `sumSquares(${offset}, ${len}): ${gotSq}, reference ${wantSq}`);
      }
      assert.throws(() => ctx.ops.sumSquares(ws, length - 1, 2), RangeError);
    });

    test('operands from elsewhere and bad shapes are refused', () => {
      const a = ctx.alloc(8), b = ctx.alloc(4);
      assert.throws(() => ctx.ops.activationForward('relu', new Float32Array(8), b, a, 2, 4, 0, null), TypeError);
      assert.throws(() => ctx.ops.activationForward('relu', a, b, a, 3, 4, 0, null), RangeError);
      assert.throws(() => ctx.ops.activationForward('prelu', a, b, a, 2, 4, 0, b), RangeError);
      assert.throws(() => ctx.ops.activationBackward('relu', a, a, a, new Float32Array(4), 2, 4, 0, null, null), TypeError);
      assert.throws(() => ctx.ops.update({ kind: 'none' }, a, null, null, null, 9, null), RangeError);
      assert.throws(() => ctx.ops.update({ kind: 'none' }, a, null, null, null, 8, { l2: 1, l1: 0, ranges: [[4, 2]] }), RangeError);
    });
  });
}

test('stats.sumSquares: the context\'s kernels on its memory, the JavaScript loop elsewhere and once it is closed', async () => {
  const ctx = await createFastContext({ threads: 2 });
  const next = rng(9);
  const host = fill(new Float32Array(3 * 16384 + 5), next);
  const view = shared(ctx, host);
  const exact = sumSquares(host); // plain memory: the JavaScript loop, in double precision
  assert.equal(sumSquares(view), ctx.ops.sumSquares(view));
  assert.ok(Math.abs(sumSquares(view) - exact) <= 16 * U * exact);
  assert.equal(sumSquares(view, 7, 100), ctx.ops.sumSquares(view, 7, 100));
  await ctx.close();
  assert.equal(sumSquares(view), exact);
});

describe('fast ops determinism', () => {
  test('bit-identical results for 1, 2 and 3 threads, whatever the split', async () => {
    const next = rng(2024);
    const [n, u] = [97, 301];
    const z = fill(new Float32Array(n * u), next, true), b = fill(new Float32Array(u), next), alpha = fill(new Float32Array(u), next);
    const da = fill(new Float32Array(n * u), next);
    const x = fill(new Float32Array(n * 130), next), W = fill(new Float32Array(130 * u), next);
    const length = 5 * 16384 + 13;
    const w = fill(new Float32Array(length), next), g = fill(new Float32Array(length), next);
    const penalty: Penalty = { l2: 1e-3, l1: 1e-4, ranges: [[2, 40000], [40004, length - 3]] };
    const runs: { bytes: Uint8Array[]; sums: number[] }[] = [];
    for (const threads of [1, 2, 3]) {
      const ctx = await createFastContext({ threads, minParallelElements: 0, minParallelFlops: 0 });
      const bytes: Uint8Array[] = [], sums: number[] = [];
      const keep = (view: Float32Array) => bytes.push(new Uint8Array(view.slice().buffer));
      for (const f of ['identity', 'relu'] as const) {
        const y = ctx.alloc(n * u);
        ctx.ops.denseForward(f, shared(ctx, x), shared(ctx, W), shared(ctx, b), null, y, n, 130, u, 0, null);
        keep(y);
      }
      for (const f of ACTIVATIONS) {
        const zs = shared(ctx, z), a = ctx.alloc(n * u), dz = ctx.alloc(n * u), db = ctx.alloc(u), dalpha = ctx.alloc(u);
        ctx.ops.activationForward(f, zs, shared(ctx, b), a, n, u, 0.1, shared(ctx, alpha));
        ctx.ops.activationBackward(f, f === 'prelu' ? zs : a, shared(ctx, da), dz, db, n, u, 0.1, shared(ctx, alpha), dalpha);
        [zs, a, dz, db, dalpha].forEach(keep);
      }
      for (const step of [
        { kind: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: true },
        { kind: 'adaptive', learningRate: 0.01, beta1: 0.9, beta2: 0.999, gamma: 0.001, epsilon: 1e-8, c1: 0.1, c2: 0.001 },
      ] as UpdateStep[]) {
        const ws = shared(ctx, w), gs = shared(ctx, g), m = ctx.alloc(length), v = ctx.alloc(length);
        for (let t = 0; t < 3; t++) {
          const s = ctx.ops.update(step, ws, gs, m, v, length, penalty);
          sums.push(s.gradSquares, s.penalty);
        }
        [ws, gs, m, v].forEach(keep);
        sums.push(ctx.ops.sumSquares(ws));
      }
      runs.push({ bytes, sums });
      await ctx.close();
    }
    for (const run of runs.slice(1)) {
      run.bytes.forEach((bytes, i) => assert.deepEqual(bytes, runs[0].bytes[i], `result ${i}`));
      assert.deepEqual(run.sums, runs[0].sums);
    }
  });
});
