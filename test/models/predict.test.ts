import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { irisData, storeModel, trainModel, waveData, spiralData, type TrainedModel } from '../helpers/models.js';

type Row = { class?: string; probabilities?: Record<string, number>; scores?: Record<string, number>; value?: number };

const MAX_ROWS = 200;

describe('POST /v1/models/:id/predict', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;
  let irisId: string;
  let rows: number[][];

  before(async () => {
    t = await buildTestApp({ MAX_PREDICT_ROWS: String(MAX_ROWS) });
    tenant = await createTenant(t.services);
    iris = await trainModel(irisData());
    irisId = await storeModel(t.services, tenant.id, iris.artifact, 'iris');
    const { x, n } = iris.data;
    rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * 4, i * 4 + 4)));
  });
  after(() => t.close());

  const predict = (id: string, body: unknown) => request(t.app.server).post(`/v1/models/${id}/predict`).set(tenant.auth).send(body as object);

  it("equals the engine's own forward pass on the training rows, preprocessing applied", async () => {
    const res = await predict(irisId, { rows }).expect(200);
    const expected = iris.expected();
    const { classNames } = iris.data;
    assert.equal(res.body.rows, 150);
    assert.equal(res.body.task, 'classification');
    let correct = 0;
    res.body.predictions.forEach((p: Row, i: number) => {
      const want = Object.fromEntries(classNames.map((c, j) => [c, expected[i * 3 + j]]));
      assert.deepEqual(p.probabilities, want, `row ${i}`);
      const best = classNames.reduce((a, c) => (want[c]! > want[a]! ? c : a));
      assert.equal(p.class, best);
      if (p.class === classNames[iris.data.y[i]!]) correct++;
    });
    assert.ok(correct / 150 > 0.9, `training accuracy ${correct / 150}`);
  });

  it('accepts objects, MLflow bodies, a bare array and CSV, all giving the same predictions', async () => {
    const names = iris.data.featureNames;
    const reference = (await predict(irisId, rows.slice(0, 20)).expect(200)).body.predictions;
    const objects = rows.slice(0, 20).map((r) => Object.fromEntries([...names].reverse().map((f) => [f, r[names.indexOf(f)]])));
    const permuted = [2, 0, 3, 1];
    const bodies: unknown[] = [
      { rows: objects },
      { instances: rows.slice(0, 20) },
      { instances: objects },
      { inputs: rows.slice(0, 20) },
      { inputs: Object.fromEntries(names.map((f, c) => [f, rows.slice(0, 20).map((r) => r[c])])) },
      { dataframe_split: { columns: permuted.map((c) => names[c]), data: rows.slice(0, 20).map((r) => permuted.map((c) => r[c])), index: [] } },
      { dataframe_records: objects },
    ];
    for (const body of bodies) {
      const res = await predict(irisId, body);
      assert.equal(res.status, 200, `${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body.predictions, reference, JSON.stringify(body).slice(0, 60));
    }
    const csvRows = rows.slice(0, 20).map((r) => permuted.map((c) => String(r[c])).join(','));
    const withHeader = `${permuted.map((c) => names[c]).join(',')}\n${csvRows.join('\n')}\n`;
    const headed = await request(t.app.server).post(`/v1/models/${irisId}/predict`).set(tenant.auth).set('content-type', 'text/csv').send(withHeader).expect(200);
    assert.deepEqual(headed.body.predictions, reference);
    const bare = rows.slice(0, 20).map((r) => r.join(',')).join('\r\n');
    const plain = await request(t.app.server).post(`/v1/models/${irisId}/predict`).set(tenant.auth).set('content-type', 'text/csv').send(bare).expect(200);
    assert.deepEqual(plain.body.predictions, reference);
  });

  it('answers bad input with 400 PREDICT_INPUT_INVALID naming the row and column', async () => {
    const cases: [unknown, Record<string, unknown>][] = [
      [{ rows: [rows[0], [1, 2, 3]] }, { problem: 'width', row: 1, expected: 4, got: 3 }],
      [{ rows: [rows[0], rows[1], [1, 2, 'x', 4]] }, { problem: 'not-a-number', row: 2, column: 2, feature: 'petal_length' }],
      [{ rows: [rows[0], [1, 2, null, 4]] }, { problem: 'not-a-number', row: 1, column: 2 }],
      [{ rows: [{ sepal_length: 1, sepal_width: 2, petal_length: 3, petal_width: 4 }, { sepal_length: 1, sepal_width: 2, petal_length: 3, petal_len: 4 }] }, { problem: 'unknown-feature', row: 1, column: 3, feature: 'petal_len' }],
      [{ dataframe_records: [{ sepal_length: 1, sepal_width: 2, petal_length: 3 }] }, { problem: 'missing-feature', row: 0, feature: 'petal_width' }],
      [{ dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[1, 2, 3, 4], [1, 2, 3, 1e39]] } }, { problem: 'out-of-range', row: 1, column: 3 }],
      [{ rows: Array.from({ length: MAX_ROWS + 1 }, () => rows[0]) }, { problem: 'too-many-rows', limit: MAX_ROWS }],
      [{ rows: [] }, { problem: 'empty' }],
      [{ rows, instances: rows }, { problem: 'shape' }],
      [{ data: rows }, { problem: 'shape' }],
      [{ inputs: { sepal_length: [1, 2], sepal_width: [1], petal_length: [1, 2], petal_width: [1, 2] } }, { problem: 'shape', feature: 'sepal_width' }],
    ];
    for (const [body, fields] of cases) {
      const res = await predict(irisId, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.code, 'PREDICT_INPUT_INVALID');
      for (const [k, v] of Object.entries(fields)) assert.deepEqual(res.body[k], v, `${k} of ${JSON.stringify(body).slice(0, 80)}: ${res.body.detail}`);
    }
    const csv = await request(t.app.server).post(`/v1/models/${irisId}/predict`).set(tenant.auth).set('content-type', 'text/csv')
      .send('sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n\n1,2,abc,4\n').expect(400);
    assert.deepEqual([csv.body.problem, csv.body.row, csv.body.column, csv.body.line, csv.body.feature], ['not-a-number', 1, 2, 4, 'petal_length']);
    const unknownColumn = await request(t.app.server).post(`/v1/models/${irisId}/predict`).set(tenant.auth).set('content-type', 'text/csv')
      .send('sepal_length,sepal_width,petal_length,colour\n1,2,3,4\n').expect(400);
    assert.deepEqual([unknownColumn.body.problem, unknownColumn.body.column, unknownColumn.body.feature], ['unknown-feature', 3, 'colour']);
    const text = await request(t.app.server).post(`/v1/models/${irisId}/predict`).set(tenant.auth).set('content-type', 'text/plain').send('1,2,3,4').expect(415);
    assert.equal(text.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it("answers 404 for an unknown id, a malformed id and another tenant's model", async () => {
    const other = await createTenant(t.services);
    for (const [id, auth] of [[crypto.randomUUID(), tenant.auth], ['nope', tenant.auth], [irisId, other.auth]] as const) {
      const res = await request(t.app.server).post(`/v1/models/${id}/predict`).set(auth).send({ rows: [rows[0]] }).expect(404);
      assert.equal(res.body.code, 'MODEL_NOT_FOUND');
    }
  });

  it('reads probabilities of a 1-output logistic model and the value of a regression model', async () => {
    const twoArms = spiralData(40, 2);
    const logistic = await trainModel(twoArms, { loss: 'logistic' });
    const id = await storeModel(t.services, tenant.id, logistic.artifact);
    const x = Array.from({ length: twoArms.n }, (_, i) => [twoArms.x[2 * i]!, twoArms.x[2 * i + 1]!]);
    const res = await predict(id, { rows: x }).expect(200);
    const p1 = logistic.expected();
    res.body.predictions.forEach((p: Row, i: number) => {
      assert.deepEqual(p.probabilities, { arm0: 1 - p1[i]!, arm1: p1[i] });
      assert.equal(p.class, p1[i]! > 0.5 ? 'arm1' : 'arm0');
    });

    const wave = await trainModel(waveData());
    const waveId = await storeModel(t.services, tenant.id, wave.artifact);
    const points = Array.from({ length: wave.data.n }, (_, i) => ({ a: wave.data.x[2 * i]!, b: wave.data.x[2 * i + 1]! }));
    const values = await predict(waveId, { instances: points }).expect(200);
    assert.equal(values.body.task, 'regression');
    assert.deepEqual(values.body.predictions, Array.from(wave.expected(), (v) => ({ value: v })));
  });
});

describe('the model cache', () => {
  let a: TestApp;
  let b: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;

  before(async () => {
    a = await buildTestApp({ MODEL_CACHE_SIZE: '2' });
    b = await buildTestApp();
    tenant = await createTenant(a.services);
    iris = await trainModel(irisData(), { epochs: 20 });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const predictOn = (t: TestApp, id: string) => request(t.app.server).post(`/v1/models/${id}/predict`).set(tenant.auth).send({ rows: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });

  it('serves a repeated call without reading the model from Postgres, and forgets it on DELETE in every API process', async () => {
    const id = await storeModel(a.services, tenant.id, iris.artifact);
    const first = (await predictOn(a, id).expect(200)).body;
    await predictOn(b, id).expect(200);
    // Were the row read again, these weights (all zero: uniform probabilities) would show.
    await a.services.db.model.update({ where: { id }, data: { weights: new Uint8Array(iris.artifact.parameterCount * 4) } });
    const hitsBefore = a.services.models.stats.hits;
    const second = (await predictOn(a, id).expect(200)).body;
    assert.deepEqual(second, first);
    assert.equal(a.services.models.stats.hits, hitsBefore + 1);

    await request(a.app.server).delete(`/v1/models/${id}`).set(tenant.auth).expect(204);
    await predictOn(a, id).expect(404);
    // b learns of the deletion through Redis.
    const deadline = Date.now() + 60_000;
    let status = 200;
    while (status !== 404 && Date.now() < deadline) {
      status = (await predictOn(b, id)).status;
      if (status !== 404) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 404);
  });

  it('empties itself when the Redis subscriber reconnects (invalidations may have been missed)', async () => {
    const id = await storeModel(a.services, tenant.id, iris.artifact);
    await predictOn(a, id).expect(200);
    assert.ok(a.services.models.stats.models > 0);
    const clients = String(await a.services.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const connection = new RegExp(`id=(\\d+) [^\\n]*name=trainyard:${a.services.subscriber.name}( |$)`, 'm').exec(clients)?.[1];
    assert.ok(connection);
    await a.services.redis.call('CLIENT', 'KILL', 'ID', connection);
    const deadline = Date.now() + 60_000;
    while (a.services.models.stats.models > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.services.models.stats.models, 0);
    await predictOn(a, id).expect(200);
  });

  it('keeps at most MODEL_CACHE_SIZE models, least recently used out', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await storeModel(a.services, tenant.id, iris.artifact, `m${i}`));
    a.services.models.clear();
    for (const id of ids) await predictOn(a, id).expect(200);
    assert.equal(a.services.models.stats.models, 2);
    const misses = a.services.models.stats.misses;
    await predictOn(a, ids[2]!).expect(200); // recent: a hit
    await predictOn(a, ids[1]!).expect(200);
    assert.equal(a.services.models.stats.misses, misses);
    await predictOn(a, ids[0]!).expect(200); // evicted: loaded again
    assert.equal(a.services.models.stats.misses, misses + 1);
  });
});
