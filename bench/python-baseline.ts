/**
 * Runs bench/python-baseline.py with Debian's /usr/bin/python3 (where python3-numpy / python3-torch live), once per
 * thread count. Returns undefined, with the reason, when that Python or both libraries are absent.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const PYTHON = '/usr/bin/python3';

export interface BaselineRequest {
  readonly threads: number;
  /** Seconds per measurement (split into 5 batches; the best batch counts). */
  readonly budget_s: number;
  readonly gemm: readonly (readonly [number, number, number])[];
  readonly mlp_batches?: readonly number[];
  readonly spiral?: boolean;
  /** Which libraries to run. Default both. */
  readonly libraries?: readonly ('numpy' | 'torch')[];
  /** OPENBLAS_CORETYPE to force (e.g. 'Haswell' = AVX2 kernels); unset by default so OpenBLAS picks for this CPU. */
  readonly openblasCoretype?: string;
}

export interface BaselineResult {
  readonly threads: number;
  readonly numpy: { readonly version: string; readonly blas: string; readonly gflops: number[] } | null;
  readonly torch: {
    readonly version: string;
    readonly gflops: number[];
    readonly mlp: { readonly batch: number; readonly samples_per_s: number }[];
    readonly spiral: { readonly steps_per_s: number } | null;
  } | null;
}

const script = fileURLToPath(new URL('./python-baseline.py', import.meta.url));

export async function runPythonBaseline(request: BaselineRequest): Promise<BaselineResult | { skipped: string }> {
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  const env: NodeJS.ProcessEnv = { ...process.env };
  // OpenBLAS tuning variables from the environment would make the baseline something other than stock OpenBLAS.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (request.openblasCoretype) env.OPENBLAS_CORETYPE = request.openblasCoretype;
  for (const name of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) env[name] = String(request.threads);
  const { openblasCoretype: _, ...body } = request;
  const { stdout } = await promisify(execFile)(PYTHON, [script, JSON.stringify(body)], { env, timeout: 600_000, maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as BaselineResult;
  if (!result.numpy && !result.torch) return { skipped: 'neither numpy nor torch is installed for /usr/bin/python3' };
  return result;
}
