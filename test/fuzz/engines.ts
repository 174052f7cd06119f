/**
 * The compute contexts a fuzz run uses: fast contexts with 1, 2 and 3 threads, reused across cases (creating one
 * starts worker threads) and replaced when their memory fills up (a context's memory is never freed piecemeal), and
 * the float64 backend of the reference.
 *
 * The guard-word checking mode of the allocator is on (`checks: true`): guard words between allocations, checked after
 * every kernel call, so an out-of-bounds write is reported where it happens.
 */
import { createFloat64Backend, type Backend } from '../../src/engine/backend.js';
import { createFastContext, type FastContext, type FastContextOptions } from '../../src/engine/fast-context.js';

export const THREADS = [1, 2, 3] as const;

/** Replace a context once this much of its memory is handed out. */
const RECYCLE_BYTES = 768 * 1024 * 1024;

export class Engines {
  private contexts: FastContext[] = [];
  readonly float64: Backend<Float64Array> = createFloat64Backend();
  /** The kernel flavour of the fast contexts (for the report). */
  flavour = '';
  /** Contexts created so far (for the report). */
  created = 0;

  /** `kernel`: createFastContext's kernel choice (default 'auto'). */
  private constructor(private readonly kernel: string | undefined) {}

  static async start(kernel?: string): Promise<Engines> {
    const engines = new Engines(kernel);
    engines.contexts = await Promise.all(THREADS.map((t) => engines.create(t)));
    return engines;
  }

  private async create(threads: number): Promise<FastContext> {
    // Not an object literal, so that an engine without the `checks` option still type-checks and ignores it.
    const options = { threads, maxMemoryMiB: 2048, checks: true, ...(this.kernel ? { kernel: this.kernel } : {}) } as FastContextOptions;
    this.created++;
    const ctx = await createFastContext(options);
    this.flavour = ctx.flavour;
    return ctx;
  }

  /** The fast contexts, in THREADS order; replaced first if any holds more than RECYCLE_BYTES or `needBytes` would not fit. */
  async fast(needBytes = 0): Promise<FastContext[]> {
    for (let i = 0; i < this.contexts.length; i++) {
      const ctx = this.contexts[i];
      if (ctx.memoryUsed > RECYCLE_BYTES || ctx.memoryUsed + needBytes > 1900 * 1024 * 1024) {
        await ctx.close();
        this.contexts[i] = await this.create(THREADS[i]);
      }
    }
    return this.contexts;
  }

  async close(): Promise<void> {
    await Promise.all(this.contexts.map((c) => c.close()));
    this.contexts = [];
  }
}
