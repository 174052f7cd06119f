/**
 * `npm run bench:engine [-- --json] [-- --budget-ms N] [-- --no-python] [-- --kernel auto|native|relaxed-simd|simd]`
 *
 * GEMM throughput of the reference kernel and of the fast context (1 thread and all threads) on the shapes
 * (64,784,256), (256,256,256), (128,256,10), (1024,1024,1024); per-call overhead; the element-wise ops (TypeScript
 * reference against WASM, bench/ops-throughput.ts); training throughput (bench/engine-training.ts); and, where Debian's
 * python3-numpy / python3-torch are installed, the same work there and our ratio against it. Prints tables; with --json
 * the last line is one JSON object for other tools.
 *
 * Every figure is the best of 5 timed batches (bench/gemm-throughput.ts): the machine is shared, so best-of is the
 * figure least disturbed by others. Rerun to confirm.
 */
import os from 'node:os';
import type { GemmForm } from '../src/engine/compute.js';
import { createFastContext, type FastContext } from '../src/engine/fast-context.js';
import { chooseKernel, describeKernel, type KernelChoice } from '../src/engine/kernels/native-choice.js';
import { benchTraining } from './engine-training.js';
import { contextGflops, contextMicrosPerCall, referenceGflops, type Shape } from './gemm-throughput.js';
import { benchOps } from './ops-throughput.js';
import { runPythonBaseline, type BaselineResult } from './python-baseline.js';

const SHAPES: readonly Shape[] = [[64, 784, 256], [256, 256, 256], [128, 256, 10], [1024, 1024, 1024]];
/** The reference kernel times only this many rows of C on shapes with more rows (same work per element). */
const REFERENCE_ROWS = 32;
const MLP_BATCHES = [32, 128];

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const json = process.argv.includes('--json');
const withPython = !process.argv.includes('--no-python');
/** Milliseconds per measurement. Default 500. */
const budgetMs = Number(argValue('--budget-ms') ?? 500);
if (!(budgetMs > 0)) throw new RangeError(`--budget-ms must be a positive number, got ${argValue('--budget-ms')}`);
/** The engine's kernels (ENGINE_KERNEL's values). Default auto. */
const kernel = (argValue('--kernel') ?? 'auto') as KernelChoice;
if (!['auto', 'native', 'relaxed-simd', 'simd'].includes(kernel)) throw new RangeError(`--kernel must be auto, native, relaxed-simd or simd, got ${kernel}`);

