/**
 * The fast ComputeContext: WebAssembly SIMD kernels over one shared memory, a gemm shared between the calling thread
 * and a pool of worker threads. Bit-identical results for any thread count (see kernels/assembly/gemm.ts).
 *
 * A context is driven by one thread (the one that created it): its buffers and gemm are not for other threads.
 * C must not overlap A or B.
 */
import os from 'node:os';
import type { ComputeContext, GemmForm, KernelFlavour } from './compute.js';
import { planChunks } from './gemm-plan.js';
import { FORM_CODE, instantiateGemm, loadGemmModule, type FlavourChoice } from './kernels/gemm-wasm.js';
import { ThreadPool } from './pool.js';
import { SharedMemory } from './shared-memory.js';

export interface FastContextOptions {
  /** Threads that share a gemm, the calling thread included (≥ 1). Default os.availableParallelism(). */
  threads?: number;
  /** Shared memory at start, in MiB. Default 16. */
  initialMemoryMiB?: number;
  /** Shared memory bound, in MiB (≤ 4096): alloc throws past it. Default 1024. */
  maxMemoryMiB?: number;
  /** Kernel build: 'auto' (relaxed SIMD when the runtime accepts it, else plain SIMD), 'relaxed-simd' or 'simd'. Default 'auto'. */
  kernel?: FlavourChoice;
  /**
   * Below this many floating-point operations (2·M·K·N) a gemm runs on the calling thread alone. Default 250 000:
   * measured on 2 cores, two threads win from ≈ 0.25 MFLOP on (e.g. 32×64×64: 5.4 µs alone, 4.2 µs shared).
   */
  minParallelFlops?: number;
  /**
   * Microseconds an idle pool thread (and a worker-thread caller waiting for the others) spins before sleeping.
   * Default 150 while threads ≤ cores; 0 (sleep at once) when there are more threads than cores, so that spinning
   * threads never outnumber the cores.
   */
  spinMicros?: number;
}

/** A ComputeContext that also tells how much of its memory is in use. */
export interface FastContext extends ComputeContext {
  readonly flavour: Exclude<KernelFlavour, 'reference'>;
  /** Bytes of the shared memory handed out so far (buffers, thread scratch, alignment). */
  readonly memoryUsed: number;
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
  const spinMicros = nonNegative('spinMicros', options.spinMicros ?? (threads <= cores ? 150 : 0));
  const shared = new SharedMemory({ initialMiB: options.initialMemoryMiB, maxMiB: options.maxMemoryMiB });
  const loaded = loadGemmModule(options.kernel ?? 'auto');
  const kernel = instantiateGemm(loaded, shared.memory);
  const scratch = Array.from({ length: threads }, () => shared.reserve(kernel.scratchBytes));
  const pool = threads > 1
    ? await ThreadPool.start({ helpers: threads - 1, kernel: loaded, memory: shared.memory, scratch, spinMicros }, kernel)
    : undefined;
  let closed = false;

  function operand(name: string, view: Float32Array, length: number): number {
    if (!shared.owns(view)) throw new TypeError(`gemm: ${name} was not allocated by this context (use ctx.alloc)`);
    if (view.length < length) throw new RangeError(`gemm: ${name} has ${view.length} elements, the shape needs ${length}`);
    return view.byteOffset;
  }

  return {
    flavour: loaded.flavour,
    threads,
    get memoryUsed() {
      return shared.used;
    },
    alloc: (length: number) => shared.allocFloat32(length),
    gemm(form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
      if (closed) throw new Error('engine: the compute context is closed');
      const code = FORM_CODE[form];
      if (code === undefined) throw new TypeError(`gemm: unknown form ${String(form)}`);
      for (const [name, n] of [['M', M], ['K', K], ['N', N]] as const) {
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${n}`);
      }
      const job = {
        form: code, M, K, N, accumulate,
        a: operand('a', a, M * K), b: operand('b', b, K * N), c: operand('c', c, M * N),
      };
      if (M === 0 || N === 0) return;
      if (!pool || 2 * M * K * N < minParallelFlops) {
        kernel.gemmBlock(code, M, K, N, job.a, job.b, job.c, accumulate ? 1 : 0, 0, M, 0, N, scratch[0]!);
      } else {
        pool.run(job, planChunks(M, N, threads));
      }
    },
    async close(): Promise<void> {
      closed = true;
      await pool?.close();
    },
  };
}
