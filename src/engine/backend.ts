/**
 * What the layers, losses and optimizers need from the place they run: buffers, a matmul and the element-wise ops.
 *
 * A {@link ComputeContext} is a `Backend<Float32Array>` (the product path). The layer math is written once, generic
 * over the element type, so that a `Backend<Float64Array>` ({@link createFloat64Backend}) can run the very same code in
 * double precision: that is how the finite-difference gradient checks get tight tolerances.
 *
 * Dimension letters as in ./compute.ts: C is (M,N), K is the reduced dimension; all matrices dense and row-major.
 */
import type { GemmForm } from './compute.js';
import type { Ops } from './ops.js';

/** The element types the engine computes in. */
export type Real = Float32Array | Float64Array;

export interface Backend<T extends Real> {
  /** A zero-filled buffer that lives as long as the backend; `name` says what it holds (memory-check messages name it). */
  alloc(length: number, name?: string): T;
  /** C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`; forms as in ./compute.ts. C must not overlap A or B. */
  gemm(form: GemmForm, M: number, K: number, N: number, a: T, b: T, c: T, accumulate: boolean): void;
  /** The element-wise ops on this backend's buffers (./ops.ts); absent means the TypeScript reference ones. */
  readonly ops?: Ops<T>;
}

/**
 * Magnitudes below this are set to zero where they arise: updated weights, optimizer state, loss gradients, sigmoid
 * outputs. Denormal floats (below 2⁻¹²⁶ ≈ 1.2e-38) make arithmetic 10–100× slower on x86 and neither WebAssembly nor
 * JavaScript can turn on flush-to-zero; one denormal weight slows every matmul that reads it (3× on a whole training
 * step was measured: Adam + L2 drives the weights of dead ReLUs there). Flushing at 1e-30 rather than at 2⁻¹²⁶ keeps
 * products of two flushed operands out of the denormal range too; such values carry no information in float32 training.
 */
export const FLUSH_BELOW = 1e-30;

/** A view of `a` from `begin` (inclusive) to `end` (exclusive), typed like `a`. */
export function view<T extends Real>(a: T, begin: number, end: number): T {
  return a.subarray(begin, end) as T;
}

/**
 * Naive float64 GEMM for the gradient checks (double-precision sums over k in increasing order).
 * Shapes: 'nn' A(M,K)·B(K,N); 'nt' A(M,K)·B(N,K)ᵀ; 'tn' A(K,M)ᵀ·B(K,N); C(M,N).
 */
export function gemmFloat64(
  form: GemmForm, M: number, K: number, N: number,
  a: Float64Array, b: Float64Array, c: Float64Array, accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = accumulate ? c[i * N + j] : 0;
      for (let k = 0; k < K; k++) {
        const av = form === 'tn' ? a[k * M + i] : a[i * K + k];
        const bv = form === 'nt' ? b[j * K + k] : b[k * N + j];
        sum += av * bv;
      }
      c[i * N + j] = sum;
    }
  }
}

/**
 * A double-precision backend over plain memory: for gradient checks and numerical references, not for speed. It has no
 * ops of its own: layers, losses and optimizers run the TypeScript reference ops (./ops.ts) on it.
 */
export function createFloat64Backend(): Backend<Float64Array> {
  return {
    alloc: (length: number) => new Float64Array(length),
    gemm: gemmFloat64,
  };
}
