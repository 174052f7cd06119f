/**
 * Text columns in uploads are one-hot encoded (src/datasets/encoding.ts): categories learned from the whole upload in a
 * stable order, stored in the dataset's metadata, the chunks rewritten (re-chunked, hashed) in the final encoding; and
 * end to end, a real worker trains on such a table and predict takes the raw text column.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { ownInstallation, startWorker, submitJob, waitForJob, type Installation } from '../training/helpers.js';
import { csvOf, stored, upload } from './helpers.js';

describe('categorical columns', () => {
  let t: TestApp;
  let tenant: TestTenant;

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'categorical');
  });
  after(() => t?.close());

  const rows = [
    ['size', 'color', 'label'],
    [1, 'red', 'a'],
    [2, 'green', 'b'],
    [3, ' blue ', 'a'],
    [4, 'red', 'b'],
    [5, 'red', 'a'],
  ];

  it('one-hot encodes a text column: sorted categories, `column=category` features, stats, stored values', async () => {
    const res = await upload(t.app, tenant, csvOf(rows), 'text/csv', '?name=colors');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const meta = res.body;
    assert.deepEqual(meta.featureNames, ['size', 'color=blue', 'color=green', 'color=red']);
    assert.equal(meta.features, 4);
    assert.deepEqual(meta.categoricalColumns, [{ column: 'color', categories: ['blue', 'green', 'red'], features: ['color=blue', 'color=green', 'color=red'] }]);
    assert.deepEqual(meta.missing, { strategy: 'error', droppedRows: 0, imputed: [] });
    assert.equal(meta.byteSize, 5 * 4 * 4 + 5 * 4);
    const means = meta.stats.map((s: { mean: number }) => s.mean);
    [3, 0.2, 0.2, 0.6].forEach((m, i) => assert.ok(Math.abs(means[i] - m) < 1e-12, `mean ${i}: ${means[i]}`));
    assert.ok(Math.abs(meta.stats[3].std - Math.sqrt(0.24)) < 1e-12);
    assert.deepEqual([meta.stats[3].min, meta.stats[3].max], [0, 1]);
    const preview = await request(t.app.server).get(`/v1/datasets/${meta.id}/rows?limit=10`).set(tenant.auth);
    assert.deepEqual(preview.body.items.map((r: { x: number[] }) => r.x), [[1, 0, 0, 1], [2, 0, 1, 0], [3, 1, 0, 0], [4, 0, 0, 1], [5, 0, 0, 1]]);
    assert.deepEqual(preview.body.items.map((r: { label: string }) => r.label), ['a', 'b', 'a', 'b', 'a']);
    const loaded = await loadDataset(t.services.db, tenant.id, meta.id); // checks the content hash
    assert.equal(loaded!.x.length, 20);
    const read = await request(t.app.server).get(`/v1/datasets/${meta.id}`).set(tenant.auth);
    assert.deepEqual(read.body.categoricalColumns, meta.categoricalColumns);
  });

  it('the category order does not depend on the order rows arrive in; numbers in a text column are categories', async () => {
    const reversed = [rows[0]!, ...rows.slice(1).reverse()];
    const res = await upload(t.app, tenant, csvOf(reversed));
    assert.deepEqual(res.body.featureNames, ['size', 'color=blue', 'color=green', 'color=red']);
    const mixed = await upload(t.app, tenant, JSON.stringify([{ k: 'x10', v: 1, y: 0 }, { k: 'x2', v: 2, y: 1 }, { k: 7, v: 3, y: 0 }, { k: 'true', v: 4, y: 1 }]), 'application/json');
    assert.equal(mixed.status, 201, JSON.stringify(mixed.body));
    assert.deepEqual(mixed.body.categoricalColumns[0].categories, ['7', 'true', 'x2', 'x10']);
  });

  it('a column that starts with numbers stays numeric: text later in it is DATASET_NON_NUMERIC, nothing stored', async () => {
    const before = await stored(t.services.db, tenant.id);
    const res = await upload(t.app, tenant, csvOf([['a', 'b', 'y'], [1, 2, 'p'], [3, 'oops', 'q']]));
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'DATASET_NON_NUMERIC');
    assert.deepEqual([res.body.row, res.body.column, res.body.value], [1, 'b', 'oops']);
    assert.deepEqual(await stored(t.services.db, tenant.id), before);
  });

  it('too many categories for MAX_DATASET_FEATURES is a 413, nothing stored', async () => {
    const small = await buildTestApp({ MAX_DATASET_FEATURES: '5' });
    try {
      const other = await createTenant(small.services, 'cat-limit');
      const body = csvOf([['n', 'k', 'y'], ...Array.from({ length: 8 }, (_, i) => [i, `k${i}`, i % 2])]);
      const res = await upload(small.app, other, body);
      assert.equal(res.status, 413);
      assert.equal(res.body.code, 'DATASET_TOO_MANY_FEATURES');
      assert.deepEqual(await stored(small.services.db, other.id), { datasets: 0, chunks: 0 });
    } finally {
      await small.close();
    }
  });

  it('a table over several chunks is rewritten and re-chunked in the final encoding, row for row', async () => {
    // 200 numeric columns + 1 text column: 1,310 rows per raw chunk, 1,291 per final chunk (203 features).
    const n = 3000, numeric = 200;
    const header = [...Array.from({ length: numeric }, (_, i) => `f${i}`), 'shade', 'y'];
    const shades = ['dark', 'light', 'mid'];
    const lines = [header.join(',')];
    for (let r = 0; r < n; r++) lines.push([...Array.from({ length: numeric }, (_, i) => (r * 7 + i) % 100), shades[(r * 5) % 3], r % 3 === 0 ? 'p' : 'q'].join(','));
    const res = await upload(t.app, tenant, lines.join('\n') + '\n');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.features, numeric + 3);
    assert.equal(res.body.chunkCount, Math.ceil(n / Math.floor((1024 * 1024) / (4 * (numeric + 3)))));
    const loaded = (await loadDataset(t.services.db, tenant.id, res.body.id))!;
    const F = numeric + 3;
    for (const r of [0, 1, 1290, 1291, 1309, 1310, 2999]) {
      for (const i of [0, 17, numeric - 1]) assert.equal(loaded.x[r * F + i], (r * 7 + i) % 100, `row ${r} f${i}`);
      const shade = shades[(r * 5) % 3]!;
      assert.deepEqual(Array.from(loaded.x.subarray(r * F + numeric, r * F + F)), shades.map((s) => (s === shade ? 1 : 0)), `row ${r} shade`);
      assert.equal(loaded.y[r], r % 3 === 0 ? 0 : 1);
    }
  });
});

describe('a model trained on a table with a text column (real worker)', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let worker: Running | undefined;

  before(async () => {
    own = await ownInstallation('categorical');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'cat-train');
    worker = await startWorker(own);
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('trains, keeps the encoding with the model, and predict takes the raw text column', async () => {
    // The class is decided by the colour; `noise` is a numeric distractor; one missing noise cell is imputed (mean).
    const colors = ['red', 'green', 'blue'];
    const lines = ['noise,color,warmth'];
    for (let i = 0; i < 150; i++) lines.push(`${i === 7 ? '' : ((i * 37) % 11) / 10},${colors[i % 3]},${i % 3 === 0 ? 'warm' : 'cold'}`);
    const up = await upload(t.app, tenant, lines.join('\n') + '\n', 'text/csv', '?missing=mean');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.deepEqual(up.body.missing.imputed.map((c: { column: string; cells: number }) => [c.column, c.cells]), [['noise', 1]]);

    const job = await submitJob(t.app, tenant, {
      datasetId: up.body.id, network: { layers: [{ units: 8 }] }, optimizer: { type: 'adam', learningRate: 0.05 },
      training: { epochs: 40, batchSize: 16, seed: 3, validationFraction: 0.2 },
    });
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    const modelId = (await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } })).id;

    const model = await request(t.app.server).get(`/v1/models/${modelId}`).set(tenant.auth);
    assert.deepEqual(model.body.featureNames, ['noise', 'color=blue', 'color=green', 'color=red']);
    assert.deepEqual(model.body.preprocessing.inputColumns, ['noise', 'color']);
    assert.deepEqual(model.body.preprocessing.categoricalColumns, up.body.categoricalColumns);
    assert.deepEqual(model.body.preprocessing.missing, up.body.missing);

    const predict = (body: object, query = '') => request(t.app.server).post(`/v1/models/${modelId}/predict${query}`).set(tenant.auth).send(body);
    const res = await predict({ rows: [{ noise: 0.3, color: 'red' }, { color: 'blue', noise: 0.5 }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.predictions.map((p: { class: string }) => p.class), ['warm', 'cold']);
    const arrays = await predict([[0.1, 'green'], [0.4, 'red']]);
    assert.deepEqual(arrays.body.predictions.map((p: { class: string }) => p.class), ['cold', 'warm']);
    const csv = await request(t.app.server).post(`/v1/models/${modelId}/predict`).set(tenant.auth).set('content-type', 'text/csv').send('color,noise\nred,0.2\ngreen,0.9\n');
    assert.deepEqual(csv.body.predictions.map((p: { class: string }) => p.class), ['warm', 'cold']);

    // An unknown category: all zeros by default (a prediction), a 400 with unknownCategory=error.
    const unseen = await predict({ rows: [{ noise: 0.3, color: 'purple' }] });
    assert.equal(unseen.status, 200);
    assert.equal(unseen.body.predictions.length, 1);
    const refused = await predict({ rows: [{ noise: 0.3, color: 'purple' }] }, '?unknownCategory=error');
    assert.equal(refused.status, 400);
    assert.deepEqual([refused.body.code, refused.body.problem, refused.body.feature, refused.body.value], ['PREDICT_INPUT_INVALID', 'unknown-category', 'color', 'purple']);
    // Evaluation on another upload whose text column has other categories: features matched by name, `color=blue`
    // (absent there) is 0, `color=purple` (unknown to the model) is dropped.
    const other = await upload(t.app, tenant, 'noise,color,warmth\n0.1,red,warm\n0.2,green,cold\n0.3,red,warm\n0.4,purple,cold\n');
    assert.deepEqual(other.body.featureNames, ['noise', 'color=green', 'color=purple', 'color=red']);
    const evaluation = await request(t.app.server).post(`/v1/models/${modelId}/evaluate`).set(tenant.auth).send({ datasetId: other.body.id });
    assert.equal(evaluation.status, 201, JSON.stringify(evaluation.body));
    const matrix = evaluation.body.metrics.confusionMatrix;
    assert.deepEqual(matrix.classes, ['cold', 'warm']);
    assert.equal(matrix.matrix[1][1], 2, 'both red rows are warm');
    assert.equal(matrix.matrix[0][0] + matrix.matrix[0][1], 2);
    // The one-hot feature names are not inputs.
    const expanded = await predict({ rows: [{ noise: 0.3, 'color=red': 1, 'color=green': 0, 'color=blue': 0 }] });
    assert.equal(expanded.status, 400);
    assert.equal(expanded.body.problem, 'unknown-feature');
  });
});
