/**
 * The fast GEMM kernels (every flavour this runtime runs) against the reference kernel, single-threaded.
 * Multi-thread determinism, the pool and worker-thread callers are in pool.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { GemmForm } from '../../src/engine/compute.js';
import { createFastContext, type FastContext } from '../../src/engine/fast-context.js';
import { gemmReference } from '../../src/engine/kernels/gemm-reference.js';
import { relaxedSimdAvailable, type WasmFlavour } from '../../src/engine/kernels/gemm-wasm.js';
import { chooseKernel } from '../../src/engine/kernels/native-choice.js';
import { rng } from './seeded-random.js';

const FORMS: readonly GemmForm[] = ['nn', 'nt', 'tn'];
const flavours: WasmFlavour[] = relaxedSimdAvailable() ? ['simd', 'relaxed-simd'] : ['simd'];

/**
 * [M, K, N]: ones, odd sizes, sizes off the 4×8 register tile, K across the 256-deep and N across the 128-wide B blocks;
 * and each path of gemmBlock: narrow C computed transposed (N < 8 < M: [7, 1, 3], [31, 33, 7], [300, 100, 3],
 * [100, 300, 3], [40, 600, 5] over 3 K blocks, [9, 2, 3] with a 1-row panel), B read in place for ≤ 8 rows ([1, 5, 9],
 * [3, 2, 100], [6, 257, 255], [8, 3000, 9], [3, 1000, 21]; 2×16 tiles for 1 or 2 rows: [2, 300, 100], [1, 40, 33],
 * [2, 1, 130]; not past K = 5461: [5, 6000, 12]), and packed.
 */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1], [1, 7, 1], [1, 5, 9], [7, 1, 3], [4, 8, 8], [5, 9, 17], [3, 2, 100], [31, 33, 7],
  [12, 64, 24], [13, 300, 130], [33, 513, 77], [6, 257, 255], [64, 70, 10], [2, 1, 130],
  [300, 100, 3], [100, 300, 3], [40, 600, 5], [9, 2, 3], [8, 3000, 9], [3, 1000, 21], [5, 6000, 12], [300, 2, 100], [300, 3, 100],
  [2, 300, 100], [1, 40, 33],
];

function fillRandom(view: Float32Array, next: () => number): void {
  for (let i = 0; i < view.length; i++) view[i] = next() * 2 - 1;
}

/**
 * How far the fused (relaxed SIMD) result may be from the reference. Both reduce the same terms in the same order;
 * the reference rounds every product and every sum, FMA rounds once per step. By the standard bound for recursive
 * summation each result is within γ(K+1)·(|c0| + Σk |a_ik·b_kj|) of the exact value, with γ(n) = n·u/(1 − n·u) and
 * u = 2⁻²⁴ (float32), so they are within twice that of each other.
 */
function fusedTolerance(form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c0: Float32Array, accumulate: boolean, i: number, j: number): number {
  const u = 2 ** -24;
  const gamma = ((K + 1) * u) / (1 - (K + 1) * u);
  let magnitude = accumulate ? Math.abs(c0[i * N + j]!) : 0;
  for (let k = 0; k < K; k++) {
    const av = form === 'tn' ? a[k * M + i]! : a[i * K + k]!;
    const bv = form === 'nt' ? b[j * K + k]! : b[k * N + j]!;
    magnitude += Math.abs(av * bv);
  }
  return 2 * gamma * magnitude;
}

