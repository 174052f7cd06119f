/**
 * Predict with rows that carry columns the model does not use (the target, an id): ignored and listed in
 * `ignoredColumns` and the `x-ignored-columns` header; `?strict=true` refuses them (400 PREDICT_INPUT_INVALID,
 * problem `unknown-feature`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { irisData, storeModel, trainModel, type TrainedModel } from '../helpers/models.js';

describe('predict: extra columns', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;
  let id: string;
  let objects: Record<string, number>[];
  let reference: unknown[];
  const names = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'predict-columns');
    iris = await trainModel(irisData(), { epochs: 20 });
    id = await storeModel(t.services, tenant.id, iris.artifact, 'iris');
    const { x } = iris.data;
    objects = Array.from({ length: 10 }, (_, i) => Object.fromEntries(names.map((n, f) => [n, x[i * 4 + f]!])));
    const res = await predict({ rows: objects });
    assert.equal(res.status, 200);
    reference = res.body.predictions;
  });
  after(() => t?.close());

  const predict = (body: unknown, query = '') => request(t.app.server).post(`/v1/models/${id}/predict${query}`).set(tenant.auth).send(body as object);

  it('without extra columns: ignoredColumns is empty and there is no header', async () => {
    const res = await predict({ rows: objects });
    assert.deepEqual(res.body.ignoredColumns, []);
    assert.equal(res.headers['x-ignored-columns'], undefined);
  });

  it('ignores the target and other unknown named columns, in every named form, and says which', async () => {
    const withExtras = objects.map((o, i) => ({ id: `r${i}`, ...o, species: iris.data.classNames[iris.data.y[i]!] }));
    const columns = ['id', ...names, 'species'];
    const table = withExtras.map((o) => columns.map((c) => (o as Record<string, unknown>)[c]));
    const bodies: unknown[] = [
      { rows: withExtras },
      { dataframe_records: withExtras },
      { dataframe_split: { columns, data: table } },
      { inputs: Object.fromEntries(columns.map((c, j) => [c, table.map((r) => r[j])])) },
    ];
    for (const body of bodies) {
      const res = await predict(body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.predictions, reference, JSON.stringify(body).slice(0, 40));
      assert.deepEqual(res.body.ignoredColumns, ['id', 'species']);
      assert.equal(res.headers['x-ignored-columns'], 'id,species');
    }
    const csv = [columns.join(','), ...table.map((r) => r.join(','))].join('\n');
    const res = await request(t.app.server).post(`/v1/models/${id}/predict`).set(tenant.auth).set('content-type', 'text/csv').send(csv);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.predictions, reference);
    assert.deepEqual(res.body.ignoredColumns, ['id', 'species']);
  });

  it('names in the header are URI-encoded', async () => {
    const res = await predict({ rows: [{ ...objects[0], 'a,b': 1, 'é': 2 }] });
    assert.equal(res.headers['x-ignored-columns'], 'a%2Cb,%C3%A9');
    assert.deepEqual(res.body.ignoredColumns, ['a,b', 'é']);
  });

  it('strict=true refuses an extra column with a stable problem, naming it', async () => {
    const res = await predict({ rows: [{ ...objects[0], species: 'setosa' }] }, '?strict=true');
    assert.equal(res.status, 400);
    assert.deepEqual([res.body.code, res.body.problem, res.body.feature, res.body.column, res.body.row], ['PREDICT_INPUT_INVALID', 'unknown-feature', 'species', 4, 0]);
    const csv = await request(t.app.server).post(`/v1/models/${id}/predict?strict=true`).set(tenant.auth).set('content-type', 'text/csv')
      .send(`${names.join(',')},id\n1,2,3,4,9\n`);
    assert.deepEqual([csv.status, csv.body.problem, csv.body.feature], [400, 'unknown-feature', 'id']);
    const fine = await predict({ rows: objects }, '?strict=true');
    assert.equal(fine.status, 200);
  });

  it('a misspelt feature is still reported as unknown (not ignored) when a needed one is missing', async () => {
    const { sepal_length, sepal_width, petal_length } = objects[0]!;
    const res = await predict({ rows: [{ sepal_length, sepal_width, petal_length, petal_widht: 1 }] });
    assert.deepEqual([res.status, res.body.problem, res.body.feature], [400, 'unknown-feature', 'petal_widht']);
    const missing = await predict({ rows: [{ sepal_length, sepal_width, petal_length }] });
    assert.deepEqual([missing.status, missing.body.problem, missing.body.feature], [400, 'missing-feature', 'petal_width']);
  });

  it('array rows have no names: an extra value is still a width problem', async () => {
    const res = await predict({ rows: [[1, 2, 3, 4, 5]] });
    assert.deepEqual([res.status, res.body.problem, res.body.expected, res.body.got], [400, 'width', 4, 5]);
  });
});
