/**
 * The dashboard's sweep pages in a real browser: a 2-trial grid sweep made through the typed client is listed under
 * Sweeps; its page shows the leaderboard as the API ranks it (trials linking to their job pages) and one validation
 * loss chart and one training loss chart with a series per trial, filled to every epoch of both trials. The page is
 * opened while the sweep runs, so the rows and curves come in through the sweep stream. See ./harness.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Trainyard, type Sweep, type SweepEvent } from '../../src/client/node.js';
import { startDashboard, type Dashboard } from './harness.js';

const EPOCHS = 4;

describe('the dashboard sweep pages, in a real browser', () => {
  let d: Dashboard;
  let ty: Trainyard;
  let sweepId: string;

  before(async () => {
    d = await startDashboard('dashboard-sweeps');
    ty = new Trainyard({ url: d.url, key: d.key });
    await d.signIn();
  });

  after(async () => d?.close());

  it('lists the sweep, and its page shows the leaderboard and one curve per trial, live', async () => {
    const { page } = d;
    const dataset = await ty.datasets.synthetic({ kind: 'spiral', n: 30, classes: 3, seed: 4, name: 'spiral for sweeps' });
    const created = await ty.sweeps.create({
      name: 'dashboard λ',
      spec: { datasetId: dataset.id, network: { layers: [{ units: 8 }] }, training: { epochs: EPOCHS, batchSize: 16, seed: 3 }, metrics: { everySteps: 1 } }, // a record at every epoch end
      parameters: { 'regularization.l2': { values: [0.001, 0.1] } },
      method: 'grid',
      metric: 'validation.loss',
      maxConcurrent: 1,
    });
    sweepId = created.id;
    const events: SweepEvent[] = [];
    const finished: Promise<Sweep> = ty.sweeps.wait(sweepId, { onEvent: (e) => events.push(e) });

    await page.click('#nav a[href="#/sweeps"]');
    await page.click(`#sweeps tr[data-sweep="${sweepId}"] a[href="#/sweeps/${sweepId}"]`);
    await page.waitForSelector('#leaderboard');
    // Both trials end, and every epoch of both is on the validation loss chart.
    await page.waitForFunction(() => document.querySelectorAll('#leaderboard tbody tr[data-status="succeeded"]').length === 2);
    await page.waitForFunction((n) => Number(document.getElementById('sweep-val-chart')?.dataset.points) === n, 2 * EPOCHS);
    await page.waitForFunction((n) => Number(document.getElementById('sweep-train-chart')?.dataset.points) === n, 2 * EPOCHS);

    const sweep = await finished;
    assert.equal(sweep.status, 'succeeded');
    assert.equal(events[0]?.type, 'sweep', 'the stream starts with the sweep message');
    const last = events.at(-1);
    assert.ok(last?.type === 'sweep' && last.status === 'succeeded', `the stream ends with the final sweep message: ${JSON.stringify(last)}`);

    // The leaderboard as the API ranks it, the best trial starred, each trial linking to its job.
    await page.waitForFunction(() => document.querySelector('#leaderboard tbody tr .status') !== null && document.querySelectorAll('#leaderboard tbody tr td:first-child span').length === 1);
    const rows = await page.$$eval('#leaderboard tbody tr', (trs) => trs.map((tr) => ({
      trial: Number(tr.getAttribute('data-trial')),
      starred: (tr.querySelector('td:first-child')?.textContent ?? '') === '★',
      job: tr.querySelector('a[href^="#/jobs/"]')?.getAttribute('href') ?? null,
      parameters: tr.querySelector('code')?.textContent ?? '',
    })));
    assert.deepEqual(rows, sweep.trials.map((t) => ({
      trial: t.trial, starred: t.best, job: `#/jobs/${t.jobId}`, parameters: `regularization.l2=${String(t.parameters['regularization.l2'])}`,
    })));
    for (const chart of ['#sweep-val-chart', '#sweep-train-chart']) {
      assert.equal(await page.getAttribute(chart, 'data-series'), '2');
      const legend = await page.$$eval(`${chart} .u-legend .u-series`, (items) => items.map((i) => i.textContent?.trim() ?? ''));
      // One legend entry per trial (the x series has none without a live legend).
      assert.deepEqual(legend.map((l) => l.replace(/\s+/g, ' ')).filter((l) => l !== 'epoch'), ['trial 0 (regularization.l2=0.001)', 'trial 1 (regularization.l2=0.1)']);
    }
    await d.shot('sweep');

    const best = sweep.trials.find((t) => t.best)!;
    await page.click(`#leaderboard tr[data-trial="${best.trial}"] a[href="#/jobs/${best.jobId}"]`);
    await page.waitForURL(new RegExp(`#/jobs/${best.jobId}$`));
    await page.waitForSelector('#job-summary');
  });

  it('cancels a running sweep from its page', async () => {
    const { page } = d;
    const dataset = await ty.datasets.synthetic({ kind: 'spiral', n: 30, classes: 3, seed: 5, name: 'spiral for a cancelled sweep' });
    // Trials that would run for hours: the sweep is running whenever the button is pressed.
    const created = await ty.sweeps.create({
      name: 'to cancel',
      spec: { datasetId: dataset.id, network: { layers: [{ units: 8 }] }, training: { epochs: 1_000_000, batchSize: 16, seed: 3 } },
      parameters: { 'regularization.l2': { values: [0.001, 0.1] } },
      method: 'grid',
      metric: 'validation.loss',
      maxConcurrent: 1,
    });
    const finished: Promise<Sweep> = ty.sweeps.wait(created.id);
    await page.goto(`${d.url}/#/sweeps/${created.id}`);
    await page.waitForSelector('#leaderboard tbody tr[data-status="running"]');
    await page.click('#cancel-sweep');
    const sweep = await finished;
    assert.equal(sweep.status, 'cancelled');
    await page.waitForSelector('#sweep-summary .status-cancelled');
    assert.equal(await page.locator('#cancel-sweep').count(), 0, 'no cancel button once cancelled');
    await d.shot('sweep-cancelled');
  });

  it('logged no script error and no CSP violation', () => {
    assert.deepEqual(d.problems, [], `API output:\n${d.api.output().slice(-4000)}`);
  });
});
