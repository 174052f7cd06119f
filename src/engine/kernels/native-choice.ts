/**
 * Which kernels an engine runs (ENGINE_KERNEL, createFastContext's `kernel`):
 *   'native'        the native GEMM (./native-gemm.ts) and identity/ReLU backward pass, with the relaxed-SIMD
 *                   WebAssembly kernels for the other element-wise passes — bit-identical to 'relaxed-simd' where V8
 *                   fuses relaxed_madd (CPUs with FMA);
 *   'relaxed-simd'  WebAssembly with fused multiply-adds; 'simd' plain WebAssembly SIMD128;
 *   'auto'          native when the addon is built and the CPU has FMA and a vector code path for it (AVX-512, AVX2,
 *                   NEON), else relaxed SIMD when the runtime accepts it, else SIMD.
 * The native code path is the best the CPU runs (AVX-512 over AVX2 on x86-64: the addon lists them best first) unless
 * one is forced (`isa`: createFastContext's `nativeIsa`, for tests and benchmarks comparing code paths).
 */
import { relaxedSimdAvailable, type WasmFlavour } from './gemm-wasm.js';
import { nativeAddon, type NativeIsa } from './native-addon.js';

export type KernelChoice = 'auto' | 'native' | WasmFlavour;

export interface KernelPlan {
  /** What the context reports as its flavour. */
  readonly flavour: 'native' | WasmFlavour;
  /** The WebAssembly build every thread instantiates (element-wise kernels; the GEMM too unless native). */
  readonly wasm: WasmFlavour;
  /** The native code path, when native. */
  readonly nativeIsa: NativeIsa | null;
  /** With 'auto' and no native GEMM: why not (for the start-up log and the bench). */
  readonly nativeUnavailable: string | null;
}

/** Why 'auto' cannot pick the native kernel here, or null when it can. */
function nativeObstacle(): string | null {
  const state = nativeAddon();
  if ('unavailable' in state) return state.unavailable;
  if (!state.addon.fma) return 'the CPU has no fused multiply-add';
  if (state.addon.isas[0]?.name === 'generic') return 'no vector code path for this CPU (AVX-512, AVX2 or NEON)';
  if (!relaxedSimdAvailable()) return 'the runtime does not accept relaxed SIMD, which the element-wise kernels need to match';
  return null;
}

/**
 * Resolves a choice. `isa` forces a native code path (tests: 'generic' runs everywhere). Throws when 'native' (or an
 * `isa`) is asked for and cannot run, or 'relaxed-simd' on a runtime without it.
 */
export function chooseKernel(choice: KernelChoice = 'auto', isa?: NativeIsa): KernelPlan {
  if (choice === 'simd' || choice === 'relaxed-simd') {
    if (choice === 'relaxed-simd' && !relaxedSimdAvailable()) throw new Error('engine: this runtime does not accept relaxed SIMD (f32x4.relaxed_madd)');
    return { flavour: choice, wasm: choice, nativeIsa: null, nativeUnavailable: null };
  }
  const state = nativeAddon();
  if (choice === 'native') {
    if ('unavailable' in state) throw new Error(`engine: ENGINE_KERNEL=native, but ${state.unavailable}`);
    if (!relaxedSimdAvailable()) throw new Error('engine: ENGINE_KERNEL=native needs relaxed SIMD for its element-wise kernels, which this runtime does not accept');
    return { flavour: 'native', wasm: 'relaxed-simd', nativeIsa: isa ?? state.addon.isas[0]!.name, nativeUnavailable: null };
  }
  const obstacle = nativeObstacle();
  if (obstacle === null && 'addon' in state) {
    return { flavour: 'native', wasm: 'relaxed-simd', nativeIsa: isa ?? state.addon.isas[0]!.name, nativeUnavailable: null };
  }
  const wasm: WasmFlavour = relaxedSimdAvailable() ? 'relaxed-simd' : 'simd';
  return { flavour: wasm, wasm, nativeIsa: null, nativeUnavailable: obstacle };
}

/** One line for logs: which kernel a choice resolves to here, and why not native when it is not. */
export function describeKernel(choice: KernelChoice = 'auto'): string {
  const plan = chooseKernel(choice);
  if (plan.nativeIsa) return `native (${plan.nativeIsa})`;
  return plan.nativeUnavailable ? `${plan.flavour} (not native: ${plan.nativeUnavailable})` : plan.flavour;
}
