/**
 * The engine's WebAssembly module: the GEMM kernel (gemm.ts) and the element-wise kernels (ops.ts), compiled together by
 * scripts/build-wasm.mjs (once with relaxed SIMD, once without), so every thread instantiates one module over the shared
 * memory.
 */
export * from './gemm';
export * from './ops';

/**
 * Bumped whenever an export changes meaning; ../gemm-wasm.ts refuses a build with another number (a stale build/ from
 * before a pull: run `npm run build:wasm`).
 */
export function abiVersion(): i32 {
  return 4;
}
