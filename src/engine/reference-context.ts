/** A single-threaded ComputeContext over plain memory and the reference kernel: the baseline every fast context is checked against. */
import type { ComputeContext, GemmForm } from './compute.js';
import { gemmReference } from './kernels/gemm-reference.js';

export function createReferenceContext(): ComputeContext {
  return {
    flavour: 'reference',
    threads: 1,
    alloc: (length: number) => new Float32Array(length),
    gemm: (form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean) =>
      gemmReference(form, M, K, N, a, b, c, accumulate),
    close: async () => {},
  };
}
