// Runs at install (npm "prepare"): builds the optional native GEMM addon (never fails: without a compiler the engine
// uses WebAssembly), compiles the AssemblyScript kernels to .wasm, generates the Prisma client and bundles the dashboard.
// All outputs are build products and are never committed. The native step runs first: node-gyp owns build/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
for (const step of ['build-native.mjs', 'build-wasm.mjs', 'prisma-generate.mjs']) {
  execFileSync(process.execPath, [here(step)], { stdio: 'inherit' });
}
// The dashboard bundle (dist/dashboard/). Skipped when its sources are not there yet (a Docker layer that installs
// before copying src/): the API then builds it when it starts.
const dashboard = here('../src/dashboard/build.ts');
if (existsSync(dashboard)) execFileSync(process.execPath, ['--import', 'tsx', dashboard], { stdio: 'inherit' });
