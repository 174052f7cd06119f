/**
 * The fast ComputeContext: WebAssembly SIMD kernels over one shared memory (the gemm native C++ where the addon is built
 * and chosen: ./kernels/native-choice.ts), a gemm shared between the calling thread and a pool of worker threads, and element-wise ops (activations, softmax loss, optimizer updates; ./ops-wasm.ts)
 * whose large passes the pool shares too. Bit-identical results for any thread count (see kernels/assembly/gemm.ts and
 * kernels/assembly/ops.ts).
 *
 * A context is driven by one thread (the one that created it): its buffers and gemm are not for other threads.
 * C must not overlap A or B.
 */
import os from 'node:os';
import type { ComputeContext, GemmForm, KernelFlavour } from './compute.js';
import { planChunks } from './gemm-plan.js';
import { EPILOGUE, FORM_CODE, instantiateGemm, loadGemmModule } from './kernels/gemm-wasm.js';
import type { NativeIsa } from './kernels/native-addon.js';
import { chooseKernel, type KernelChoice } from './kernels/native-choice.js';
import { createNativeSpec, wasmOnly, withNativeGemm, type EngineKernel } from './kernels/native-gemm.js';
import type { Ops } from './ops.js';
import { createWasmOps } from './ops-wasm.js';
import { ThreadPool } from './pool.js';
import { SharedMemory } from './shared-memory.js';
import { registerSumSquares } from './stats.js';

export interface FastContextOptions {
  /** Threads that share a gemm, the calling thread included (≥ 1). Default os.availableParallelism(). */
  threads?: number;
  /** Shared memory at start, in MiB. Default 16. */
  initialMemoryMiB?: number;
  /** Shared memory bound, in MiB (≤ 4096): alloc throws past it. Default 1024. */
  maxMemoryMiB?: number;
  /**
   * Kernels: 'auto' (native when the addon is built and the CPU has FMA and AVX2 (AVX-512 preferred)/NEON, else relaxed SIMD when the
   * runtime accepts it, else plain SIMD), 'native', 'relaxed-simd' or 'simd' (see ./kernels/native-choice.ts).
   * Default 'auto'.
   */
  kernel?: KernelChoice;
  /** With the native kernel: its code path ('avx512', 'avx2', 'neon', or 'generic', which runs on any CPU; for tests). Default: the best this CPU runs. */
  nativeIsa?: NativeIsa;
  /**
   * Below this many floating-point operations (2·M·K·N) a gemm runs on the calling thread alone. Default 250 000:
   * measured on 2 cores, two threads win from ≈ 0.25 MFLOP on (e.g. 32×64×64: 5.4 µs alone, 4.2 µs shared).
   */
  minParallelFlops?: number;
  /**
   * Element-wise activation passes (forward or backward) over fewer elements (rows × units) than this run on the calling
   * thread alone; larger ones are split between the threads. Default 65 536. (Optimizer updates are split by chunks of
   * 16 384 parameters whatever this says.)
   */
  minParallelElements?: number;
  /**
   * Microseconds an idle pool thread (and a worker-thread caller waiting for the others) spins before sleeping.
   * Default 150 while threads ≤ cores; 0 (sleep at once) when there are more threads than cores, so that spinning
   * threads never outnumber the cores.
   */
  spinMicros?: number;
  /**
   * Memory checks: guard words between allocations (and at address 0), checked after every kernel call and element-wise
   * pass; every operand must lie inside one allocation. A hit throws an EngineMemoryError naming the operation and the
   * buffer (see ./shared-memory.ts). Default: on when the environment has ENGINE_CHECKS=1 (the tests run so), else off.
   */
  checks?: boolean;
}

/**
 * ENGINE_CHECKS=1 as the default of {@link FastContextOptions.checks}. The engine reads this one variable itself (it
 * runs in tests, benchmarks and trainer threads that have no Config); src/config.ts validates it and documents it.
 */
export function checksFromEnvironment(): boolean {
  return process.env.ENGINE_CHECKS === '1';
}

/** A ComputeContext that also tells how much of its memory is in use. */
export interface FastContext extends ComputeContext {
  readonly flavour: Exclude<KernelFlavour, 'reference'>;
  /** The native GEMM's code path ('avx2', 'neon', 'generic') when flavour is 'native', else null. */
  readonly nativeIsa: NativeIsa | null;
  /** Bytes of the shared memory handed out so far (buffers, thread scratch, alignment). */
  readonly memoryUsed: number;
  /** Whether memory checks are on (see FastContextOptions.checks). */
  readonly checks: boolean;
  readonly ops: Ops<Float32Array>;
  /**
   * Releases (and zeroes) every buffer allocated since the context was created, keeping its threads, kernels and
   * memory: a trainer thread runs job after job on one context this way instead of starting threads per job. Results
   * after a reset are bit-identical to those of a new context (test/engine/context-reuse.test.ts). Networks and views
   * made before the reset must not be used after it.
   */
  reset(): void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  return value;
}

