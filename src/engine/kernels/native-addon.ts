/**
 * Loads the optional native GEMM addon (native/, built at install by scripts/build-native.mjs into
 * build/Release/trainyard_native.node). Absent addon (no compiler at install, a failed build) is a normal state: the
 * engine then runs the WebAssembly kernels, and {@link nativeAddon} says why.
 *
 * The addon is context-aware: every thread that loads it (the caller and each pool thread) gets its own instance over
 * the same shared memory. Its interface (mirrored by native/addon.cc):
 *   bind(memory, extent, args)  memory: a Uint8Array over all of the shared memory's current SharedArrayBuffer;
 *                               extent: a BigUint64Array(2) over a SharedArrayBuffer shared by the memory's threads
 *                               (base address and largest length seen, maintained by the addon); args: this thread's
 *                               Int32Array(16) argument block over a SharedArrayBuffer. Again after the memory grows.
 *   gemm()                      runs the call written in args (slots: ARG below); throws a RangeError on operands
 *                               outside the memory or inconsistent arguments, computing nothing.
 *   backward()                  the identity/ReLU activation backward pass written in args (slots: BACKWARD_ARG;
 *                               bit-identical to the WebAssembly kernel's: native/activation-backward.h); same errors.
 *                               Absent from addons built before it (the engine then keeps the WebAssembly pass).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's abiVersion this loader understands (kAbiVersion in native/addon.cc). */
const ABI_VERSION = 1;

/** Slots of the argument block (ArgSlot in native/addon.cc). */
export const ARG = {
  form: 0, M: 1, K: 2, N: 3, a: 4, b: 5, c: 6, accumulate: 7,
  row0: 8, row1: 9, col0: 10, col1: 11, scratch: 12, epilogue: 13, bias: 14, isa: 15,
} as const;
export const ARG_SLOTS = 16;

/** Slots of the same block as backward() reads it (BackwardSlot in native/addon.cc; ARG.isa is shared with gemm()). */
export const BACKWARD_ARG = { f: 0, n: 1, u: 2, a: 3, da: 4, dz: 5, db: 6, col0: 7, col1: 8 } as const;

/**
 * The addon's code paths: 'avx512' (x86-64 AVX-512 F/BW/DQ/VL), 'avx2' (x86-64 AVX2 + FMA3), 'neon' (arm64), 'generic'
 * (portable C++ with std::fma). All give the same bits (native/gemm-call.h).
 */
export type NativeIsa = 'avx512' | 'avx2' | 'neon' | 'generic';

/** Every code path's name, best first where a CPU runs several (the order of the addon's `isas`). */
export const NATIVE_ISAS: readonly NativeIsa[] = ['avx512', 'avx2', 'neon', 'generic'];

export interface NativeAddon {
  readonly abiVersion: number;
  /** Bytes of per-thread scratch a call needs. */
  readonly scratchBytes: number;
  /** Whether the CPU has a fused multiply-add instruction (what the relaxed-SIMD WebAssembly kernel fuses with). */
  readonly fma: boolean;
  /** The code paths this CPU runs, best first (always ends with 'generic'; 'avx512' before 'avx2' where both run). */
  readonly isas: readonly { readonly name: NativeIsa; readonly code: number }[];
  bind(memory: Uint8Array, extent: BigUint64Array, args: Int32Array): void;
  gemm(): void;
  /** Optional: an addon built before it has none. */
  readonly backward?: () => void;
}

/** The addon, or why it is not there. */
export type AddonState = { readonly addon: NativeAddon } | { readonly unavailable: string };

const ADDON_PATH = new URL('../../../build/Release/trainyard_native.node', import.meta.url);

let state: AddonState | undefined;

function isAddon(value: unknown): value is NativeAddon {
  const v = value as Partial<NativeAddon> | null;
  return typeof v === 'object' && v !== null && typeof v.bind === 'function' && typeof v.gemm === 'function' &&
    typeof v.scratchBytes === 'number' && typeof v.fma === 'boolean' && Array.isArray(v.isas);
}

/** Loads the addon in this thread (once). */
export function nativeAddon(): AddonState {
  if (state) return state;
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(fileURLToPath(ADDON_PATH));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    state = { unavailable: code === 'MODULE_NOT_FOUND' ? 'the native addon is not built (no C++ compiler at install? run `npm run build:native`)' : `the native addon failed to load: ${(error as Error).message}` };
    return state;
  }
  if (!isAddon(loaded)) state = { unavailable: 'build/Release/trainyard_native.node is not the engine addon' };
  else if (loaded.abiVersion !== ABI_VERSION) state = { unavailable: 'build/Release/trainyard_native.node is of another version; run `npm run build:native`' };
  else state = { addon: loaded };
  return state;
}

/** The code an isa name has in this thread's addon; throws if this CPU does not run it. */
export function isaCode(addon: NativeAddon, isa: NativeIsa): number {
  const found = addon.isas.find((entry) => entry.name === isa);
  if (!found) throw new Error(`engine: the native '${isa}' code path does not run on this CPU (available: ${addon.isas.map((e) => e.name).join(', ')})`);
  return found.code;
}