const log = (line = ''): void => {
  if (json) process.stderr.write(`${line}\n`);
  else console.log(line);
};
const round = (x: number | undefined, digits = 1): number | null => (x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
const ratio = (ours: number, theirs: number | undefined): number | null => (theirs ? round(ours / theirs, 2) : null);

function table(header: string[], rows: (string | number | null)[][]): void {
  const cells = [header, ...rows.map((row) => row.map((x) => (x === null ? '—' : String(x))))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const [r, row] of cells.entries()) {
    log(row.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  '));
    if (r === 0) log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  log();
}

async function main(): Promise<void> {
  const threads = os.availableParallelism();
  const one = await createFastContext({ threads: 1, kernel });
  const all = await createFastContext({ threads, kernel });
  const flavour = one.flavour;
  const kernelNote = chooseKernel(kernel).nativeUnavailable;
  log(`engine bench: kernel ${describeKernel(kernel)}, ${threads} threads, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  log(`each figure: best of 5 batches, ${budgetMs} ms per measurement\n`);

  // Python first, while nothing of ours is spinning. A failing baseline is reported, not fatal.
  const pythonRuns = withPython
    ? await pythonBaselines(threads).catch((error: unknown) => ({ skipped: `failed: ${error instanceof Error ? error.message : String(error)}` }))
    : { skipped: '--no-python' };

  const gemm = SHAPES.map((shape) => {
    const rows = shape[0] > REFERENCE_ROWS * 4 ? REFERENCE_ROWS : shape[0];
    return {
      shape: [...shape],
      reference_gflops: round(referenceGflops(shape, budgetMs, rows), 2),
      ...(rows < shape[0] ? { reference_rows_sampled: rows } : {}),
      fast_1t_gflops: round(contextGflops(one, 'nn', shape, budgetMs))!,
      fast_nt_gflops: round(contextGflops(all, 'nn', shape, budgetMs))!,
    };
  });
  const gemmForms = (['nt', 'tn'] as GemmForm[]).flatMap((form) => SHAPES.map((shape) => ({
    form, shape: [...shape],
    fast_1t_gflops: round(contextGflops(one, form, shape, budgetMs))!,
    fast_nt_gflops: round(contextGflops(all, form, shape, budgetMs))!,
  })));
  const overhead = await callOverhead(one, all, threads);
  const ops = benchOps(one, all, budgetMs).map((o) => ({
    name: o.name, reference_us: round(o.reference_us, 2)!, fast_1t_us: round(o.fast_1t_us, 2)!, fast_nt_us: round(o.fast_nt_us, 2)!,
  }));
  await one.close();
  await all.close();

  const measured = await benchTraining({ threads, budgetMs, batches: MLP_BATCHES, kernel });
  const training = 'skipped' in measured ? measured : {
    mlp: measured.mlp.map((m) => ({ batch: m.batch, samples_per_s_1t: round(m.samples_per_s_1t, 0)!, samples_per_s_nt: round(m.samples_per_s_nt, 0)! })),
    spiral: { steps_per_s_1t: round(measured.spiral.steps_per_s_1t, 0)!, steps_per_s_nt: round(measured.spiral.steps_per_s_nt, 0)! },
  };

  // Join in the baselines.
  const base = 'skipped' in pythonRuns ? undefined : pythonRuns;
  const gemmRows = gemm.map((g, i) => {
    const np1 = base?.one.numpy?.gflops[i], npN = base?.all.numpy?.gflops[i];
    const th1 = base?.one.torch?.gflops[i], thN = base?.all.torch?.gflops[i];
    const avx1 = base?.avx2One?.numpy?.gflops[i], avxN = base?.avx2All?.numpy?.gflops[i];
    return {
      ...g,
      speedup_nt: round(g.fast_nt_gflops / g.fast_1t_gflops, 2),
      numpy_1t_gflops: round(np1), numpy_nt_gflops: round(npN),
      ratio_1t_vs_numpy: ratio(g.fast_1t_gflops, np1), ratio_nt_vs_numpy: ratio(g.fast_nt_gflops, npN),
      torch_1t_gflops: round(th1), torch_nt_gflops: round(thN),
      ratio_1t_vs_torch: ratio(g.fast_1t_gflops, th1), ratio_nt_vs_torch: ratio(g.fast_nt_gflops, thN),
      numpy_avx2_1t_gflops: round(avx1), numpy_avx2_nt_gflops: round(avxN),
      ratio_1t_vs_numpy_avx2: ratio(g.fast_1t_gflops, avx1), ratio_nt_vs_numpy_avx2: ratio(g.fast_nt_gflops, avxN),
    };
  });
  const torchTraining = base?.one.torch && base.all.torch ? {
    mlp: MLP_BATCHES.map((batch, i) => ({
      batch,
      samples_per_s_1t: round(base.one.torch!.mlp[i]?.samples_per_s, 0),
      samples_per_s_nt: round(base.all.torch!.mlp[i]?.samples_per_s, 0),
    })),
    spiral: { steps_per_s_1t: round(base.one.torch.spiral?.steps_per_s, 0), steps_per_s_nt: round(base.all.torch.spiral?.steps_per_s, 0) },
  } : null;

  table(['GEMM nn (GFLOPS)', 'reference', 'fast 1t', `fast ${threads}t`, 'speed-up', 'numpy 1t', `numpy ${threads}t`, 'ratio 1t', `ratio ${threads}t`, 'torch 1t', `torch ${threads}t`, 'ratio 1t', `ratio ${threads}t`], gemmRows.map((g) => [
    g.shape.join('×'), g.reference_gflops, g.fast_1t_gflops, g.fast_nt_gflops, g.speedup_nt,
    g.numpy_1t_gflops, g.numpy_nt_gflops, g.ratio_1t_vs_numpy, g.ratio_nt_vs_numpy,
    g.torch_1t_gflops, g.torch_nt_gflops, g.ratio_1t_vs_torch, g.ratio_nt_vs_torch,
  ]));
  if (gemm.some((g) => g.reference_rows_sampled)) log(`reference on shapes with M > ${REFERENCE_ROWS * 4}: first ${REFERENCE_ROWS} rows of C only (same work per element)\n`);
  if (base?.avx2One?.numpy) {
    table(['vs OpenBLAS limited to AVX2', 'numpy 1t', `numpy ${threads}t`, 'ratio 1t', `ratio ${threads}t`], gemmRows.map((g) => [
      g.shape.join('×'), g.numpy_avx2_1t_gflops, g.numpy_avx2_nt_gflops, g.ratio_1t_vs_numpy_avx2, g.ratio_nt_vs_numpy_avx2,
    ]));
  }
  table(['GEMM other forms (GFLOPS)', 'fast 1t', `fast ${threads}t`], gemmForms.map((g) => [`${g.form} ${g.shape.join('×')}`, g.fast_1t_gflops, g.fast_nt_gflops]));
  table(['per-call time (µs)', 'time'], Object.entries(overhead).map(([name, us]) => [name, us]));
  table(['element-wise ops (µs per call)', 'reference', 'fast 1t', `fast ${threads}t`], ops.map((o) => [o.name, o.reference_us, o.fast_1t_us, o.fast_nt_us]));
  if ('skipped' in pythonRuns) log(`python baselines skipped: ${pythonRuns.skipped}\n`);
  else log(`baselines: numpy ${base!.one.numpy?.version ?? 'absent'} (${base!.one.numpy?.blas ?? '—'}), torch ${base!.one.torch?.version ?? 'absent'}\n`);

  if ('skipped' in training) {
    log(`training benchmark skipped: ${training.skipped}`);
  } else {
    table(['MLP 784-256-256-10 (samples/s)', 'fast 1t', `fast ${threads}t`, 'torch 1t', `torch ${threads}t`, 'ratio (best vs best)'], training.mlp.map((m, i) => {
      const t = torchTraining?.mlp[i];
      const theirs = t ? Math.max(t.samples_per_s_1t ?? 0, t.samples_per_s_nt ?? 0) : undefined;
      return [`batch ${m.batch}`, m.samples_per_s_1t, m.samples_per_s_nt, t?.samples_per_s_1t ?? null, t?.samples_per_s_nt ?? null,
        ratio(Math.max(m.samples_per_s_1t, m.samples_per_s_nt), theirs)];
    }));
    const s = training.spiral, t = torchTraining?.spiral;
    const theirs = t ? Math.max(t.steps_per_s_1t ?? 0, t.steps_per_s_nt ?? 0) : undefined;
    table(['spiral 2-100-3 (steps/s)', 'fast 1t', `fast ${threads}t`, 'torch 1t', `torch ${threads}t`, 'ratio (best vs best)'], [[
      'full batch (300)', s.steps_per_s_1t, s.steps_per_s_nt, t?.steps_per_s_1t ?? null, t?.steps_per_s_nt ?? null,
      ratio(Math.max(s.steps_per_s_1t, s.steps_per_s_nt), theirs),
    ]]);
  }

  if (json) {
    console.log(JSON.stringify({
      kernel: flavour,
      native_isa: one.nativeIsa,
      ...(kernelNote !== null ? { kernel_not_native: kernelNote } : {}),
      threads,
      cpu: os.cpus()[0]?.model ?? null,
      node: process.version,
      method: `best of 5 batches, ${budgetMs} ms per measurement; reference sampled on ${REFERENCE_ROWS} rows where reference_rows_sampled is set`,
      gemm: gemmRows,
      gemm_forms: gemmForms,
      call_overhead_us: overhead,
      ops,
      mlp: 'skipped' in training ? null : training.mlp,
      spiral: 'skipped' in training ? null : training.spiral,
      ...('skipped' in training ? { training_skipped: training.skipped } : {}),
      baselines: 'skipped' in pythonRuns ? { skipped: pythonRuns.skipped } : {
        numpy: base!.one.numpy ? { version: base!.one.numpy.version, blas: base!.one.numpy.blas } : null,
        torch: base!.one.torch ? { version: base!.one.torch.version } : null,
        torch_training: torchTraining,
      },
    }));
  }
}

/** Microseconds per gemm call: tiny problems on the calling thread alone, and the pool's synchronization cost. */
async function callOverhead(one: FastContext, all: FastContext, threads: number): Promise<Record<string, number | null>> {
  const forced = await createFastContext({ threads, minParallelFlops: 0, kernel });
  const out = {
    '1×1×1, 1 thread': round(contextMicrosPerCall(one, [1, 1, 1], budgetMs), 2),
    [`1×1×1, forced through the pool (${threads} threads)`]: round(contextMicrosPerCall(forced, [1, 1, 1], budgetMs), 2),
    '300×2×100 (spiral layer 1), 1 thread': round(contextMicrosPerCall(one, [300, 2, 100], budgetMs), 2),
    [`300×2×100, ${threads} threads`]: round(contextMicrosPerCall(all, [300, 2, 100], budgetMs), 2),
    '32×784×256 (MLP layer 1, batch 32), 1 thread': round(contextMicrosPerCall(one, [32, 784, 256], budgetMs), 2),
    [`32×784×256, ${threads} threads`]: round(contextMicrosPerCall(all, [32, 784, 256], budgetMs), 2),
  };
  await forced.close();
  return out;
}

interface PythonRuns {
  one: BaselineResult;
  all: BaselineResult;
  avx2One?: BaselineResult;
  avx2All?: BaselineResult;
}

async function pythonBaselines(threads: number): Promise<PythonRuns | { skipped: string }> {
  const request = { budget_s: budgetMs / 1000, gemm: SHAPES, mlp_batches: MLP_BATCHES, spiral: true };
  log('running the numpy/torch baselines …');
  const one = await runPythonBaseline({ ...request, threads: 1 });
  if ('skipped' in one) return one;
  const all = await runPythonBaseline({ ...request, threads });
  if ('skipped' in all) return all;
  const runs: PythonRuns = { one, all };
  if (one.numpy?.blas === 'openblas') {
    // The targets were set on an AVX2 machine; OpenBLAS limited to its AVX2 kernels shows that comparison here.
    const avx2 = { ...request, libraries: ['numpy'] as const, mlp_batches: [], spiral: false, openblasCoretype: 'Haswell' };
    const avx2One = await runPythonBaseline({ ...avx2, threads: 1 });
    const avx2All = await runPythonBaseline({ ...avx2, threads });
    if (!('skipped' in avx2One) && !('skipped' in avx2All)) Object.assign(runs, { avx2One, avx2All });
  }
  return runs;
}

await main();
