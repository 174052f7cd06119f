/**
 * The native GEMM (native/, src/engine/kernels/native-*.ts) against the relaxed-SIMD WebAssembly kernel: bit-identical
 * on every form, with and without accumulation, with each epilogue, on tile-edge and random shapes, with 1, 2 and 3
 * threads, and through whole training steps; every native code path this CPU runs ('avx512' and 'avx2', or 'neon', and
 * the portable 'generic' one, which has NEON's tiling). Where a C++ toolchain exists the addon must have been built (npm
 * install / `npm run build:native`): these tests then fail rather than skip. Without a toolchain, the engine must fall
 * back. A code path the CPU lacks (AVX-512 on most x86-64 machines) is not skipped either: its tests assert that the
 * addon does not offer it, that forcing it fails and that 'auto' falls back to the next one. The native activation
 * backward pass has its own kernel-level test (native-activation-backward.test.ts); training here runs through it too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { GemmForm } from '../../src/engine/compute.js';
import { createFastContext, type FastContext } from '../../src/engine/fast-context.js';
import { EPILOGUE, FORM_CODE, instantiateGemm, loadGemmModule, type GemmKernel } from '../../src/engine/kernels/gemm-wasm.js';
import { nativeAddon, type NativeIsa } from '../../src/engine/kernels/native-addon.js';
import { chooseKernel, describeKernel } from '../../src/engine/kernels/native-choice.js';
import { createNativeSpec, withNativeGemm } from '../../src/engine/kernels/native-gemm.js';
import { createNetwork } from '../../src/engine/network.js';
import { SharedMemory } from '../../src/engine/shared-memory.js';
import { bytesOf, firstDifference } from './network-state.js';
import { rng } from './seeded-random.js';

const works = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
/** What scripts/build-native.mjs needs (besides npm's node-gyp and Node's headers, which every install has). */
const toolchain = ['c++', 'g++', 'clang++'].some(works) && works('make') && (works('python3') || works('python'));
const state = nativeAddon();
const addon = 'addon' in state ? state.addon : undefined;
/** Native tests run wherever there is a toolchain (and fail there when the addon is missing). */
const skipNative = !addon && !toolchain ? 'no C++ toolchain on this machine: the engine runs WebAssembly (tested below)' : false;
const isas: NativeIsa[] = addon ? addon.isas.map((entry) => entry.name) : ['generic'];
/** The vector code paths this CPU runs, best first (what 'auto' picks from). */
const vectorIsas = isas.filter((isa) => isa !== 'generic');

/**
 * Whether this CPU runs the AVX-512 code path, as Linux says (it lists avx512* flags only where the OS also saves the
 * zmm state): undefined elsewhere, where only the addon's own detection is there to go by.
 */
function linuxHasAvx512(): boolean | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return process.arch === 'x64' ? undefined : false;
  const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? []);
  return ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((flag) => flags.has(flag));
}

const FORMS: readonly GemmForm[] = ['nn', 'nt', 'tn'];
const EPILOGUES = [EPILOGUE.None, EPILOGUE.Bias, EPILOGUE.BiasRelu] as const;
/** Around the tiles of every code path: 4, 8 and 16 lanes, 6- and 8-row tiles, 12-, 16- and 64-column panels. */
const EDGE_SIZES = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 63, 64, 65, 127, 129, 255, 257, 784];

/** [M, K, N]: every edge size in each dimension (the others off-tile), and the engine's own shapes. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  ...EDGE_SIZES.flatMap((s) => [[s, 33, 17], [17, s, 33], [33, 17, s]] as const),
  [784, 257, 65], [65, 784, 257], [255, 63, 784], [257, 255, 9], [9, 784, 256], [64, 784, 256], [32, 784, 256],
  [128, 256, 10], [300, 100, 3], [300, 2, 100], [1, 784, 1], [784, 1, 784], [6, 1000, 16], [7, 3000, 15], [5, 6000, 12],
];

/** Values of mixed sign and magnitude, exact zeros and negative zeros among them (signs of zero must match too). */
function fill(view: Float32Array, next: () => number): Float32Array {
  for (let i = 0; i < view.length; i++) {
    const r = next();
    view[i] = r < 0.03 ? 0 : r < 0.05 ? -0 : (next() * 2 - 1) * 2 ** Math.floor(next() * 8 - 4);
  }
  return view;
}