/** Runs one gemm on `ctx` (operands at `offset` elements into their allocations, with guard elements around C) and checks it. */
function checkGemm(ctx: FastContext, form: GemmForm, M: number, K: number, N: number, accumulate: boolean, seed: number, offset = 0): void {
  const next = rng(seed);
  const guard = 5;
  const a = ctx.alloc(offset + M * K).subarray(offset);
  const b = ctx.alloc(offset + K * N).subarray(offset);
  const cAll = ctx.alloc(offset + guard + M * N + guard);
  const c = cAll.subarray(offset + guard, offset + guard + M * N);
  fillRandom(a, next);
  fillRandom(b, next);
  fillRandom(cAll, next);
  const before = Float32Array.from(cAll);
  const expected = Float32Array.from(c);
  gemmReference(form, M, K, N, a, b, expected, accumulate);
  ctx.gemm(form, M, K, N, a, b, c, accumulate);
  const where = `${ctx.flavour} ${form} M=${M} K=${K} N=${N} accumulate=${accumulate} offset=${offset}`;
  for (let i = 0; i < offset + guard; i++) assert.equal(cAll[i], before[i], `${where}: wrote before C`);
  for (let i = offset + guard + M * N; i < cAll.length; i++) assert.equal(cAll[i], before[i], `${where}: wrote after C`);
  const c0 = before.subarray(offset + guard, offset + guard + M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const got = c[i * N + j]!, want = expected[i * N + j]!;
      if (ctx.flavour === 'simd') {
        // Plain SIMD does the reference's arithmetic exactly: one rounding per product and per sum, k in order.
        if (got !== want) assert.fail(`${where}: C[${i},${j}] = ${got}, reference ${want}`);
      } else {
        const tolerance = fusedTolerance(form, M, K, N, a, b, c0, accumulate, i, j);
        if (!(Math.abs(got - want) <= tolerance)) assert.fail(`${where}: C[${i},${j}] = ${got}, reference ${want}, tolerance ${tolerance}`);
      }
    }
  }
}

for (const flavour of flavours) {
  describe(`fast gemm, ${flavour}`, () => {
    let ctx: FastContext;
    before(async () => {
      ctx = await createFastContext({ threads: 1, kernel: flavour });
    });
    after(async () => {
      await ctx.close();
    });

    test('reports its flavour', () => {
      assert.equal(ctx.flavour, flavour);
      assert.equal(ctx.threads, 1);
    });

    for (const form of FORMS) {
      for (const accumulate of [false, true]) {
        test(`${form}, accumulate=${accumulate}, matches the reference on ${SHAPES.length} shapes`, () => {
          SHAPES.forEach(([M, K, N], s) => checkGemm(ctx, form, M, K, N, accumulate, 1000 * s + 7));
        });
      }
    }

    test('random shapes, every form', () => {
      const next = rng(42);
      for (let t = 0; t < 24; t++) {
        const size = (max: number) => 1 + Math.floor(next() * max);
        checkGemm(ctx, FORMS[t % 3]!, size(40), size(300), size(150), t % 2 === 1, t);
      }
    });

    test('views at non-zero (unaligned) offsets', () => {
      for (const offset of [1, 2, 3, 6]) {
        for (const form of FORMS) checkGemm(ctx, form, 9, 37, 21, offset % 2 === 0, offset, offset);
      }
    });

    test('K = 0 gives C = 0, or leaves C as it was when accumulating', () => {
      for (const form of FORMS) {
        checkGemm(ctx, form, 5, 0, 11, false, 1);
        checkGemm(ctx, form, 5, 0, 11, true, 2);
      }
    });

    test('M = 0 or N = 0 does nothing', () => {
      const a = ctx.alloc(12), b = ctx.alloc(12), c = ctx.alloc(12).fill(3);
      ctx.gemm('nn', 0, 3, 4, a, b, c, false);
      ctx.gemm('nn', 3, 4, 0, a, b, c, false);
      assert.deepEqual([...c], new Array(12).fill(3));
    });
  });
}

