// Compiles the engine's AssemblyScript kernels (src/engine/kernels/assembly/index.ts: the GEMM of gemm.ts and the
// element-wise kernels of ops.ts, one module) to WebAssembly, twice:
//   build/engine-relaxed-simd.wasm  with relaxed SIMD (f32x4.relaxed_madd, fused multiply-add)
//   build/engine-simd.wasm          with plain SIMD128 only
// Both import a shared memory ('env.memory', up to 4 GiB) so that every engine thread runs on the same bytes,
// carry no data segments (instantiating in each thread must not write to the shared memory) and import nothing else.
// Runs at install (scripts/build.mjs) and by `npm run build:wasm`; offline; any failure exits non-zero.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// Only so that this script can inspect the relaxed build below; the runtime decides for itself (gemm-wasm.ts).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = fileURLToPath(new URL('..', import.meta.url));
const source = 'src/engine/kernels/assembly/index.ts';
const variants = [
  { out: 'build/engine-relaxed-simd.wasm', features: ['threads', 'simd', 'relaxed-simd'] },
  { out: 'build/engine-simd.wasm', features: ['threads', 'simd'] },
];

function fail(message) {
  console.error(`build-wasm: ${message}`);
  process.exit(1);
}

mkdirSync(new URL('../build/', import.meta.url), { recursive: true });
for (const { out, features } of variants) {
  const args = [
    source,
    '--baseDir', root,
    '--outFile', out,
    '--optimizeLevel', '3',
    '--shrinkLevel', '0',
    '--noAssert',
    '--runtime', 'stub',
    '--use', 'abort=',
    '--importMemory',
    '--sharedMemory',
    '--initialMemory', '1',
    '--maximumMemory', '65536',
    '--noExportMemory',
    '--enable', features.join(','),
  ];
  const stderr = [];
  const { error } = await asc.main(args, {
    stdout: process.stdout,
    stderr: { write: (chunk) => { stderr.push(String(chunk)); return true; } },
  });
  if (error) fail(`${out}: ${error.message}\n${stderr.join('')}`);
  const bytes = readFileSync(new URL(`../${out}`, import.meta.url));
  if (hasDataSegments(bytes)) fail(`${out}: has data segments, which would overwrite shared memory in every thread`);
  if (WebAssembly.validate(bytes)) {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => `${i.module}.${i.name}`);
    if (imports.join() !== 'env.memory') fail(`${out}: unexpected imports ${imports.join(', ')}`);
  }
  console.log(`build-wasm: ${out} (${bytes.byteLength} bytes)`);
}

/** Whether a WebAssembly binary has a non-empty data section (id 11). */
function hasDataSegments(bytes) {
  const readU32 = (at) => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at.pos++]; value |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    return value >>> 0;
  };
  const at = { pos: 8 };
  while (at.pos < bytes.length) {
    const id = bytes[at.pos++];
    const size = readU32(at);
    if (id === 11) return readU32({ pos: at.pos }) > 0;
    at.pos += size;
  }
  return false;
}
