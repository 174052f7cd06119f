/**
 * The native identity/ReLU activation backward pass (native/activation-backward.cc, routed by
 * src/engine/kernels/native-gemm.ts) against the relaxed-SIMD WebAssembly kernel: the same bits in dz and db on every
 * code path this CPU runs, over shapes around every path's vector and block widths, in place and not, whole and inner
 * column ranges, with zeros of both signs, subnormals, infinities and NaN among the inputs. Training through it is
 * compared in test/engine/native-gemm.test.ts. Where a C++ toolchain exists the addon must be built and have backward()
 * (an addon built before it fails here rather than skipping).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { instantiateGemm, loadGemmModule } from '../../src/engine/kernels/gemm-wasm.js';
import { nativeAddon, type NativeIsa } from '../../src/engine/kernels/native-addon.js';
import { createNativeSpec, withNativeGemm } from '../../src/engine/kernels/native-gemm.js';
import { SharedMemory } from '../../src/engine/shared-memory.js';
import { rng } from './seeded-random.js';

const works = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
const toolchain = ['c++', 'g++', 'clang++'].some(works) && works('make') && (works('python3') || works('python'));
const state = nativeAddon();
const addon = 'addon' in state ? state.addon : undefined;
const skipNative = !addon && !toolchain ? 'no C++ toolchain on this machine: the engine runs WebAssembly' : false;
const isas: NativeIsa[] = addon ? addon.isas.map((entry) => entry.name) : ['generic'];

const ROWS = [1, 7, 300, 1000];
/** Around 4, 8 and 16 lanes and the 32-, 64- and 128-column blocks of the code paths. */
const UNITS = [1, 3, 4, 5, 8, 9, 15, 16, 17, 31, 33, 100, 127, 128, 129, 256, 257];
const IDENTITY = 0, RELU = 1, LEAKY_RELU = 2;

/** Mixed signs and magnitudes with zeros of both signs, subnormals, and (when `specials`) ±∞ and NaN. */
function fill(view: Float32Array, next: () => number, specials: boolean): Float32Array {
  for (let i = 0; i < view.length; i++) {
    const r = next();
    view[i] = r < 0.05 ? 0 : r < 0.1 ? -0 : r < 0.15 ? (next() - 0.5) * 2 ** -130 : specials && r < 0.16 ? -Infinity
      : specials && r < 0.17 ? Infinity : specials && r < 0.18 ? NaN : (next() * 2 - 1) * 2 ** Math.floor(next() * 16 - 8);
  }
  return view;
}

/**
 * The first index where two views' bits differ, or -1; with `anyNaN`, two NaNs match whatever their payloads. (The
 * portable path's compiler may add in either operand order, which changes only which NaN an ∞ − ∞ or NaN sum carries;
 * WebAssembly itself leaves NaN payloads unspecified. The vector paths keep the operand order and match every bit.)
 */
function firstDifference(x: Float32Array, y: Float32Array, anyNaN: boolean): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length), b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(anyNaN && Number.isNaN(x[i]) && Number.isNaN(y[i]))) return i;
  return a.length === b.length ? -1 : a.length;
}