const hex = (view: Float32Array): string => Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('hex');

describe('native kernel availability', () => {
  test(toolchain ? 'a C++ toolchain is here, so the addon is built and loads' : 'no C++ toolchain: the engine falls back to WebAssembly', async () => {
    if (toolchain) {
      assert.ok(addon, `the native addon is missing although this machine has a C++ toolchain (${'unavailable' in state ? state.unavailable : ''}); run \`npm run build:native\``);
      assert.ok(addon.isas.some((entry) => entry.name === 'generic'));
      assert.ok(addon.scratchBytes > 0);
    } else {
      assert.notEqual(chooseKernel('auto').flavour, 'native');
      await assert.rejects(createFastContext({ threads: 1, kernel: 'native' }), /native/);
    }
  });

  test(linuxHasAvx512() === false ? 'no AVX-512 here: the addon does not offer it, forcing it fails, auto takes AVX2 or NEON'
    : 'AVX-512 is offered exactly where the CPU and the OS run it, ahead of AVX2', { skip: skipNative }, async () => {
    const names = addon!.isas.map((entry) => entry.name);
    const expected = linuxHasAvx512();
    if (expected !== undefined) assert.equal(names.includes('avx512'), expected, `addon offers ${names.join(', ')}`);
    if (names.includes('avx512')) {
      // AVX-512 implies AVX2 and FMA: both x86 paths are offered, the wider first, and 'auto' takes it.
      assert.deepEqual(names.slice(0, 2), ['avx512', 'avx2']);
      assert.ok(addon!.fma);
      assert.equal(chooseKernel('auto').nativeIsa, 'avx512');
      assert.equal(describeKernel('auto'), 'native (avx512)');
    } else {
      await assert.rejects(createFastContext({ threads: 1, kernel: 'native', nativeIsa: 'avx512' }), /'avx512' code path does not run on this CPU/);
      assert.notEqual(chooseKernel('auto').nativeIsa, 'avx512');
    }
    // Every offered code path can be forced, and the context reports the one it runs.
    for (const isa of names) {
      const ctx = await createFastContext({ threads: 1, kernel: 'native', nativeIsa: isa });
      try {
        assert.equal(ctx.nativeIsa, isa);
      } finally {
        await ctx.close();
      }
    }
  });

  test("'auto' picks native exactly when the addon runs a vector path with FMA here, and says so", { skip: skipNative }, async () => {
    const ctx = await createFastContext({ threads: 1 });
    try {
      const vector = addon!.fma && addon!.isas[0]!.name !== 'generic';
      assert.equal(ctx.flavour, vector ? 'native' : 'relaxed-simd');
      assert.equal(ctx.nativeIsa, vector ? addon!.isas[0]!.name : null);
      if (!vector) assert.ok(chooseKernel('auto').nativeUnavailable);
    } finally {
      await ctx.close();
    }
  });
});

/** The relaxed-SIMD WebAssembly kernel and the native one (code path `isa`), over one checked shared memory. */
function kernelPair(isa: NativeIsa): { shared: SharedMemory; wasm: GemmKernel; native: GemmKernel; scratch: number } {
  const shared = new SharedMemory({ initialMiB: 16, maxMiB: 512, checks: true });
  const wasm = instantiateGemm(loadGemmModule('relaxed-simd'), shared.memory);
  const native = withNativeGemm(wasm, createNativeSpec(isa), shared.memory);
  const scratch = shared.reserve(native.scratchBytes, 'scratch');
  return { shared, wasm, native, scratch };
}

