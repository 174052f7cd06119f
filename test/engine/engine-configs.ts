/**
 * Every engine configuration the network suite runs against: the reference context, and the fast context with one
 * thread and with all cores. A suite gets fresh contexts (create) and closes them (ctx.close) itself.
 *
 * The fast context is loaded dynamically so this helper also works in a tree where it does not exist yet; when its
 * source file exists it must load and work (a broken fast context fails the suite, it is never skipped silently).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { ComputeContext } from '../../src/engine/compute.js';
import { createReferenceContext } from '../../src/engine/reference-context.js';

export interface EngineConfig {
  name: string;
  create(): Promise<ComputeContext>;
}

type CreateFast = (options: { threads: number }) => Promise<ComputeContext>;

const fastSource = new URL('../../src/engine/fast-context.ts', import.meta.url);

/** createFastContext, or null when the fast context is not part of the tree. */
export async function loadFastContext(): Promise<CreateFast | null> {
  if (!existsSync(fastSource)) return null;
  const mod = (await import(fastSource.href)) as { createFastContext?: unknown };
  if (typeof mod.createFastContext !== 'function') throw new Error('src/engine/fast-context.ts does not export createFastContext');
  return mod.createFastContext as CreateFast;
}

export async function engineConfigs(): Promise<EngineConfig[]> {
  const configs: EngineConfig[] = [{ name: 'reference', create: async () => createReferenceContext() }];
  const createFast = await loadFastContext();
  if (createFast) {
    const cores = os.availableParallelism();
    configs.push({ name: 'fast, 1 thread', create: () => createFast({ threads: 1 }) });
    configs.push({ name: `fast, ${Math.max(cores, 2)} threads`, create: () => createFast({ threads: Math.max(cores, 2) }) });
  }
  return configs;
}
