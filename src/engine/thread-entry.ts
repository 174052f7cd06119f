/**
 * Starts a worker thread from a TypeScript entry file, whether the process runs compiled (.js beside the caller) or
 * as TypeScript under tsx (through ./ts-thread-boot.mjs, which can load .ts in the thread). Used by the engine's pool,
 * the trainer thread and the benchmarks, so the tsx dance lives in one place.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The parent's Node options minus those that only make sense for a main script: a worker refuses `--input-type`
 * (set by e.g. `node --input-type=module -e …`), and `-e`/`-p` belong to the parent's own script.
 */
export function threadExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--input-type=')) continue;
    if (['--input-type', '-e', '--eval', '-p', '--print'].includes(arg)) {
      i++; // and its value
      continue;
    }
    if (arg.startsWith('--eval=') || arg.startsWith('--print=')) continue;
    out.push(arg);
  }
  return out;
}

const BOOT = new URL('./ts-thread-boot.mjs', import.meta.url);

/** `entry` is the URL of the thread's .ts file; compiled code runs the .js of the same name. */
export function startThread(entry: URL, options: Omit<WorkerOptions, 'argv' | 'execArgv'> = {}): Worker {
  const execArgv = threadExecArgv(process.execArgv);
  if (import.meta.url.endsWith('.ts')) return new Worker(BOOT, { ...options, execArgv, argv: [entry.href] });
  return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { ...options, execArgv });
}
