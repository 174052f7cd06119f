// Builds the engine's native GEMM addon (binding.gyp, native/) into build/Release/trainyard_native.node with the
// node-gyp that npm bundles, against the Node headers already on the machine (never downloaded). Runs at install
// (scripts/build.mjs) and by `npm run build:native`.
//
// Optional by design: when there is no C++ compiler, make, python3, node-gyp or Node headers, or the build fails, it
// prints one line and exits 0 — the engine then runs its WebAssembly kernels (src/engine/kernels/native-addon.ts).
// The full compiler output goes to build/native-build.log. `--require` makes a failure exit 1 instead (for CI).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const required = process.argv.includes('--require');
const log = path.join(root, 'build', 'native-build.log');

function skip(reason) {
  console.log(`build-native: skipped (${reason}); the engine will use its WebAssembly kernels`);
  process.exit(required ? 1 : 0);
}

const works = (command, args = ['--version']) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** node-gyp's entry script: npm's own (as npm tells its scripts, or beside npm), else one installed next to the project. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmRoot = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((file) => file && file.endsWith('.js') && existsSync(file));
}

/** The directory whose include/node holds this Node's headers: npm's configured nodedir, else Node's install prefix. */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')];
  return candidates.find((dir) => dir && existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
}

const compiler = process.env.CXX ?? 'c++';
if (!works(compiler) && !works('g++') && !works('clang++')) skip('no C++ compiler');
if (process.platform !== 'win32' && !works('make')) skip('no make');
if (!works('python3') && !works('python')) skip('no python3 for node-gyp');
const nodeGyp = findNodeGyp();
if (!nodeGyp) skip('node-gyp not found');
const nodedir = findNodeDir();
if (!nodedir) skip('Node headers not found (set npm\'s nodedir)');

// configure + build, never `rebuild`/`clean`: those delete build/, where the WebAssembly kernels live too.
mkdirSync(path.join(root, 'build'), { recursive: true });
const output = [];
for (const step of ['configure', 'build']) {
  // A generous output buffer: spawnSync kills the compiler when its output passes maxBuffer (1 MiB by default), and a
  // compiler's warnings must never decide whether the addon is built.
  const run = spawnSync(process.execPath, [nodeGyp, step, `--nodedir=${nodedir}`, '--jobs=1'], {
    cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, npm_config_nodedir: nodedir },
  });
  output.push(`$ node-gyp ${step}\n${run.stdout ?? ''}${run.stderr ?? ''}`);
  writeFileSync(log, output.join('\n'));
  if (run.status !== 0) {
    if (run.error) skip(`node-gyp ${step} failed: ${run.error.message}; see build/native-build.log`);
    const firstError = `${run.stderr ?? ''}`.split('\n').find((line) => /error/i.test(line))?.trim();
    skip(`node-gyp ${step} failed${firstError ? `: ${firstError.slice(0, 200)}` : ''}; see build/native-build.log`);
  }
}
console.log('build-native: build/Release/trainyard_native.node');
