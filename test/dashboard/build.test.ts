/** The dashboard bundle: built when missing or older than its sources, left alone otherwise, served by the app. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILT_FILES, ensureDashboardBuilt } from '../../src/dashboard/build.js';

describe('dashboard build', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ty-dashboard-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('builds a self-contained page when the bundle is missing', async () => {
    assert.equal(await ensureDashboardBuilt(dir), true);
    for (const file of BUILT_FILES) assert.ok((await stat(path.join(dir, file))).size > 0, file);
    const js = await readFile(path.join(dir, 'assets/app.js'), 'utf8');
    assert.doesNotMatch(js, /from\s*["']node:|require\(["']node:/, 'no Node module in the browser bundle');
    assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org\/)[a-z]/i, 'nothing fetched from another origin');
    const css = await readFile(path.join(dir, 'assets/app.css'), 'utf8');
    assert.match(css, /\.uplot/, "uPlot's styles are in the bundle");
  });

  it('leaves a bundle newer than its sources alone, and rebuilds one that is older', async () => {
    assert.equal(await ensureDashboardBuilt(dir), false);
    const old = new Date('2000-01-01T00:00:00Z');
    await utimes(path.join(dir, 'assets/app.js'), old, old);
    assert.equal(await ensureDashboardBuilt(dir), true);
    assert.ok((await stat(path.join(dir, 'assets/app.js'))).mtimeMs > old.getTime());
  });
});
