/**
 * Loads the engine's WebAssembly module — the fast GEMM kernel (./assembly/gemm.ts) and the element-wise kernels
 * (./assembly/ops.ts), compiled together to build/engine-*.wasm by scripts/build-wasm.mjs — and picks its flavour:
 * relaxed SIMD (fused multiply-add) when the runtime validates it after
 * `v8.setFlagsFromString('--experimental-wasm-relaxed-simd')`, plain SIMD128 otherwise.
 *
 * Shapes and forms as in ../compute.ts; the kernel computes one block C[row0:row1, col0:col1] (see gemmBlock below).
 * The module imports one shared memory ('env.memory') and nothing else, so every thread instantiates the same compiled
 * module over the same memory.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import type { GemmForm } from '../compute.js';

/** The WebAssembly builds (the native GEMM, ./native-gemm.ts, runs with the relaxed-SIMD one's element-wise kernels). */
export type WasmFlavour = 'relaxed-simd' | 'simd';

/** Which build to use: 'auto' (default) = relaxed SIMD when the runtime accepts it, else plain SIMD. */
export type FlavourChoice = 'auto' | WasmFlavour;

/** Form codes understood by the kernel (order fixed by assembly/gemm.ts). */
export const FORM_CODE: Readonly<Record<GemmForm, number>> = { nn: 0, nt: 1, tn: 2 };

/** Epilogue codes of gemmBlock (EPI_* in assembly/gemm.ts): C as is, C + bias, max(0, C + bias). */
export const EPILOGUE = { None: 0, Bias: 1, BiasRelu: 2 } as const;

/** The kernel's exports, over one instance. Pointers are byte offsets into the shared memory. */
export interface GemmKernel {
  /**
   * C[row0:row1, col0:col1] (+)= op(A)·op(B); `scratch` = scratchBytes bytes owned by the calling thread. `epilogue`
   * (EPILOGUE): what happens to C once K is reduced — nothing, + bias, or max(0, · + bias) — with `bias` (N f32).
   */
  gemmBlock(
    form: number, M: number, K: number, N: number, a: number, b: number, c: number, accumulate: number,
    row0: number, row1: number, col0: number, col1: number, scratch: number, epilogue: number, bias: number,
  ): void;
  /** Bytes of per-thread scratch the kernel needs. */
  readonly scratchBytes: number;
  /** The element-wise kernels of the same instance (see ./assembly/ops.ts; driven by ../ops-wasm.ts). */
  readonly ops: OpsKernel;
}

/** The element-wise exports of ./assembly/ops.ts (activation and update codes as listed there). */
export interface OpsKernel {
  activationForward(f: number, z: number, b: number, a: number, alpha: number, slope: number, u: number, row0: number, row1: number): void;
  activationBackward(
    f: number, a: number, da: number, dz: number, db: number, alpha: number, dalpha: number, slope: number,
    n: number, u: number, col0: number, col1: number,
  ): void;
  softmaxCrossEntropy(scores: number, k: number, labels: number, n: number, grad: number, scale: number): number;
  updateChunk(args: number, q: number): void;
  /** Chunk q of a chunked job (update, forward by rows, backward by columns) whose f64 argument block is at `args`. */
  runChunk(job: number, args: number, q: number): void;
  /** Elements per chunk of an update. */
  readonly updateChunkSize: number;
}

/** A compiled kernel module: structured-cloneable, so worker threads receive it without recompiling. */
export interface GemmModule {
  readonly flavour: WasmFlavour;
  readonly module: WebAssembly.Module;
}

const buildFile: Readonly<Record<WasmFlavour, string>> = {
  'relaxed-simd': 'engine-relaxed-simd.wasm',
  simd: 'engine-simd.wasm',
};

/** The abiVersion() of ./assembly/index.ts this loader understands. */
const ABI_VERSION = 4;

function readBuild(flavour: WasmFlavour): Uint8Array<ArrayBuffer> {
  const url = new URL(`../../../build/${buildFile[flavour]}`, import.meta.url);
  try {
    const bytes = readFileSync(url);
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (cause) {
    throw new Error(`engine: ${url.pathname} is missing; run \`npm run build:wasm\``, { cause });
  }
}

let relaxedEnabled: boolean | undefined;

/** Whether this runtime accepts the relaxed-SIMD build (turning on V8's flag for it, once per process). */
export function relaxedSimdAvailable(): boolean {
  if (relaxedEnabled === undefined) {
    const bytes = readBuild('relaxed-simd');
    if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedEnabled = WebAssembly.validate(bytes);
  }
  return relaxedEnabled;
}

const compiled = new Map<WasmFlavour, GemmModule>();

/** Compiles (once per process and flavour) the kernel module. Throws if `choice` names a flavour the runtime rejects. */
export function loadGemmModule(choice: FlavourChoice = 'auto'): GemmModule {
  const flavour: WasmFlavour = choice === 'auto' ? (relaxedSimdAvailable() ? 'relaxed-simd' : 'simd') : choice;
  if (flavour === 'relaxed-simd' && !relaxedSimdAvailable()) {
    throw new Error('engine: this runtime does not accept relaxed SIMD (f32x4.relaxed_madd)');
  }
  let loaded = compiled.get(flavour);
  if (!loaded) {
    loaded = { flavour, module: new WebAssembly.Module(readBuild(flavour)) };
    compiled.set(flavour, loaded);
  }
  return loaded;
}

type RawExports = Omit<OpsKernel, 'updateChunkSize'> & {
  gemmBlock: GemmKernel['gemmBlock'];
  scratchBytes(): number;
  fused(): number;
  abiVersion?(): number;
  updateChunkSize(): number;
};

/** Instantiates the kernel over `memory` (shared, as created by ../shared-memory.ts). */
export function instantiateGemm(loaded: GemmModule, memory: WebAssembly.Memory): GemmKernel {
  const instance = new WebAssembly.Instance(loaded.module, { env: { memory } });
  const raw = instance.exports as unknown as RawExports;
  if (raw.abiVersion?.() !== ABI_VERSION) throw new Error('engine: build/ holds kernels of another version; run `npm run build:wasm`');
  if (raw.fused() !== (loaded.flavour === 'relaxed-simd' ? 1 : 0)) throw new Error('engine: kernel build does not match its flavour');
  const ops: OpsKernel = {
    activationForward: raw.activationForward,
    activationBackward: raw.activationBackward,
    softmaxCrossEntropy: raw.softmaxCrossEntropy,
    updateChunk: raw.updateChunk,
    runChunk: raw.runChunk,
    updateChunkSize: raw.updateChunkSize(),
  };
  return { gemmBlock: raw.gemmBlock, scratchBytes: raw.scratchBytes(), ops };
}