export async function createFastContext(options: FastContextOptions = {}): Promise<FastContext> {
  const cores = os.availableParallelism();
  const threads = positiveInteger('threads', options.threads ?? cores);
  const minParallelFlops = nonNegative('minParallelFlops', options.minParallelFlops ?? 250_000);
  const minParallelElements = nonNegative('minParallelElements', options.minParallelElements ?? 65_536);
  const spinMicros = nonNegative('spinMicros', options.spinMicros ?? (threads <= cores ? 150 : 0));
  const checks = options.checks ?? checksFromEnvironment();
  const shared = new SharedMemory({ initialMiB: options.initialMemoryMiB, maxMiB: options.maxMemoryMiB, checks });
  const plan = chooseKernel(options.kernel ?? 'auto', options.nativeIsa);
  const loaded = loadGemmModule(plan.wasm);
  const native = plan.nativeIsa ? createNativeSpec(plan.nativeIsa) : undefined;
  const wasm = instantiateGemm(loaded, shared.memory);
  const kernel: EngineKernel = native ? withNativeGemm(wasm, native, shared.memory) : wasmOnly(wasm);
  const scratch = Array.from({ length: threads }, (_, i) => shared.reserve(kernel.scratchBytes, `scratch of thread ${i}`));
  const pool = threads > 1
    ? await ThreadPool.start({ helpers: threads - 1, kernel: loaded, native, memory: shared.memory, scratch, spinMicros }, kernel)
    : undefined;
  let closed = false;
  const checkOpen = (): void => {
    if (closed) throw new Error('engine: the compute context is closed');
  };
  function operand(name: string, view: Float32Array, length: number): number {
    shared.locate(view, `gemm: ${name}`);
    if (view.length < length) throw new RangeError(`gemm: ${name} has ${view.length} elements, the shape needs ${length}`);
    return view.byteOffset;
  }

  function dimension(name: string, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${n}`);
  }

  /** ctx.gemm, with an epilogue (EPILOGUE; `bias`: N values) applied to C once K is reduced — for ops.denseForward. */
  function gemm(
    form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
    epilogue: number, bias: Float32Array | null,
  ): void {
    checkOpen();
    const code = FORM_CODE[form];
    if (code === undefined) throw new TypeError(`gemm: unknown form ${String(form)}`);
    dimension('M', M);
    dimension('K', K);
    dimension('N', N);
    const ap = operand('a', a, M * K), bp = operand('b', b, K * N), cp = operand('c', c, M * N);
    const biasp = epilogue !== EPILOGUE.None ? operand('bias', bias!, N) : 0;
    if (M === 0 || N === 0) return;
    kernel.refresh(); // after a growth of the memory, before other threads check operands against its size
    if (!pool || 2 * M * K * N < minParallelFlops) {
      kernel.gemmBlock(code, M, K, N, ap, bp, cp, accumulate ? 1 : 0, 0, M, 0, N, scratch[0]!, epilogue, biasp);
    } else {
      pool.run({ form: code, M, K, N, a: ap, b: bp, c: cp, accumulate, epilogue, bias: biasp }, planChunks(M, N, threads));
    }
    if (checks) shared.verify(`gemm ${form} (M=${M}, K=${K}, N=${N})`);
  }

  const { ops, forgetTables } = createWasmOps({ kernel: kernel.ops, gemm, pool, shared, threads, minParallelElements, checkOpen });
  const fresh = shared.mark();
  let sumsRegisteredFor: ArrayBufferLike | null = null;

  return {
    flavour: plan.flavour,
    nativeIsa: plan.nativeIsa,
    threads,
    get memoryUsed() {
      return shared.used;
    },
    checks,
    alloc(length: number, name = 'buffer'): Float32Array {
      const view = shared.allocFloat32(length, name);
      if (view.buffer !== sumsRegisteredFor) {
        // stats.sumSquares on this memory's views (e.g. a training loop's check of network.grads) uses the kernels.
        registerSumSquares(view.buffer, (a, offset, length) => (closed ? undefined : ops.sumSquares(a, offset, length)));
        sumsRegisteredFor = view.buffer;
      }
      return view;
    },
    ops,
    gemm(form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
      gemm(form, M, K, N, a, b, c, accumulate, EPILOGUE.None, null);
    },
    reset(): void {
      checkOpen();
      forgetTables();
      shared.rewind(fresh);
    },
    async close(): Promise<void> {
      closed = true;
      await pool?.close();
    },
  };
}
