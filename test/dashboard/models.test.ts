/**
 * The dashboard's models pages in a real browser: a model trained through the typed client (the way a script would)
 * is listed, its page draws its decision regions over the data, and the predict form answers a class with a
 * probability per class. See ./harness.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Trainyard } from '../../src/client/node.js';
import { waitFor } from '../helpers/wait.js';
import { LONG, startDashboard, type Dashboard } from './harness.js';

describe('the dashboard models pages, in a real browser', () => {
  let d: Dashboard;
  let modelId: string;

  before(async () => {
    d = await startDashboard('dashboard-models');
    const ty = new Trainyard({ url: d.url, key: d.key });
    const dataset = await ty.datasets.synthetic({ kind: 'spiral', n: 60, classes: 3, seed: 4, name: 'spiral for models' });
    const job = await ty.jobs.submit({ datasetId: dataset.id, name: 'spiral model', network: { layers: [{ units: 24 }] }, training: { epochs: 30, seed: 3 } });
    const done = await waitFor(`job ${job.id} to finish`, async () => {
      const now = await ty.jobs.get(job.id);
      return ['succeeded', 'failed', 'cancelled'].includes(now.status) ? now : undefined;
    }, LONG, 250).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nworker:\n${d.worker.output().slice(-3000)}`);
    });
    assert.equal(done.status, 'succeeded', JSON.stringify(done.failure));
    modelId = done.modelId!;
    await d.signIn();
  });

  after(async () => d?.close());

  it('lists the model and predicts with it from its page', async () => {
    const { page } = d;
    await page.click('#nav a[href="#/models"]');
    await page.click(`#models tr a[href="#/models/${modelId}"]`);
    await page.waitForFunction(() => Number(document.getElementById('regions')?.dataset.draws) >= 1);
    await page.fill('#predict-form input[data-feature="x1"]', '0.5');
    await page.fill('#predict-form input[data-feature="x2"]', '-0.25');
    await page.click('#predict-submit');
    await page.waitForSelector('#predict-form #prediction, #predict-form .error');
    assert.equal(await page.locator('#predict-form .error').count(), 0, (await page.locator('#predict-form .error').allTextContents()).join());
    const predicted = await page.textContent('#predicted-class');
    assert.ok(['0', '1', '2'].includes(predicted ?? ''), `predicted class ${predicted}`);
    assert.equal(await page.locator('#prediction tbody tr').count(), 3, 'a probability per class');
    // The page shows what the API answers for the same row.
    const api = await new Trainyard({ url: d.url, key: d.key }).models.predict(modelId, [[0.5, -0.25]]);
    assert.equal(predicted, (api.predictions[0] as { class: string }).class);
    await d.shot('model');
  });

  it('logged no script error and no CSP violation', () => {
    assert.deepEqual(d.problems, [], `API output:\n${d.api.output().slice(-4000)}`);
  });
});
