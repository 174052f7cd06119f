/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a real API process and a real
 * worker process: sign in with a pasted key, generate a spiral and upload a CSV from the page, submit a job from the
 * form, watch the loss curve grow and the decision regions change as the network trains, reload (the stream replays
 * the curve), list and cancel. Screenshots go to test-artifacts/dashboard/ (and the job page to docs/dashboard.png).
 * Every wait is on a state of the page (DOM attributes the widgets keep), with generous deadlines. Models and predict:
 * ./models.test.ts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Trainyard } from '../../src/client/node.js';
import { ROOT } from '../helpers/processes.js';
import { startDashboard, type Dashboard } from './harness.js';

describe('the dashboard, in a real browser', () => {
  let d: Dashboard;
  let page: Page;
  let url: string;
  let key: string;
  let datasetId: string;
  let jobId: string;

  const shot = (name: string) => d.shot(name);
  const attribute = async (selector: string, name: string) => Number(await page.getAttribute(selector, name));

  before(async () => {
    d = await startDashboard('dashboard');
    ({ page, url, key } = d);
  });

  after(async () => d?.close());

  it('serves the page and its bundled assets at / without a key, under the API CSP', async () => {
    const html = await fetch(`${url}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const body = await html.text();
    assert.match(body, /<script type="module" src="\/assets\/app\.js"><\/script>/);
    assert.doesNotMatch(body, /https?:\/\//, 'the page loads nothing from another origin');
    const js = await fetch(`${url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const css = await fetch(`${url}/assets/app.css`);
    assert.match(await css.text(), /\.uplot/, "uPlot's styles are bundled");
    const missing = await fetch(`${url}/assets/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json() as { code: string }).code, 'ROUTE_NOT_FOUND');
  });

  it('signs in with a pasted key (a wrong one is refused) and keeps it in localStorage', async () => {
    await page.goto(url);
    await page.fill('#api-key', 'ty_not_a_real_key');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in .error');
    await shot('sign-in');
    // The browser logs the refused request (401) as an error; that one was meant.
    for (const meant of [/^console: .*status of 401/, /^HTTP 401: GET .*\/v1\/me$/]) {
      const at = d.problems.findIndex((p) => meant.test(p));
      if (at >= 0) d.problems.splice(at, 1);
    }
    await page.fill('#api-key', key);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
    await page.waitForFunction((name) => document.getElementById('who')?.textContent === name, d.tenant);
    assert.equal(await page.evaluate(() => localStorage.getItem('trainyard.apiKey')), key);
  });

  it('generates a spiral dataset from the page and previews its rows and statistics', async () => {
    await page.click('#nav a[href="#/datasets"]');
    await page.selectOption('#synthetic-kind', 'spiral');
    await page.fill('#synthetic-n', '100');
    await page.fill('#synthetic-classes', '3');
    await page.fill('#synthetic-seed', '7');
    await page.fill('#synthetic-name', 'spiral from the dashboard');
    await page.click('#synthetic-submit');
    await page.waitForURL(/#\/datasets\/[0-9a-f-]{36}$/);
    datasetId = page.url().split('/').at(-1)!;
    await page.waitForSelector('#rows-table tbody tr');
    assert.equal(await page.locator('#feature-stats tbody tr').count(), 2, 'two features');
    assert.equal(await page.locator('#class-counts tbody tr').count(), 3, 'three classes');
    assert.equal(await page.locator('#rows-table tbody tr').count(), 20, 'a page of rows');
    await shot('dataset');
  });

  it('uploads a CSV file from the page', async () => {
    await page.click('#nav a[href="#/datasets"]');
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
    await page.setInputFiles('#upload-file', { name: 'parity.csv', mimeType: 'text/csv', buffer: Buffer.from(`a,b,parity\n${rows.join('\n')}\n`) });
    await page.fill('#upload-target', 'parity');
    await page.click('#upload-form button[type=submit]');
    await page.waitForURL((u) => /#\/datasets\/[0-9a-f-]{36}$/.test(u.hash) && !u.hash.endsWith(datasetId));
    await page.waitForSelector('#rows-table tbody tr');
    assert.match((await page.textContent('h2')) ?? '', /^parity/);
    assert.deepEqual(await page.locator('#class-counts tbody td:first-child').allTextContents(), ['even', 'odd']);
  });

  it('submits a job from the form, after a dry run that shows the layer table and the parameter count', async () => {
    await page.goto(`${url}/#/datasets/${datasetId}`);
    await page.click(`a[href="#/submit?dataset=${datasetId}"]`);
    // The form fills in the server's defaults (one hidden layer of 100 ReLUs) and plans them.
    await page.waitForFunction(() => (document.getElementById('job-layers') as HTMLInputElement | null)?.value === '100');
    await page.waitForSelector('#plan-layers');
    assert.equal(await page.inputValue('#job-epochs'), '100');
    assert.equal(await page.inputValue('#job-batch-size'), '32');
    assert.equal((await page.textContent('#parameter-count'))?.replace(/\D/g, ''), String(2 * 100 + 100 + 100 * 3 + 3));
    await page.fill('#job-layers', '24,24');
    await page.fill('#job-epochs', '3000');
    await page.fill('#job-learning-rate', '0.01');
    await page.fill('#job-seed', '11');
    await page.fill('#job-name', 'spiral 24-24');
    const parameters = 2 * 24 + 24 + 24 * 24 + 24 + 24 * 3 + 3;
    await page.waitForFunction((n) => document.getElementById('parameter-count')?.textContent?.replace(/\D/g, '') === String(n), parameters);
    assert.equal(await page.locator('#plan-layers tbody tr').count(), 3);
    await shot('submit');
    await page.click('#job-submit');
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    jobId = page.url().split('/').at(-1)!;
  });

  it('draws the loss curve as it grows and redraws the decision regions as the network trains', async () => {
    await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) >= 2);
    const before = await attribute('#loss-chart', 'data-points');
    await page.waitForFunction((n) => Number(document.getElementById('loss-chart')?.dataset.points) > n, before);
    assert.ok((await attribute('#loss-chart', 'data-points')) > before);
    assert.equal(await page.locator('#loss-chart canvas').count(), 1, 'uPlot drew the chart');

    // The first live grid, then a later one whose pixels differ.
    await page.waitForFunction(() => Number(document.getElementById('regions')?.dataset.draws) >= 1);
    const first = await page.evaluate(() => {
      const canvas = document.getElementById('regions') as HTMLCanvasElement;
      return { draws: Number(canvas.dataset.draws), pixels: canvas.toDataURL() };
    });
    await page.waitForFunction((old) => {
      const canvas = document.getElementById('regions') as HTMLCanvasElement;
      return Number(canvas.dataset.draws) > old.draws && canvas.toDataURL() !== old.pixels;
    }, first);

    // The health table has a row per layer with parameters (two hidden, one output).
    await page.waitForSelector('#health-table tbody tr');
    assert.equal(await page.locator('#health-table tbody tr').count(), 3);
    await shot('job-early');
  });

  it('replays the whole curve after a reload, then keeps drawing live; the README screenshot', async () => {
    // Let it train a while so that the picture shows the spiral learned.
    await page.waitForFunction(() => Number(document.getElementById('regions')?.dataset.draws) >= 25);
    const plotted = await attribute('#loss-chart', 'data-points');
    await page.reload();
    await page.waitForFunction((n) => Number(document.getElementById('loss-chart')?.dataset.points) >= n, plotted);
    await page.waitForFunction(() => Number(document.getElementById('regions')?.dataset.draws) >= 1);
    await page.screenshot({ path: path.join(ROOT, 'docs', 'dashboard.png') });
    await shot('job');
  });

  it('lists the job with its status, progress and a loss sparkline; its page shows it finished, without a Cancel button', async () => {
    await page.click('#nav a[href="#/jobs"]');
    const row = `#jobs tr[data-job="${jobId}"]`;
    await page.waitForSelector(row);
    await page.waitForFunction((r) => Number(document.querySelector(`${r} svg.sparkline`)?.getAttribute('data-points')) > 1, row);
    // A few thousand epochs of a small net: it may run still or have ended (the row says what is stored).
    assert.match((await page.textContent(`${row} .status`)) ?? '', /running|queued|succeeded/);
    await shot('jobs');
    await page.click(`${row} a`);
    // The page follows it to its end (cancelling from the page: the next test, on a job that cannot end first).
    await page.waitForSelector('#job-summary .status-succeeded');
    assert.equal(await page.locator('#cancel-job').count(), 0, 'no cancel button on a finished job');
  });

  it('cancels a running job from its page while its curve grows live', async () => {
    // A job that would run for hours: it is running whenever the Cancel button is pressed.
    const ty = new Trainyard({ url, key });
    const job = await ty.jobs.submit({
      name: 'to cancel', datasetId,
      network: { layers: [{ units: 24 }] },
      training: { epochs: 1_000_000, batchSize: 32, seed: 5 },
    });
    await page.goto(`${url}/#/jobs/${job.id}`);
    await page.waitForSelector('#job-summary .status-running');
    // Live metrics rewrite the summary line many times a second: the button must survive that to receive the click.
    await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) >= 2);
    await page.waitForFunction((n) => Number(document.getElementById('loss-chart')?.dataset.points) > n, await attribute('#loss-chart', 'data-points'));
    await page.click('#cancel-job');
    await page.waitForSelector('#job-summary .status-cancelled');
    assert.equal(await page.locator('#cancel-job').count(), 0, 'no cancel button once cancelled');
    assert.equal((await ty.jobs.get(job.id)).status, 'cancelled', 'the stored job is cancelled');
    await shot('job-cancelled');
  });

  it('logged no script error and no CSP violation', () => {
    assert.deepEqual(d.problems, [], `API output:\n${d.api.output().slice(-4000)}`);
  });
});
