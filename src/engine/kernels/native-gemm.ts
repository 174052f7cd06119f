/**
 * The native GEMM in one thread: a GemmKernel whose gemmBlock runs the addon (./native-addon.ts) over the shared memory,
 * with the element-wise kernels of the relaxed-SIMD WebAssembly instance (the native and WebAssembly GEMMs give the
 * same bits: native/gemm-call.h) except the identity/ReLU activation backward pass, which runs native too where the
 * addon has it (the same bits again: native/activation-backward.h). Every engine thread — the caller and each pool
 * thread — makes one over the same memory and `extent`. (Pool threads run their share of a large backward pass
 * through the WebAssembly runChunk, so only the calling thread's whole passes go native.)
 */
import type { GemmKernel, OpsKernel } from './gemm-wasm.js';
import { ARG, ARG_SLOTS, BACKWARD_ARG, isaCode, nativeAddon, type NativeAddon, type NativeIsa } from './native-addon.js';

/** What a thread needs to run the native gemm on a memory (structured-cloneable: `extent` is shared, not copied). */
export interface NativeGemmSpec {
  readonly isa: NativeIsa;
  /** The memory's extent block (see ./native-addon.ts), created once per memory by {@link createNativeSpec}. */
  readonly extent: BigUint64Array;
}

/** A kernel that may need to re-bind the memory after it grew; a WebAssembly-only kernel has nothing to do. */
export interface EngineKernel extends GemmKernel {
  /**
   * Re-binds the native gemm to the memory's current buffer if it grew. The thread that grows the memory calls it before
   * publishing a job to the pool, so the other threads' bounds checks know the grown size.
   */
  refresh(): void;
}

export function createNativeSpec(isa: NativeIsa): NativeGemmSpec {
  return { isa, extent: new BigUint64Array(new SharedArrayBuffer(16)) };
}

/** The loaded addon; throws with the reason when there is none. */
export function requireAddon(): NativeAddon {
  const state = nativeAddon();
  if ('unavailable' in state) throw new Error(`engine: ${state.unavailable}`);
  return state.addon;
}

/**
 * The kernel whose views the addon in this thread holds: the addon keeps one binding per thread, and a thread may drive
 * several contexts (each its own memory), so a kernel re-binds when another one bound since its last call.
 */
let active: object | undefined;

/** `wasm` with its gemm replaced by the native one (scratchBytes: enough for either). */
export function withNativeGemm(wasm: GemmKernel, spec: NativeGemmSpec, memory: WebAssembly.Memory): EngineKernel {
  const addon = requireAddon();
  const args = new Int32Array(new SharedArrayBuffer(ARG_SLOTS * 4));
  args[ARG.isa] = isaCode(addon, spec.isa);
  let bound: ArrayBufferLike | undefined;
  const self = {};
  const refresh = (): void => {
    const buffer = memory.buffer;
    if (buffer === bound && active === self) return;
    addon.bind(new Uint8Array(buffer), spec.extent, args);
    bound = buffer;
    active = self;
  };
  refresh();
  const nativeBackward = addon.backward;
  const wasmBackward = wasm.ops.activationBackward;
  // Activation codes 0 (identity) and 1 (ReLU) of assembly/ops.ts; the others keep the WebAssembly kernel.
  const ops: OpsKernel = !nativeBackward ? wasm.ops : {
    ...wasm.ops,
    activationBackward(f, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1): void {
      if (f > 1) {
        wasmBackward(f, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
        return;
      }
      if (active !== self || memory.buffer !== bound) refresh();
      args[BACKWARD_ARG.f] = f;
      args[BACKWARD_ARG.n] = n;
      args[BACKWARD_ARG.u] = u;
      args[BACKWARD_ARG.a] = a;
      args[BACKWARD_ARG.da] = da;
      args[BACKWARD_ARG.dz] = dz;
      args[BACKWARD_ARG.db] = db;
      args[BACKWARD_ARG.col0] = col0;
      args[BACKWARD_ARG.col1] = col1;
      nativeBackward();
    },
  };
  return {
    scratchBytes: Math.max(wasm.scratchBytes, addon.scratchBytes),
    ops,
    refresh,
    gemmBlock(form, M, K, N, a, b, c, accumulate, row0, row1, col0, col1, scratch, epilogue, bias): void {
      if (active !== self || memory.buffer !== bound) refresh();
      args[ARG.form] = form;
      args[ARG.M] = M;
      args[ARG.K] = K;
      args[ARG.N] = N;
      args[ARG.a] = a;
      args[ARG.b] = b;
      args[ARG.c] = c;
      args[ARG.accumulate] = accumulate;
      args[ARG.row0] = row0;
      args[ARG.row1] = row1;
      args[ARG.col0] = col0;
      args[ARG.col1] = col1;
      args[ARG.scratch] = scratch;
      args[ARG.epilogue] = epilogue;
      args[ARG.bias] = bias;
      addon.gemm();
    },
  };
}

/** A WebAssembly kernel as an EngineKernel. */
export function wasmOnly(wasm: GemmKernel): EngineKernel {
  return { ...wasm, refresh: () => undefined };
}
