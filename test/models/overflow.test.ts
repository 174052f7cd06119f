/**
 * Issue 9 (6c): a finite float32 input that overflows float32 after the model's preprocessing, or inside its network,
 * used to give NaN probabilities (serialized as null) and class 0. Now: a 400 PREDICT_INPUT_INVALID, problem
 * `out-of-range`, naming the row, the stage and (preprocessing) the feature — and a decision grid over a range the
 * model overflows on is a 400 MODEL_OVERFLOW instead of a picture of class 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { sha256Hex } from '../../src/models/export-document.js';
import type { ModelArtifact } from '../../src/models/artifact.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { spiralData, storeModel, trainModel, type TrainedModel } from '../helpers/models.js';

/** The artifact with feature 0's preprocessing scale σ set to `scale` (as if it was nearly constant in training). */
function withScale(artifact: ModelArtifact, scale: number, inputRange = artifact.inputRange): ModelArtifact {
  const preprocessing = { ...artifact.preprocessing, scale: artifact.preprocessing.scale.map((s, f) => (f === 0 ? scale : s)) };
  return { ...artifact, preprocessing, inputRange };
}

describe('predictions that overflow float32', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let spiral: TrainedModel;
  let pca: TrainedModel;

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'overflow');
    spiral = await trainModel(spiralData(), { epochs: 20 });
    pca = await trainModel(spiralData(), { epochs: 20, preprocessing: { type: 'pca', components: 2, standardize: true } });
  });
  after(async () => {
    await spiral.context.close();
    await pca.context.close();
    await t.close();
  });

  const api = () => request(t.app.server);
  const predict = (id: string, body: unknown) => api().post(`/v1/models/${id}/predict`).set(tenant.auth).send(body as object);

  it('an input that the preprocessing scales beyond float32: 400 out-of-range naming the row and feature', async () => {
    const id = await storeModel(t.services, tenant.id, withScale(spiral.artifact, 1e-10), 'tiny scale');
    // Ordinary rows still predict, with finite probabilities only.
    const fine = await predict(id, { rows: [[0.1, 0.2], [5, -3]] }).expect(200);
    for (const p of fine.body.predictions) assert.ok(Object.values(p.probabilities).every((v) => typeof v === 'number' && Number.isFinite(v)), JSON.stringify(p));

    const res = await predict(id, { rows: [[0.1, 0.2], [3e38, 0]] });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'PREDICT_INPUT_INVALID');
    assert.deepEqual([res.body.problem, res.body.stage, res.body.row, res.body.feature], ['out-of-range', 'preprocessing', 1, 'x']);
    assert.match(res.body.detail, /^Row 1, feature x: \d\.\d+e\+38 becomes \d\.\d+e\+48 after the model's preprocessing \(\(x − \S+\) \/ 1e-10\), beyond float32\. The model was trained on x in \[/);

    const csv = await api().post(`/v1/models/${id}/predict`).set(tenant.auth).set('content-type', 'text/csv').send('x,y\n1,2\n-3e38,1\n');
    assert.equal(csv.status, 400);
    assert.deepEqual([csv.body.problem, csv.body.stage, csv.body.row, csv.body.feature], ['out-of-range', 'preprocessing', 1, 'x']);

    const objects = await predict(id, { rows: [{ y: 0, x: 3e38 }] });
    assert.deepEqual([objects.status, objects.body.problem, objects.body.row, objects.body.feature], [400, 'out-of-range', 0, 'x']);
  });

  it('with a PCA projection the feature is named too', async () => {
    const id = await storeModel(t.services, tenant.id, withScale(pca.artifact, 1e-10), 'tiny scale, pca');
    await predict(id, { rows: [[0.1, 0.2]] }).expect(200);
    const res = await predict(id, { rows: [[0.1, 0.2], [0.3, 0.4], [3e38, 0.5]] });
    assert.equal(res.status, 400);
    assert.deepEqual([res.body.problem, res.body.stage, res.body.row, res.body.feature], ['out-of-range', 'preprocessing', 2, 'x']);
  });

  it('a network whose (imported) weights overflow on ordinary input: 400 out-of-range at the network stage', async () => {
    const id = await storeModel(t.services, tenant.id, spiral.artifact, 'to export');
    const doc = (await api().get(`/v1/models/${id}/export`).set(tenant.auth).expect(200)).body;
    const bytes = Buffer.from(doc.weights.data, 'base64');
    const huge = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).map((w) => w * 1e30);
    assert.ok(huge.every(Number.isFinite), 'the weights are finite float32: import accepts them');
    const data = new Uint8Array(huge.buffer);
    const imported = await api().post('/v1/models/import').set(tenant.auth)
      .send({ ...doc, name: 'huge weights', weights: { ...doc.weights, data: Buffer.from(data).toString('base64'), sha256: sha256Hex(data) } })
      .expect(201);
    const res = await predict(imported.body.id, { rows: [[0.5, 0.5], [0.1, -0.2]] });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'PREDICT_INPUT_INVALID');
    assert.deepEqual([res.body.problem, res.body.stage, res.body.row], ['out-of-range', 'network', 0]);
    assert.match(res.body.detail, /^Row 0: the model's outputs overflow float32 on this input/);

    const grid = await api().get(`/v1/models/${imported.body.id}/decision-grid?resolution=5`).set(tenant.auth);
    assert.equal(grid.status, 400, JSON.stringify(grid.body).slice(0, 300));
    assert.equal(grid.body.code, 'MODEL_OVERFLOW');
    assert.equal(grid.body.stage, 'network');
  });

  it('a decision grid over a range the preprocessing overflows on: 400 MODEL_OVERFLOW, never a grid of class 0', async () => {
    const range = [{ min: -3e38, max: 3e38 }, spiral.artifact.inputRange[1]!];
    const id = await storeModel(t.services, tenant.id, withScale(spiral.artifact, 1e-10, range), 'tiny scale, huge range');
    const grid = await api().get(`/v1/models/${id}/decision-grid?resolution=5`).set(tenant.auth);
    assert.equal(grid.status, 400, JSON.stringify(grid.body).slice(0, 300));
    assert.equal(grid.body.code, 'MODEL_OVERFLOW');
    assert.deepEqual([grid.body.stage, grid.body.point, grid.body.feature], ['preprocessing', 0, 'x']);
    assert.match(grid.body.detail, /overflows float32 on its own data range \(grid point 0\)/);

    // The same model over its real range: a grid of finite outputs.
    const ok = await storeModel(t.services, tenant.id, withScale(spiral.artifact, 1e-3), 'small scale');
    const fine = (await api().get(`/v1/models/${ok}/decision-grid?resolution=5`).set(tenant.auth).expect(200)).body;
    assert.ok(fine.outputs.flat().every((v: unknown) => typeof v === 'number' && Number.isFinite(v)));
  });
});
