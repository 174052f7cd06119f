/**
 * The contract between the numerics (layers, losses, optimizers, network) and the place they run.
 *
 * Dimension letters, used in every kernel of the engine:
 *   M  rows of the output C
 *   N  columns of the output C
 *   K  the reduced (inner) dimension
 * All matrices are dense, row-major Float32Array views.
 *
 * A ComputeContext owns one memory. Every buffer a network uses (parameters, gradients, activations,
 * optimizer state) is allocated from it with `alloc`, so a fast context can hand the same bytes to
 * its worker threads without copies. Buffers from one context must never be passed to another.
 */
import type { Ops } from './ops.js';

export type GemmForm =
  /** C(M,N) (+)= A(M,K) · B(K,N) */
  | 'nn'
  /** C(M,N) (+)= A(M,K) · B(N,K)ᵀ */
  | 'nt'
  /** C(M,N) (+)= A(K,M)ᵀ · B(K,N) */
  | 'tn';

/**
 * Which kernels do the work: the naive TypeScript loops, WASM SIMD128, WASM relaxed SIMD (fused multiply-add), or the
 * native GEMM (C++, AVX2/NEON fused multiply-add; bit-identical to relaxed SIMD) with relaxed-SIMD element-wise kernels.
 */
export type KernelFlavour = 'reference' | 'simd' | 'relaxed-simd' | 'native';

export interface ComputeContext {
  readonly flavour: KernelFlavour;
  /** Threads that share a matmul (1 = the calling thread alone). */
  readonly threads: number;
  /** A zero-filled, 16-byte aligned buffer that lives as long as the context. */
  /** A zero-filled buffer of `length` floats; `name` says what it holds (memory-check messages name it). */
  alloc(length: number, name?: string): Float32Array;
  /**
   * C = op(A)·op(B), or C += op(A)·op(B) when `accumulate` is true; shapes as in {@link GemmForm}.
   * Deterministic: every element of C is reduced by one thread in a fixed order, so the result is
   * bit-identical for any thread count.
   */
  gemm(form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void;
  /**
   * The element-wise ops (activations, losses, optimizer updates, sums of squares; see ./ops.ts) on this context's
   * buffers. Both contexts of the engine have them; a context without them gets the TypeScript reference ones.
   */
  readonly ops?: Ops<Float32Array>;
  /** Stops the context's threads. The context must not be used afterwards. */
  close(): Promise<void>;
}
