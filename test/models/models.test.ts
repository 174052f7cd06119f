import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { Preprocessor } from '../../src/engine/preprocessing.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { irisData, spiralData, storeModel, trainModel, waveData, type TrainedModel } from '../helpers/models.js';
import { nextMillisecond } from '../helpers/wait.js';

describe('/v1/models', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;
  let irisId: string;
  let rows: number[][];

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
    iris = await trainModel(irisData(), { preprocessing: { type: 'pca', components: 3, standardize: true }, epochs: 40 });
    irisId = await storeModel(t.services, tenant.id, iris.artifact, 'iris pca');
    rows = Array.from({ length: iris.data.n }, (_, i) => Array.from(iris.data.x.subarray(i * 4, i * 4 + 4)));
  });
  after(() => t.close());

  const api = () => request(t.app.server);

  it('describes a model: spec, layer table, parameter count, classes, preprocessing, metrics', async () => {
    const res = await api().get(`/v1/models/${irisId}`).set(tenant.auth).expect(200);
    const m = res.body;
    assert.equal(m.name, 'iris pca');
    assert.equal(m.parameterCount, 3 * 16 + 16 + 16 * 3 + 3);
    assert.deepEqual(m.layers.map((l: { params: number }) => l.params).reduce((a: number, b: number) => a + b), m.parameterCount);
    assert.equal(m.inputs, 4);
    assert.equal(m.classes, 3);
    assert.deepEqual(m.classNames, iris.data.classNames);
    assert.deepEqual(m.preprocessing, {
      type: 'pca', inputs: 4, outputs: 3, standardize: true, components: 3, epsilon: null,
      inputColumns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], categoricalColumns: [],
      missing: { strategy: 'error', droppedRows: 0, imputed: [] },
    });
    assert.equal(m.spec.loss, 'softmax');
    assert.equal(m.metrics.trainAccuracy, iris.artifact.metrics.trainAccuracy);
    assert.equal(m.jobId, null);
    assert.equal(m.inputRange.length, 4);
  });

  it('lists models newest first, page by page', async () => {
    const other = await createTenant(t.services);
    const ids = [];
    for (let i = 0; i < 3; i++) {
      await nextMillisecond(); // distinct createdAt: the order asserted is the creation order
      ids.push(await storeModel(t.services, other.id, iris.artifact, `m${i}`));
    }
    const first = await api().get('/v1/models?limit=2').set(other.auth).expect(200);
    assert.deepEqual(first.body.items.map((m: { id: string }) => m.id), [ids[2], ids[1]]);
    const second = await api().get(`/v1/models?limit=2&cursor=${first.body.nextCursor}`).set(other.auth).expect(200);
    assert.deepEqual(second.body.items.map((m: { id: string }) => m.id), [ids[0]]);
    assert.equal(second.body.nextCursor, null);
    await api().get('/v1/models?cursor=garbage').set(other.auth).expect(400);
  });

  it('deletes a model (404 afterwards), unless a queued job warm-starts from it', async () => {
    const id = await storeModel(t.services, tenant.id, iris.artifact);
    const job = await t.services.db.job.create({ data: { tenantId: tenant.id, warmStartId: id, spec: {}, parameterCount: 1, totalSteps: 1 } });
    const busy = await api().delete(`/v1/models/${id}`).set(tenant.auth).expect(409);
    assert.equal(busy.body.code, 'MODEL_IN_USE');
    await t.services.db.job.update({ where: { id: job.id }, data: { status: 'cancelled' } });
    await api().delete(`/v1/models/${id}`).set(tenant.auth).expect(204);
    await api().get(`/v1/models/${id}`).set(tenant.auth).expect(404);
    await api().delete(`/v1/models/${id}`).set(tenant.auth).expect(404);
    const other = await createTenant(t.services);
    await api().delete(`/v1/models/${irisId}`).set(other.auth).expect(404);
  });

  it('exports a self-contained document that imports into a model predicting identically', async () => {
    const exported = await api().get(`/v1/models/${irisId}/export`).set(tenant.auth).expect(200);
    const doc = exported.body;
    assert.equal(doc.format, 'trainyard-model');
    assert.equal(doc.version, 1);
    assert.equal(doc.weights.encoding, 'float32-le-base64');
    assert.equal(Buffer.from(doc.weights.data, 'base64').byteLength, iris.artifact.parameterCount * 4);
    assert.equal(doc.source.modelId, irisId);

    const other = await createTenant(t.services);
    const imported = await api().post('/v1/models/import').set(other.auth).send(doc).expect(201);
    assert.notEqual(imported.body.id, irisId);
    assert.equal(imported.headers.location, `/v1/models/${imported.body.id}`);
    assert.equal(imported.body.jobId, null);
    const original = await api().post(`/v1/models/${irisId}/predict`).set(tenant.auth).send({ rows }).expect(200);
    const copy = await api().post(`/v1/models/${imported.body.id}/predict`).set(other.auth).send({ rows }).expect(200);
    assert.deepEqual(copy.body.predictions, original.body.predictions);
    // And both are the engine's forward pass.
    const expected = iris.expected();
    assert.equal(copy.body.predictions[7].probabilities[iris.data.classNames[1]!], expected[7 * 3 + 1]);
  });

  it('refuses an invalid document with MODEL_IMPORT_INVALID and the path of the problem', async () => {
    const doc = (await api().get(`/v1/models/${irisId}/export`).set(tenant.auth).expect(200)).body;
    const weights = Buffer.from(doc.weights.data, 'base64');
    const edited = Buffer.from(weights);
    edited[0] = edited[0]! ^ 1;
    const pre = Preprocessor.fromJSON(doc.preprocessing).toJSON();
    const cases: [string, unknown][] = [
      ['format', { ...doc, format: 'onnx' }],
      ['version', { ...doc, version: 2 }],
      ['name', { ...doc, name: undefined }],
      ['weights.data', { ...doc, weights: { ...doc.weights, data: weights.subarray(4).toString('base64') } }],
      ['weights.data', { ...doc, weights: { ...doc.weights, data: '!!notbase64' } }],
      ['weights.sha256', { ...doc, weights: { ...doc.weights, data: edited.toString('base64') } }],
      ['spec', { ...doc, spec: { ...doc.spec, layers: [{ ...doc.spec.layers[0], units: 0 }] } }],
      ['parameterCount', { ...doc, parameterCount: doc.parameterCount + 1 }],
      ['preprocessing', { ...doc, preprocessing: { ...pre, mean: [1] } }],
      ['featureNames', { ...doc, featureNames: doc.featureNames.slice(1) }],
      ['featureNames[2]', { ...doc, featureNames: ['a', 'b', 'a', 'c'] }],
      ['classNames', { ...doc, classNames: ['only', 'two'] }],
      ['inputRange[1]', { ...doc, inputRange: doc.inputRange.map((r: object, i: number) => (i === 1 ? { min: 2, max: 1 } : r)) }],
      ['inputRange[0].max', { ...doc, inputRange: doc.inputRange.map((r: object, i: number) => (i === 0 ? { min: 1 } : r)) }],
      ['metrics.source', { ...doc, metrics: { ...doc.metrics, source: 'guess' } }],
      ['', [doc]],
    ];
    for (const [path, body] of cases) {
      const res = await api().post('/v1/models/import').set(tenant.auth).send(body as object);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'MODEL_IMPORT_INVALID');
      assert.equal(res.body.path, path, res.body.detail);
    }
  });

  describe('decision grid', () => {
    it('predicts the classes over the data range of a 2-input model', async () => {
      const spiral = await trainModel(spiralData(), { layers: [{ units: 24, activation: 'relu' }], epochs: 80 });
      const id = await storeModel(t.services, tenant.id, spiral.artifact);
      const res = await api().get(`/v1/models/${id}/decision-grid?resolution=7`).set(tenant.auth).expect(200);
      const g = res.body;
      const [xr, yr] = spiral.artifact.inputRange;
      assert.deepEqual([g.xRange, g.yRange], [[xr!.min, xr!.max], [yr!.min, yr!.max]]);
      assert.equal(g.classes.length, 49);
      assert.deepEqual(g.classNames, spiral.data.classNames);
      // The engine on the same points (y slowest).
      const points = new Float32Array(49 * 2);
      for (let j = 0; j < 7; j++) for (let i = 0; i < 7; i++) {
        points[(j * 7 + i) * 2] = xr!.min + ((xr!.max - xr!.min) * i) / 6;
        points[(j * 7 + i) * 2 + 1] = yr!.min + ((yr!.max - yr!.min) * j) / 6;
      }
      const out = spiral.network.predict(spiral.preprocessor.apply(points, 49), 49);
      for (let p = 0; p < 49; p++) {
        const row = Array.from(out.subarray(p * 3, p * 3 + 3));
        assert.deepEqual(g.outputs[p], row);
        assert.equal(g.classes[p], row.indexOf(Math.max(...row)));
      }
      assert.ok(new Set(g.classes).size === 3, 'every arm appears on the grid');
    });

    it('gives values for a 2-input regression model, and refuses other models', async () => {
      const wave = await trainModel(waveData(), { epochs: 5 });
      const waveId = await storeModel(t.services, tenant.id, wave.artifact);
      const g = (await api().get(`/v1/models/${waveId}/decision-grid?resolution=3`).set(tenant.auth).expect(200)).body;
      assert.equal(g.values.length, 9);
      assert.equal(g.classes, null);
      const notTwo = await api().get(`/v1/models/${irisId}/decision-grid`).set(tenant.auth).expect(400);
      assert.equal(notTwo.body.code, 'MODEL_NOT_2D');
      assert.equal(notTwo.body.inputs, 4);
      const tooFine = await api().get(`/v1/models/${waveId}/decision-grid?resolution=1000`).set(tenant.auth).expect(400);
      assert.equal(tooFine.body.code, 'VALIDATION_FAILED');
    });
  });
});
