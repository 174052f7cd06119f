/**
 * The naive reference GEMM, kept forever: every fast kernel is tested against it.
 * Shapes (see ../compute.ts): 'nn' A(M,K)·B(K,N); 'nt' A(M,K)·B(N,K)ᵀ; 'tn' A(K,M)ᵀ·B(K,N); C is (M,N).
 * Each C element is summed over k = 0..K-1 in increasing order, in float32 arithmetic (Math.fround).
 */
import type { GemmForm } from '../compute.js';

export function gemmReference(
  form: GemmForm, M: number, K: number, N: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = accumulate ? c[i * N + j]! : 0;
      for (let k = 0; k < K; k++) {
        const av = form === 'tn' ? a[k * M + i]! : a[i * K + k]!;
        const bv = form === 'nt' ? b[j * K + k]! : b[k * N + j]!;
        sum = Math.fround(sum + Math.fround(av * bv));
      }
      c[i * N + j] = sum;
    }
  }
}