for (const isa of isas) {
  describe(`native gemm '${isa}' against relaxed-SIMD WebAssembly, kernel calls`, { skip: skipNative }, () => {
    /** The portable path calls std::fma per element: keep its share of the big shapes small. */
    const maxWork = isa === 'generic' ? 3e6 : Infinity;

    /**
     * One call of each kernel on the same operands (C's block [row0,row1)×[col0,col1)); asserts equal bits in the block,
     * C untouched outside it, and no guard word hit.
     */
    function compare(
      pair: ReturnType<typeof kernelPair>, form: GemmForm, M: number, K: number, N: number, accumulate: boolean, epilogue: number,
      block: readonly [number, number, number, number], seed: number,
    ): void {
      const { shared, wasm, native, scratch } = pair;
      const next = rng(seed);
      const a = fill(shared.allocFloat32(M * K, 'a'), next), b = fill(shared.allocFloat32(K * N, 'b'), next);
      const bias = fill(shared.allocFloat32(N, 'bias'), next);
      const c0 = fill(new Float32Array(M * N), next);
      const results = [wasm, native].map((kernel) => {
        const c = shared.allocFloat32(M * N, 'c');
        c.set(c0);
        kernel.gemmBlock(FORM_CODE[form], M, K, N, a.byteOffset, b.byteOffset, c.byteOffset, accumulate ? 1 : 0, ...block, scratch, epilogue, bias.byteOffset);
        shared.verify(`${form} ${M}×${K}×${N}`);
        return c;
      });
      const [want, got] = results as [Float32Array, Float32Array];
      const [row0, row1, col0, col1] = block;
      const where = `${isa} ${form} M=${M} K=${K} N=${N} accumulate=${accumulate} epilogue=${epilogue} block=${block.join(',')}`;
      for (let i = 0; i < M; i++) {
        const inRows = i >= row0 && i < row1;
        for (let j = 0; j < N; j++) {
          const g = got[i * N + j]!;
          if (inRows && j >= col0 && j < col1) {
            if (!Object.is(g, want[i * N + j]) && hex(got.subarray(i * N + j, i * N + j + 1)) !== hex(want.subarray(i * N + j, i * N + j + 1))) {
              assert.fail(`${where}: C[${i},${j}] = ${g}, WebAssembly ${want[i * N + j]}`);
            }
          } else if (!Object.is(g, c0[i * N + j])) {
            assert.fail(`${where}: wrote C[${i},${j}] outside the block`);
          }
        }
      }
    }

    let pair: ReturnType<typeof kernelPair>;
    before(() => {
      pair = kernelPair(isa);
    });

    for (const form of FORMS) {
      test(`${form}: every accumulate × epilogue, ${SHAPES.length} tile-edge shapes, whole C and an inner block`, () => {
        SHAPES.forEach(([M, K, N], s) => {
          if (M * K * N > maxWork) return;
          for (const accumulate of [false, true]) {
            for (const epilogue of EPILOGUES) {
              const inner = [Math.floor(M / 3), M - Math.floor(M / 4), Math.floor(N / 5), N - Math.floor(N / 3)] as const;
              const whole = [0, M, 0, N] as const;
              compare(pair, form, M, K, N, accumulate, epilogue, (s + epilogue) % 2 === 0 ? whole : inner, 1000 * s + 10 * epilogue + (accumulate ? 1 : 0));
            }
          }
          // The memory fills up with operands: start over now and then.
          if (pair.shared.used > 256 * 2 ** 20) pair = kernelPair(isa);
        });
      });
    }

    test('random shapes and blocks, every form, accumulate and epilogue', () => {
      const next = rng(4242);
      const size = (max: number): number => 1 + Math.floor(next() * max);
      for (let t = 0; t < 120; t++) {
        const M = size(300), K = size(isa === 'generic' ? 100 : 600), N = size(300);
        const r0 = Math.floor(next() * M), c0 = Math.floor(next() * N);
        const block = [r0, r0 + size(M - r0), c0, c0 + size(N - c0)] as const;
        compare(pair, FORMS[t % 3]!, M, K, N, next() < 0.5, EPILOGUES[Math.floor(next() * 3)]!, block, t);
        if (pair.shared.used > 256 * 2 ** 20) pair = kernelPair(isa);
      }
    });

    test('narrow TN and NN (≤ 4 columns): row counts around every vector and group edge, K around W-blocks, blocks', () => {
      let seed = 1;
      for (const M of [16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 143, 144, 145, 255, 300, 1000]) {
        for (const N of [1, 2, 3, 4, 5]) {
          for (const K of [0, 1, 7, 16, 17, 100, 300, 1024, 1025]) {
            if (M * K * N > maxWork / 4) continue;
            for (const form of ['tn', 'nn'] as const) {
              const accumulate = seed % 2 === 0, epilogue = EPILOGUES[seed % 3]!;
              compare(pair, form, M, K, N, accumulate, epilogue, [0, M, 0, N], seed++);
              // An inner block: rows from 3 (C above it must stay), columns from 1.
              if (M > 19 && N > 1) compare(pair, form, M, K, N, !accumulate, epilogue, [3, M - 1, 1, N], seed++);
            }
          }
        }
        if (pair.shared.used > 256 * 2 ** 20) pair = kernelPair(isa);
      }
    });

    test('K = 0: C becomes 0 (or stays) and then gets the epilogue', () => {
      for (const form of FORMS) {
        for (const accumulate of [false, true]) {
          for (const epilogue of EPILOGUES) {
            compare(pair, form, 5, 0, 11, accumulate, epilogue, [1, 4, 2, 9], 7);
            compare(pair, form, 9, 0, 3, accumulate, epilogue, [0, 9, 0, 3], 8); // narrow: the transposed path
          }
        }
      }
    });

    test('refuses operands past the memory and inconsistent blocks, computing nothing', () => {
      const { shared, native, scratch } = pair;
      const a = shared.allocFloat32(16, 'a'), c = shared.allocFloat32(16, 'c').fill(5);
      const end = shared.memory.buffer.byteLength;
      const call = (overrides: Partial<Record<'a' | 'c' | 'scratch' | 'row1' | 'form', number>>): void => native.gemmBlock(
        overrides.form ?? 0, 4, 4, 4, overrides.a ?? a.byteOffset, a.byteOffset, overrides.c ?? c.byteOffset, 0, 0, overrides.row1 ?? 4, 0, 4,
        overrides.scratch ?? scratch, 0, 0,
      );
      assert.throws(() => call({ a: end - 32 }), /A lies outside the memory/);
      assert.throws(() => call({ c: end - 60 }), /C lies outside the memory/);
      assert.throws(() => call({ scratch: end - 1024 }), /scratch lies outside the memory/);
      assert.throws(() => call({ c: c.byteOffset + 2 }), /C lies outside the memory/); // misaligned
      assert.throws(() => call({ row1: 5 }), /block outside C/);
      assert.throws(() => call({ form: 3 }), /unknown form/);
      assert.ok(c.every((x) => x === 5));
      call({});
      assert.ok(c.every((x) => x === 0));
    });
  });
}

