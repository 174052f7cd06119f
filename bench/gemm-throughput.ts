/**
 * GEMM throughput of a ComputeContext and of the reference kernel. Every number is the best of 5 timed batches,
 * each repeated until it lasts budgetMs / 5 (best-of, because other processes on a 2-core machine add noise).
 */
import type { ComputeContext, GemmForm } from '../src/engine/compute.js';
import { gemmReference } from '../src/engine/kernels/gemm-reference.js';

export type Shape = readonly [M: number, K: number, N: number];

/** Best seconds per call of `fn`, warmed up first. */
export function bestSecondsPerCall(fn: () => void, budgetMs: number): number {
  fn();
  let reps = 1;
  let elapsed = 0;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    elapsed = performance.now() - t0;
    if (elapsed >= budgetMs / 25 || reps >= 1 << 22) break;
    reps *= 2;
  }
  const batchReps = Math.max(1, Math.round((reps * (budgetMs / 5)) / Math.max(elapsed, 1e-6)));
  let best = Infinity;
  for (let batch = 0; batch < 5; batch++) {
    const t0 = performance.now();
    for (let r = 0; r < batchReps; r++) fn();
    best = Math.min(best, (performance.now() - t0) / batchReps);
  }
  return best / 1000;
}

function randomFill(view: Float32Array): Float32Array {
  for (let i = 0; i < view.length; i++) view[i] = Math.random() * 2 - 1;
  return view;
}

/** GFLOPS of ctx.gemm(form) on `shape` (2·M·K·N floating-point operations per call). */
export function contextGflops(ctx: ComputeContext, form: GemmForm, [M, K, N]: Shape, budgetMs: number): number {
  const a = randomFill(ctx.alloc(M * K)), b = randomFill(ctx.alloc(K * N)), c = ctx.alloc(M * N);
  const seconds = bestSecondsPerCall(() => ctx.gemm(form, M, K, N, a, b, c, false), budgetMs);
  return (2 * M * K * N) / seconds / 1e9;
}

/** Microseconds per call of ctx.gemm on `shape`. */
export function contextMicrosPerCall(ctx: ComputeContext, [M, K, N]: Shape, budgetMs: number): number {
  const a = ctx.alloc(M * K), b = ctx.alloc(K * N), c = ctx.alloc(M * N);
  return bestSecondsPerCall(() => ctx.gemm('nn', M, K, N, a, b, c, false), budgetMs) * 1e6;
}

/**
 * GFLOPS of the reference kernel ('nn'). With `rows` < M it times C's first `rows` rows only, the same work per
 * element (every element is an independent K-long dot product), to keep (1024,1024,1024) to a fraction of a second.
 */
export function referenceGflops([M, K, N]: Shape, budgetMs: number, rows = M): number {
  const a = randomFill(new Float32Array(rows * K)), b = randomFill(new Float32Array(K * N)), c = new Float32Array(rows * N);
  const seconds = bestSecondsPerCall(() => gemmReference('nn', rows, K, N, a, b, c, false), budgetMs);
  return (2 * rows * K * N) / seconds / 1e9;
}
