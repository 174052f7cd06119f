/**
 * POST /v1/models/:id/evaluate on a stored dataset and on rows in the body (JSON forms, CSV), compared with metrics
 * computed here from the engine's own forward pass; evaluations stored and listed; problems as 4xx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { irisData, storeModel, trainModel, waveData, type TrainedModel } from '../helpers/models.js';

const close = (a: number, b: number, what: string, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);

describe('model evaluation', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;
  let irisId: string;
  let irisDatasetId: string;
  let csv: string;
  /** Computed here from the engine's outputs: the predicted classes, accuracy, confusion matrix, log-loss. */
  let expected: { accuracy: number; matrix: number[][]; logLoss: number };
  const names = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

  before(async () => {
    t = await buildTestApp({ MAX_PREDICT_ROWS: '200' });
    tenant = await createTenant(t.services, 'evaluate');
    iris = await trainModel(irisData(), { epochs: 15, layers: [{ units: 4, activation: 'relu' }] }); // not perfect on purpose
    irisId = await storeModel(t.services, tenant.id, iris.artifact, 'iris');
    const { x, y, n, classNames } = iris.data;
    csv = [[...names, 'species'].join(','), ...Array.from({ length: n }, (_, i) => [...x.subarray(i * 4, i * 4 + 4), classNames[y[i]!]].join(','))].join('\n') + '\n';
    const up = await request(t.app.server).post('/v1/datasets?target=species').set(tenant.auth).set('content-type', 'text/csv').send(csv);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    irisDatasetId = up.body.id;
    const out = iris.expected();
    const matrix = classNames.map(() => classNames.map(() => 0));
    let correct = 0, logLoss = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(out.subarray(i * 3, i * 3 + 3));
      const predicted = row.indexOf(Math.max(...row));
      matrix[y[i]!]![predicted]!++;
      if (predicted === y[i]) correct++;
      logLoss -= Math.log(Math.max(1e-15, row[y[i]!]!));
    }
    expected = { accuracy: correct / n, matrix, logLoss: logLoss / n };
    assert.ok(expected.accuracy < 1 && expected.accuracy > 0.5, `a model that makes some mistakes (${expected.accuracy})`);
  });
  after(() => t?.close());

  const evaluate = (id: string, body: unknown, query = '') => request(t.app.server).post(`/v1/models/${id}/evaluate${query}`).set(tenant.auth).send(body as object);

  function checkIris(metrics: Record<string, unknown>) {
    const m = metrics as { task: string; rows: number; accuracy: number; logLoss: number; loss: number; confusionMatrix: { classes: string[]; matrix: number[][] };
      perClass: { class: string; precision: number; recall: number; f1: number; support: number }[] };
    assert.equal(m.task, 'classification');
    assert.equal(m.rows, 150);
    close(m.accuracy, expected.accuracy, 'accuracy', 1e-12);
    assert.deepEqual(m.confusionMatrix, { classes: iris.data.classNames, matrix: expected.matrix });
    close(m.logLoss, expected.logLoss, 'log-loss');
    close(m.loss, expected.logLoss, 'loss (softmax: the log-loss)');
    m.perClass.forEach((c, k) => {
      const tp = expected.matrix[k]![k]!, predicted = expected.matrix.reduce((s, r) => s + r[k]!, 0), support = expected.matrix[k]!.reduce((s, v) => s + v, 0);
      const p = predicted ? tp / predicted : 0, r = tp / support;
      assert.equal(c.class, iris.data.classNames[k]);
      assert.equal(c.support, 50);
      close(c.precision, p, `${c.class} precision`, 1e-12);
      close(c.recall, r, `${c.class} recall`, 1e-12);
      close(c.f1, p + r ? (2 * p * r) / (p + r) : 0, `${c.class} f1`, 1e-12);
    });
  }

  it('on a stored dataset: the metrics of the engine\'s own outputs, stored (201, Location) and readable', async () => {
    const res = await evaluate(irisId, { datasetId: irisDatasetId });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.source, res.body.datasetId, res.body.modelId, res.body.rows, res.body.task], ['dataset', irisDatasetId, irisId, 150, 'classification']);
    checkIris(res.body.metrics);
    assert.equal(res.headers.location, `/v1/models/${irisId}/evaluations/${res.body.id}`);
    const read = await request(t.app.server).get(res.headers.location!).set(tenant.auth);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.metrics, res.body.metrics);
    assert.equal(await t.services.db.evaluation.count({ where: { id: res.body.id, tenantId: tenant.id } }), 1);
  });

  it('on rows in the body: objects with the target (any extra column ignored), arrays with the target last, CSV', async () => {
    const { x, y, n, classNames } = iris.data;
    const objects = Array.from({ length: n }, (_, i) => ({ rowId: i, ...Object.fromEntries(names.map((f, j) => [f, x[i * 4 + j]])), species: classNames[y[i]!] }));
    const res = await evaluate(irisId, { rows: objects }, '?target=species');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.source, res.body.datasetId], ['inline', null]);
    assert.deepEqual(res.body.ignoredColumns, ['rowId']);
    assert.equal(res.headers['x-ignored-columns'], 'rowId');
    checkIris(res.body.metrics);

    const arrays = Array.from({ length: n }, (_, i) => [...x.subarray(i * 4, i * 4 + 4), classNames[y[i]!]]);
    const positional = await evaluate(irisId, arrays);
    assert.equal(positional.status, 201, JSON.stringify(positional.body));
    checkIris(positional.body.metrics);

    const fromCsv = await request(t.app.server).post(`/v1/models/${irisId}/evaluate?target=species`).set(tenant.auth).set('content-type', 'text/csv').send(csv);
    assert.equal(fromCsv.status, 201, JSON.stringify(fromCsv.body));
    checkIris(fromCsv.body.metrics);
  });

  it('regression: RMSE, MAE, R² and the residual summary, against values computed here', async () => {
    const wave = await trainModel(waveData(), { epochs: 30 });
    const waveId = await storeModel(t.services, tenant.id, wave.artifact, 'wave');
    const { x, y, n } = wave.data;
    const out = wave.expected();
    const residuals = Array.from({ length: n }, (_, i) => y[i]! - out[i]!);
    const mean = Array.from(y).reduce((s, v) => s + v, 0) / n;
    const rmse = Math.sqrt(residuals.reduce((s, e) => s + e * e, 0) / n);
    const mae = residuals.reduce((s, e) => s + Math.abs(e), 0) / n;
    const r2 = 1 - residuals.reduce((s, e) => s + e * e, 0) / Array.from(y).reduce((s, v) => s + (v - mean) ** 2, 0);
    const sorted = [...residuals].sort((a, b) => a - b);
    const res = await evaluate(waveId, { rows: Array.from({ length: n }, (_, i) => ({ a: x[2 * i], b: x[2 * i + 1], y: y[i] })) }, '?target=y');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const m = res.body.metrics;
    assert.equal(m.task, 'regression');
    close(m.rmse, rmse, 'rmse');
    close(m.mae, mae, 'mae');
    close(m.r2, r2, 'r2');
    close(m.loss, (rmse * rmse) / 2, 'loss');
    close(m.residuals.min, sorted[0]!, 'min');
    close(m.residuals.max, sorted[n - 1]!, 'max');
    close(m.residuals.median, (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2, 'median');
    for (const k of ['q1', 'q3']) assert.ok(m.residuals[k] >= m.residuals.min && m.residuals[k] <= m.residuals.max, k);
    // A classification dataset does not fit a regression model.
    const mismatch = await evaluate(waveId, { datasetId: irisDatasetId });
    assert.deepEqual([mismatch.status, mismatch.body.code, mismatch.body.problem], [400, 'EVALUATION_DATA_MISMATCH', 'task']);
  });

  it('lists a model\'s evaluations newest first, with cursor pages', async () => {
    const first = await evaluate(irisId, { datasetId: irisDatasetId });
    const second = await evaluate(irisId, { datasetId: irisDatasetId });
    const page = await request(t.app.server).get(`/v1/models/${irisId}/evaluations?limit=1`).set(tenant.auth);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.items.map((e: { id: string }) => e.id), [second.body.id]);
    const next = await request(t.app.server).get(`/v1/models/${irisId}/evaluations?limit=1&cursor=${page.body.nextCursor}`).set(tenant.auth);
    assert.deepEqual(next.body.items.map((e: { id: string }) => e.id), [first.body.id]);
    const all = await request(t.app.server).get(`/v1/models/${irisId}/evaluations?limit=100`).set(tenant.auth);
    assert.ok(all.body.items.length >= 4);
    assert.equal(all.body.nextCursor, null);
  });

  it('problems: unknown model, dataset or evaluation; a missing target; an unknown class; other tenants', async () => {
    const nobody = '00000000-0000-4000-8000-000000000000';
    assert.equal((await evaluate(nobody, { datasetId: irisDatasetId })).body.code, 'MODEL_NOT_FOUND');
    const noData = await evaluate(irisId, { datasetId: nobody });
    assert.deepEqual([noData.status, noData.body.code], [404, 'DATASET_NOT_FOUND']);
    const noEval = await request(t.app.server).get(`/v1/models/${irisId}/evaluations/${nobody}`).set(tenant.auth);
    assert.deepEqual([noEval.status, noEval.body.code], [404, 'EVALUATION_NOT_FOUND']);
    const row = Object.fromEntries(names.map((f) => [f, 1]));
    const noTarget = await evaluate(irisId, { rows: [row] }, '?target=species');
    assert.deepEqual([noTarget.status, noTarget.body.problem, noTarget.body.feature], [400, 'missing-feature', 'species']);
    const badClass = await evaluate(irisId, { rows: [{ ...row, species: 'rose' }] }, '?target=species');
    assert.deepEqual([badClass.status, badClass.body.problem, badClass.body.value], [400, 'unknown-class', 'rose']);
    const extra = await evaluate(irisId, { datasetId: irisDatasetId, rows: [] });
    assert.deepEqual([extra.status, extra.body.code], [400, 'VALIDATION_FAILED']);

    const other = await createTenant(t.services, 'evaluate-other');
    const foreign = await request(t.app.server).post(`/v1/models/${irisId}/evaluate`).set(other.auth).send({ datasetId: irisDatasetId });
    assert.deepEqual([foreign.status, foreign.body.code], [404, 'MODEL_NOT_FOUND']);
    const foreignList = await request(t.app.server).get(`/v1/models/${irisId}/evaluations`).set(other.auth);
    assert.equal(foreignList.status, 404);
    const before = await t.services.db.evaluation.count({ where: { modelId: irisId } });
    assert.ok(before > 0);
    await request(t.app.server).delete(`/v1/models/${irisId}`).set(tenant.auth).expect(204);
    assert.equal(await t.services.db.evaluation.count({ where: { modelId: irisId } }), 0, 'deleting the model deletes its evaluations');
  });
});