/**
 * The best code path with 1, 2 and 3 threads; the other vector paths (AVX2 where AVX-512 runs) with 3 threads, where
 * the chunks cut C at the most places (and each path's tiles meet those cuts at other columns).
 */
const contextRuns: readonly { readonly isa: NativeIsa | undefined; readonly threads: number }[] = [
  ...[1, 2, 3].map((threads) => ({ isa: vectorIsas[0], threads })),
  ...vectorIsas.slice(1).map((isa) => ({ isa, threads: 3 })),
];

describe('native contexts against relaxed-SIMD contexts, 1, 2 and 3 threads', { skip: skipNative }, () => {
  for (const { isa, threads } of contextRuns) {
    test(`${isa ?? 'generic'}, ${threads} thread(s): gemm on every form and the dense layer's fused bias + ReLU, bit-identical`, async () => {
      const options = { threads, minParallelFlops: 0, minParallelElements: 0, maxMemoryMiB: 2048 };
      const native = await createFastContext({ ...options, kernel: 'native', ...(isa ? { nativeIsa: isa } : {}) });
      const wasm = await createFastContext({ ...options, kernel: 'relaxed-simd' });
      try {
        assert.equal(native.flavour, 'native');
        if (isa) assert.equal(native.nativeIsa, isa);
        const shapes = [...SHAPES.filter(([M, K, N]) => M * K * N < 2e7), [1024, 64, 1024] as const];
        shapes.forEach(([M, K, N], s) => {
          for (const form of FORMS) {
            for (const accumulate of [false, true]) {
              const outs = [native, wasm].map((ctx) => {
                const next = rng(s * 31 + (accumulate ? 1 : 0));
                const a = fill(ctx.alloc(M * K), next), b = fill(ctx.alloc(K * N), next), c = fill(ctx.alloc(M * N), next);
                ctx.gemm(form, M, K, N, a, b, c, accumulate);
                return hex(c);
              });
              assert.equal(outs[0], outs[1], `${threads} threads ${form} ${M}×${K}×${N} accumulate=${accumulate}`);
            }
          }
          for (const f of ['identity', 'relu'] as const) {
            const outs = [native, wasm].map((ctx) => {
              const next = rng(s * 17 + 3);
              const x = fill(ctx.alloc(M * K), next), W = fill(ctx.alloc(K * N), next), bias = fill(ctx.alloc(N), next), y = ctx.alloc(M * N);
              ctx.ops.denseForward(f, x, W, bias, null, y, M, K, N, 0, null);
              return hex(y);
            });
            assert.equal(outs[0], outs[1], `${threads} threads denseForward ${f} ${M}×${K}×${N}`);
          }
        });
      } finally {
        await native.close();
        await wasm.close();
      }
    });
  }

  test('operands in memory grown after the pool started (the other threads check against the grown size)', async () => {
    const native = await createFastContext({ threads: 2, kernel: 'native', initialMemoryMiB: 1, maxMemoryMiB: 256, minParallelFlops: 0 });
    const wasm = await createFastContext({ threads: 2, kernel: 'relaxed-simd', initialMemoryMiB: 1, maxMemoryMiB: 256, minParallelFlops: 0 });
    try {
      for (const M of [64, 256, 700]) { // each round grows the memory
        const outs = [native, wasm].map((ctx) => {
          const next = rng(M);
          const a = fill(ctx.alloc(M * 300), next), b = fill(ctx.alloc(300 * M), next), c = ctx.alloc(M * M);
          ctx.gemm('nn', M, 300, M, a, b, c, false);
          return hex(c);
        });
        assert.equal(outs[0], outs[1], `M=${M}`);
      }
    } finally {
      await native.close();
      await wasm.close();
    }
  });
});

