/**
 * Where a trainer gets its compute context. A new context starts its pool's threads (and, under tsx, compiles their
 * modules): a few hundred milliseconds per job. A trainer thread that runs job after job keeps its contexts instead,
 * one per thread count and kernel, and resets a context between jobs (FastContext.reset: buffers released and zeroed;
 * bit-identical to a new context, test/engine/context-reuse.test.ts).
 */
import { createFastContext, type FastContext } from '../engine/fast-context.js';
import type { KernelChoice } from '../engine/kernels/native-choice.js';

export interface ContextRequest {
  threads: number;
  kernel: KernelChoice;
  initialMemoryMiB: number;
  maxMemoryMiB: number;
}

export interface ContextLease {
  readonly ctx: FastContext;
  /** The job is over: `healthy` false (the job failed inside the engine) closes the context instead of keeping it. */
  release(healthy: boolean): Promise<void>;
}

export type ContextSource = (request: ContextRequest) => Promise<ContextLease>;

/** A new context per job, closed after it. */
export const newContextPerJob: ContextSource = async (request) => {
  const ctx = await createFastContext(request);
  return { ctx, release: () => ctx.close() };
};

/**
 * A context whose job used more engine memory than this is closed rather than kept: a memory never shrinks, and an idle
 * worker should not hold a large job's gigabyte.
 */
export const KEEP_MEMORY_BYTES = 256 * 2 ** 20;

/** Contexts kept between jobs by one trainer thread (at most one per thread count and kernel). */
export class KeptContexts {
  private readonly kept = new Map<string, { ctx: FastContext; maxMemoryMiB: number }>();

  /** Starts a context now (at thread start), so the first job does not wait for its threads. */
  async prepare(request: ContextRequest): Promise<void> {
    const lease = await this.acquire(request);
    await lease.release(true);
  }

  readonly acquire: ContextSource = async (request) => {
    const key = `${request.threads}:${request.kernel}`;
    const found = this.kept.get(key);
    this.kept.delete(key);
    let entry = found;
    if (found && found.maxMemoryMiB < request.maxMemoryMiB) {
      await found.ctx.close();
      entry = undefined;
    }
    entry ??= { ctx: await createFastContext(request), maxMemoryMiB: request.maxMemoryMiB };
    const { ctx, maxMemoryMiB } = entry;
    return {
      ctx,
      release: async (healthy) => {
        if (!healthy || this.kept.has(key) || ctx.memoryUsed > KEEP_MEMORY_BYTES) {
          await ctx.close();
          return;
        }
        ctx.reset();
        this.kept.set(key, { ctx, maxMemoryMiB });
      },
    };
  };

  async close(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map((e) => e.ctx.close()));
  }
}
