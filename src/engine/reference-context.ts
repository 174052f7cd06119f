/** A single-threaded ComputeContext over plain memory, the reference kernel and the reference ops (./ops.ts): the baseline every fast context is checked against. */
import type { ComputeContext, GemmForm } from './compute.js';
import { gemmReference } from './kernels/gemm-reference.js';
import { referenceOps } from './ops.js';

export function createReferenceContext(): ComputeContext {
  return {
    flavour: 'reference',
    threads: 1,
    alloc: (length: number) => new Float32Array(length),
    ops: referenceOps<Float32Array>(gemmReference),
    gemm: (form: GemmForm, M: number, K: number, N: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean) =>
      gemmReference(form, M, K, N, a, b, c, accumulate),
    close: async () => {},
  };
}
