// Runs at install (npm "prepare"): compiles the AssemblyScript kernels to .wasm and generates the Prisma client.
// Both outputs are build products and are never committed.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
for (const step of ['build-wasm.mjs', 'prisma-generate.mjs']) {
  execFileSync(process.execPath, [here(step)], { stdio: 'inherit' });
}