describe('training: native and relaxed-SIMD give bit-identical parameters', { skip: skipNative }, () => {
  let contexts: FastContext[] = [];
  before(async () => {
    contexts = await Promise.all((['native', 'relaxed-simd'] as const).map((kernel) => createFastContext({ threads: 2, kernel })));
  });
  after(async () => {
    await Promise.all(contexts.map((ctx) => ctx.close()));
  });

  test('an MLP (ReLU, tanh, dropout, Adam, L2) after 12 minibatch steps', () => {
    const n = 64, inputs = 50, outputs = 7;
    const next = rng(99);
    const x = fill(new Float32Array(n * inputs), next);
    const y = Int32Array.from({ length: n }, () => Math.floor(next() * outputs));
    const params = contexts.map((ctx) => {
      const net = createNetwork({
        inputs, outputs, loss: 'softmax', regularization: { l2: 1e-3 },
        layers: [{ units: 96, activation: 'relu', dropout: 0.1 }, { units: 33, activation: 'tanh' }, { units: 17, activation: 'relu' }],
      }, { ctx, maxBatch: n, seed: 5, optimizer: { type: 'adam', learningRate: 0.01 } });
      for (let step = 0; step < 12; step++) net.trainStep(x, y, n);
      return bytesOf(net.params);
    });
    assert.equal(contexts[0]!.flavour, 'native');
    assert.equal(firstDifference(params[0]!, params[1]!), -1, 'native and relaxed-SIMD parameters differ');
  });

  test('the CS231n spiral net (2-100-3, ReLU, L2, SGD, full batch of 300; native ReLU backward) after 300 steps', () => {
    assert.equal(typeof addon!.backward, 'function', 'the addon predates backward(): run `npm run build:native`');
    const n = 300, classes = 3;
    const next = rng(7);
    const x = new Float32Array(n * 2), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % classes, r = (i / n) * 1.2, t = c * 4 + r * 4 + (next() - 0.5) * 0.4;
      x[2 * i] = r * Math.sin(t);
      x[2 * i + 1] = r * Math.cos(t);
      y[i] = c;
    }
    const runs = contexts.map((ctx) => {
      const net = createNetwork({
        inputs: 2, outputs: classes, loss: 'softmax', regularization: { l2: 1e-3 }, layers: [{ units: 100, activation: 'relu' }],
      }, { ctx, maxBatch: n, seed: 1, optimizer: { type: 'sgd', learningRate: 1 } });
      let loss = 0;
      for (let step = 0; step < 300; step++) loss = net.trainStep(x, y, n).loss;
      return { params: bytesOf(net.params), loss };
    });
    assert.equal(firstDifference(runs[0]!.params, runs[1]!.params), -1, 'native and relaxed-SIMD spiral parameters differ');
    assert.ok(runs[0]!.loss < 0.9 * Math.log(classes), `the spiral net did not learn (loss ${runs[0]!.loss})`);
  });
});
