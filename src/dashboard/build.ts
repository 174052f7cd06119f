/**
 * Builds the dashboard: bundles the browser sources (./page/main.ts and its CSS, uPlot's included) with esbuild into
 * `dist/dashboard/` (index.html, assets/app.js, assets/app.css). Nothing is fetched from a CDN: the page works offline.
 *
 * Runs at install (scripts/build.mjs, `npm ci`/prepare) and lazily when the API starts and the bundle is missing or
 * older than its sources ({@link ensureDashboardBuilt}, src/dashboard/serve.ts). Each file is written to a temporary
 * name and renamed into place, so processes that build at the same time never serve half a file.
 *
 * `node --import tsx src/dashboard/build.ts` builds it by hand.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The browser sources. */
export const PAGE_SOURCES = path.join(HERE, 'page');
/** Where the built page goes (gitignored). */
export const DASHBOARD_DIST = path.resolve(HERE, '../../dist/dashboard');
/** The files the built page consists of, relative to {@link DASHBOARD_DIST}. */
export const BUILT_FILES = ['index.html', 'assets/app.js', 'assets/app.css'] as const;

async function writeAtomically(file: string, contents: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

/** Bundles the page into `outDir`; returns the files written. */
export async function buildDashboard(outDir = DASHBOARD_DIST): Promise<string[]> {
  const result = await build({
    entryPoints: { app: path.join(PAGE_SOURCES, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: path.join(outDir, 'assets'),
    write: false,
    logLevel: 'silent',
  });
  const written: string[] = [];
  for (const file of result.outputFiles) {
    await writeAtomically(file.path, file.contents);
    written.push(path.relative(outDir, file.path));
  }
  await writeAtomically(path.join(outDir, 'index.html'), await readFile(path.join(PAGE_SOURCES, 'index.html')));
  written.push('index.html');
  return written;
}

async function newestSourceTime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function oldestBuiltTime(outDir: string): Promise<number | null> {
  let oldest = Infinity;
  for (const file of BUILT_FILES) {
    const info = await stat(path.join(outDir, file)).catch(() => null);
    if (!info) return null;
    oldest = Math.min(oldest, info.mtimeMs);
  }
  return oldest;
}

/**
 * Builds the page when a built file is missing, or (sources present, as in a checkout) older than a source file.
 * Returns whether it built. Without sources and without a bundle it throws: the page cannot be served.
 */
export async function ensureDashboardBuilt(outDir = DASHBOARD_DIST): Promise<boolean> {
  const built = await oldestBuiltTime(outDir);
  const sources = await stat(PAGE_SOURCES).then(() => true, () => false);
  if (!sources) {
    if (built === null) throw new Error(`the dashboard is not built (${outDir}) and its sources (${PAGE_SOURCES}) are missing`);
    return false;
  }
  if (built !== null && built >= (await newestSourceTime(PAGE_SOURCES))) return false;
  await buildDashboard(outDir);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const files = await buildDashboard();
  console.log(`dashboard: built ${files.join(', ')} into ${path.relative(process.cwd(), DASHBOARD_DIST) || DASHBOARD_DIST} in ${Math.round(performance.now() - started)} ms`);
}
