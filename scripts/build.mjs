// Runs at install (npm "prepare"): builds the optional native GEMM addon (never fails: without a compiler the engine
// uses WebAssembly), compiles the AssemblyScript kernels to .wasm and generates the Prisma client.
// All outputs are build products and are never committed. The native step runs first: node-gyp owns build/.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
for (const step of ['build-native.mjs', 'build-wasm.mjs', 'prisma-generate.mjs']) {
  execFileSync(process.execPath, [here(step)], { stdio: 'inherit' });
}
