/**
 * `npx tsx bench/gemm-isa.ts [--budget-ms N] [--forms nn,nt,tn] [--isas avx512,avx2]`: GEMM GFLOPS of the native code
 * paths side by side (1 thread and all threads), interleaved so that the noise of a shared machine hits both alike.
 * For tuning the addon (native/); bench/engine.ts gives the figures against numpy and torch.
 */
import os from 'node:os';
import type { GemmForm } from '../src/engine/compute.js';
import { createFastContext } from '../src/engine/fast-context.js';
import { nativeAddon, type NativeIsa } from '../src/engine/kernels/native-addon.js';
import { contextGflops, type Shape } from './gemm-throughput.js';

const SHAPES: readonly Shape[] = [[64, 784, 256], [256, 256, 256], [128, 256, 10], [1024, 1024, 1024], [32, 784, 256]];

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const state = nativeAddon();
  if ('unavailable' in state) throw new Error(state.unavailable);
  const budgetMs = Number(argValue('--budget-ms') ?? 300);
  const forms = (argValue('--forms') ?? 'nn,nt,tn').split(',') as GemmForm[];
  const available = state.addon.isas.map((entry) => entry.name).filter((name) => name !== 'generic');
  const isas = (argValue('--isas')?.split(',') as NativeIsa[] | undefined) ?? available;
  const threads = os.availableParallelism();
  const contexts = await Promise.all(isas.flatMap((isa) => [1, threads].map(async (t) => ({
    isa, threads: t, ctx: await createFastContext({ threads: t, kernel: 'native', nativeIsa: isa }),
  }))));
  console.log(`GFLOPS, best of 5 batches of ${budgetMs} ms; columns: ${contexts.map((c) => `${c.isa} ${c.threads}t`).join(', ')}`);
  for (const form of forms) {
    for (const shape of SHAPES) {
      const figures = contexts.map(({ ctx }) => contextGflops(ctx, form, shape, budgetMs).toFixed(1).padStart(7));
      console.log(`${form} ${shape.join('×').padEnd(15)} ${figures.join(' ')}`);
    }
  }
  await Promise.all(contexts.map(({ ctx }) => ctx.close()));
}

await main();