for (const isa of isas) {
  describe(`native activation backward '${isa}' against relaxed-SIMD WebAssembly`, { skip: skipNative }, () => {
    const shared = new SharedMemory({ initialMiB: 16, maxMiB: 512, checks: true });
    const wasm = instantiateGemm(loadGemmModule('relaxed-simd'), shared.memory);
    const native = withNativeGemm(wasm, createNativeSpec(isa), shared.memory);

    /** One pass of each kernel on the same inputs; asserts equal bits in dz (or da, in place) and db. */
    function compare(f: number, n: number, u: number, inPlace: boolean, cols: readonly [number, number], seed: number): void {
      const mark = shared.mark();
      try {
        const next = rng(seed);
        const a = fill(shared.allocFloat32(n * u, 'a'), next, f === RELU);
        const da0 = fill(new Float32Array(n * u), next, true);
        const sentinel = -7.25;
        const outputs = [wasm.ops, native.ops].map((ops) => {
          const da = shared.allocFloat32(n * u, 'da');
          da.set(da0);
          const dz = inPlace ? da : shared.allocFloat32(n * u, 'dz').fill(sentinel);
          const db = shared.allocFloat32(u, 'db').fill(sentinel);
          ops.activationBackward(f, a.byteOffset, da.byteOffset, dz.byteOffset, db.byteOffset, 0, 0, 0, n, u, cols[0], cols[1]);
          shared.verify(`backward f=${f} n=${n} u=${u}`);
          return { da, dz, db };
        });
        const [want, got] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
        const where = `${isa} f=${f} n=${n} u=${u} ${inPlace ? 'in place' : 'dz apart'} columns [${cols.join(', ')})`;
        const anyNaN = isa === 'generic';
        const dzAt = firstDifference(got.dz, want.dz, anyNaN);
        assert.equal(dzAt, -1, `${where}: dz[${dzAt}] = ${got.dz[dzAt]}, WebAssembly ${want.dz[dzAt]}`);
        const dbAt = firstDifference(got.db, want.db, anyNaN);
        assert.equal(dbAt, -1, `${where}: db[${dbAt}] = ${got.db[dbAt]}, WebAssembly ${want.db[dbAt]}`);
        assert.equal(firstDifference(got.da, want.da, anyNaN), -1, `${where}: da changed differently`);
        // The pass did something checkable: columns outside the range keep the sentinel, those inside do not.
        if (cols[0] > 0) assert.ok(Object.is(got.db[0], sentinel), `${where}: wrote db outside the columns`);
        if (cols[1] > cols[0]) assert.ok(!Object.is(got.db[cols[0]], sentinel) || n === 0, `${where}: db not written`);
      } finally {
        shared.rewind(mark);
      }
    }

    test('the addon exports backward()', () => {
      assert.equal(typeof addon?.backward, 'function', 'the addon predates backward(): run `npm run build:native`');
    });

    for (const f of [IDENTITY, RELU]) {
      test(`${f === RELU ? 'ReLU' : 'identity'}: n ∈ {${ROWS.join(', ')}} × ${UNITS.length} widths, in place and not, whole and inner columns`, () => {
        let seed = 1;
        for (const n of ROWS) {
          for (const u of UNITS) {
            for (const inPlace of [false, true]) {
              compare(f, n, u, inPlace, [0, u], seed++);
              if (u > 2) compare(f, n, u, inPlace, [1, u - 1], seed++);
            }
          }
        }
      });
    }

    test('n = 0 writes db = 0; other activations stay on the WebAssembly kernel', () => {
      compare(RELU, 0, 17, false, [0, 17], 5);
      compare(LEAKY_RELU, 33, 19, false, [0, 19], 6);
    });

    test('refuses operands past the memory and bad column ranges, computing nothing', () => {
      const mark = shared.mark();
      try {
        const a = shared.allocFloat32(16, 'a').fill(1), da = shared.allocFloat32(16, 'da').fill(2), db = shared.allocFloat32(4, 'db').fill(5);
        const end = shared.memory.buffer.byteLength;
        const call = (o: Partial<Record<'a' | 'da' | 'dz' | 'db' | 'col1', number>>): void => native.ops.activationBackward(
          RELU, o.a ?? a.byteOffset, o.da ?? da.byteOffset, o.dz ?? da.byteOffset, o.db ?? db.byteOffset, 0, 0, 0, 4, 4, 0, o.col1 ?? 4,
        );
        assert.throws(() => call({ a: end - 32 }), /a lies outside the memory/);
        assert.throws(() => call({ da: end - 60 }), /da lies outside the memory/);
        assert.throws(() => call({ dz: end - 4 }), /dz lies outside the memory/);
        assert.throws(() => call({ db: db.byteOffset + 2 }), /db lies outside the memory/); // misaligned
        assert.throws(() => call({ col1: 5 }), /bad shape or columns/);
        assert.ok(db.every((x) => x === 5) && da.every((x) => x === 2));
        call({});
        assert.deepEqual([...db], [8, 8, 8, 8]);
      } finally {
        shared.rewind(mark);
      }
    });
  });
}