describe('fast context contract', () => {
  test('bit-identical whichever V8 tier runs the kernel (Liftoff while warming up, TurboFan after)', async () => {
    const engine = new URL('../../src/engine/fast-context.ts', import.meta.url).href;
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    for (const flavour of flavours) {
      const script = `
        import { createHash } from 'node:crypto';
        import { createFastContext } from ${JSON.stringify(engine)};
        const ctx = await createFastContext({ threads: 1, kernel: ${JSON.stringify(flavour)} });
        const [M, K, N] = [37, 300, 45];
        const a = ctx.alloc(M * K), b = ctx.alloc(K * N), c = ctx.alloc(M * N);
        a.forEach((_, i) => { a[i] = Math.sin(i); });
        b.forEach((_, i) => { b[i] = Math.cos(i); });
        const hash = createHash('sha256');
        for (const form of ['nn', 'nt', 'tn']) {
          ctx.gemm(form, M, K, N, a, b, c, false);
          hash.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        }
        console.log(hash.digest('hex'));`;
      const digests = await Promise.all(['--liftoff-only', '--no-liftoff'].map(async (tier) => {
        const { stdout } = await promisify(execFile)(process.execPath, [tier, '--import', 'tsx', '--input-type=module', '-e', script], { cwd, timeout: 120_000 }); // tsx compiles the engine first: seconds, more on a loaded machine
        return stdout.trim();
      }));
      assert.match(digests[0]!, /^[0-9a-f]{64}$/);
      assert.equal(digests[0], digests[1], flavour);
    }
  });

  test("'auto' picks the kernel chooseKernel('auto') names (native where built, else relaxed SIMD where accepted)", async () => {
    const ctx = await createFastContext({ threads: 1 });
    assert.equal(ctx.flavour, chooseKernel('auto').flavour);
    if (ctx.flavour !== 'native') assert.equal(ctx.flavour, relaxedSimdAvailable() ? 'relaxed-simd' : 'simd');
    await ctx.close();
  });

  test('alloc: zero-filled, 16-byte aligned, grows the memory, older views stay valid', async () => {
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1, maxMemoryMiB: 8 });
    const early = ctx.alloc(3);
    early.set([1, 2, 3]);
    const views = [ctx.alloc(1), ctx.alloc(5), ctx.alloc(0), ctx.alloc(1_000_000)]; // the last one needs 4 MB: grows
    for (const view of [early, ...views]) assert.equal(view.byteOffset % 16, 0);
    for (const view of views) assert.ok(view.every((x) => x === 0));
    assert.deepEqual([...early], [1, 2, 3]);
    const b = ctx.alloc(3).fill(2), c = ctx.alloc(1);
    ctx.gemm('nt', 1, 3, 1, early, b, c, false); // operands from before and after the growth
    assert.equal(c[0], 12);
    assert.throws(() => ctx.alloc(2_000_000), RangeError); // 8 MB more than the 8 MiB bound
    assert.throws(() => ctx.alloc(-1), RangeError);
    assert.throws(() => ctx.alloc(1.5), RangeError);
    await ctx.close();
  });

  test('rejects operands from elsewhere, short operands, bad sizes, and use after close', async () => {
    const ctx = await createFastContext({ threads: 1 });
    const a = ctx.alloc(6), b = ctx.alloc(6), c = ctx.alloc(4);
    assert.throws(() => ctx.gemm('nn', 2, 3, 2, new Float32Array(6), b, c, false), TypeError);
    assert.throws(() => ctx.gemm('nn', 2, 3, 3, a, b, c, false), RangeError);
    assert.throws(() => ctx.gemm('nn', -1, 3, 2, a, b, c, false), RangeError);
    assert.throws(() => ctx.gemm('xx' as GemmForm, 2, 3, 2, a, b, c, false), TypeError);
    await ctx.close();
    assert.throws(() => ctx.gemm('nn', 2, 3, 2, a, b, c, false), /closed/);
  });

  test('rejects bad options instead of falling back to defaults', async () => {
    await assert.rejects(createFastContext({ threads: 0 }), RangeError);
    await assert.rejects(createFastContext({ threads: 1.5 }), RangeError);
    await assert.rejects(createFastContext({ maxMemoryMiB: 5000 }), RangeError);
    await assert.rejects(createFastContext({ initialMemoryMiB: 64, maxMemoryMiB: 32 }), RangeError);
  });
});
