/**
 * Export and import of a model trained on a table with a text column (src/models/export-document.ts, version 2): the
 * document carries the input encoding, so the imported copy takes the same raw rows (the text column by category) and
 * predicts exactly as the original; a bad encoding is MODEL_IMPORT_INVALID with its path; a version 1 document (no
 * encoding) still imports, as a model that takes its featureNames as numbers.
 * The model is trained by a real worker on an uploaded CSV, so the encoding is the one the upload pipeline produces.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { upload } from '../datasets/helpers.js';
import { ownInstallation, startWorker, submitJob, waitForJob, type Installation } from '../training/helpers.js';

type Doc = Record<string, unknown> & { inputEncoding: { columns: Record<string, unknown>[]; missing: Record<string, unknown> & { imputed: Record<string, unknown>[] } } };

describe('export and import of a model with text columns', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let other: TestTenant;
  let worker: Running | undefined;
  let modelId: string;
  let doc: Doc;

  const api = () => request(t.app.server);
  const predict = (who: TestTenant, id: string, body: object, query = '') => api().post(`/v1/models/${id}/predict${query}`).set(who.auth).send(body);
  const predictCsv = (who: TestTenant, id: string, csv: string) => api().post(`/v1/models/${id}/predict`).set(who.auth).set('content-type', 'text/csv').send(csv);
  const importDoc = (who: TestTenant, body: unknown) => api().post('/v1/models/import').set(who.auth).send(body as object);

  before(async () => {
    own = await ownInstallation('transfer-enc');
    t = await buildTestApp({ ...own.env });
    tenant = await createTenant(t.services, 'transfer-enc');
    other = await createTenant(t.services, 'transfer-enc-other');
    worker = await startWorker(own);

    // The class follows the colour (and a little the numeric `size`); one missing size is imputed with the mean.
    const colors = ['red', 'green', 'blue'];
    const lines = ['size,color,warmth'];
    for (let i = 0; i < 150; i++) lines.push(`${i === 4 ? '' : ((i * 37) % 11) / 10},${colors[i % 3]},${i % 3 === 0 ? 'warm' : 'cold'}`);
    const up = await upload(t.app, tenant, lines.join('\n') + '\n', 'text/csv', '?missing=mean');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const job = await submitJob(t.app, tenant, {
      datasetId: up.body.id, network: { layers: [{ units: 8 }] }, optimizer: { type: 'adam', learningRate: 0.05 },
      training: { epochs: 30, batchSize: 16, seed: 5, validationFraction: 0.2 },
    });
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    modelId = (await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } })).id;
    doc = (await api().get(`/v1/models/${modelId}/export`).set(tenant.auth).expect(200)).body as Doc;
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('exports a version 2 document with the input encoding (columns, categories, missing values)', () => {
    assert.equal(doc.format, 'trainyard-model');
    assert.equal(doc.version, 2);
    assert.deepEqual(doc.featureNames, ['size', 'color=blue', 'color=green', 'color=red']);
    assert.deepEqual(doc.inputEncoding.columns, [{ name: 'size', kind: 'numeric' }, { name: 'color', kind: 'categorical', categories: ['blue', 'green', 'red'] }]);
    assert.equal(doc.inputEncoding.missing.strategy, 'mean');
    assert.equal(doc.inputEncoding.missing.droppedRows, 0);
    assert.deepEqual(doc.inputEncoding.missing.imputed.map((c) => [c.column, c.cells]), [['size', 1]]);
  });

  it('imports into a model that takes the same raw rows and predicts identically (JSON objects, arrays, CSV)', async () => {
    const imported = await importDoc(other, doc).expect(201);
    const copyId = imported.body.id as string;
    assert.notEqual(copyId, modelId);
    const original = await api().get(`/v1/models/${modelId}`).set(tenant.auth).expect(200);
    assert.deepEqual(imported.body.featureNames, original.body.featureNames);
    assert.deepEqual(imported.body.preprocessing, original.body.preprocessing);
    assert.deepEqual(imported.body.preprocessing.inputColumns, ['size', 'color']);
    const stored = await t.services.db.model.findUniqueOrThrow({ where: { id: copyId }, select: { inputEncoding: true } });
    assert.deepEqual(stored.inputEncoding, doc.inputEncoding);

    // Named rows (one with the target column, ignored), array rows, an unseen category (all zeros by default).
    const rows = [{ size: 0.3, color: 'red' }, { color: ' blue ', size: 0.5 }, { size: 1, color: 'green', warmth: 'cold' }, { size: 0.2, color: 'purple' }];
    const arrays = [[0.1, 'green'], [0.4, 'red'], [0.9, 'blue']];
    const csv = 'color,size,warmth\nred,0.2,warm\ngreen,0.9,cold\nblue,0.7,\n';
    const a = await predict(tenant, modelId, { rows }).expect(200);
    const b = await predict(other, copyId, { rows }).expect(200);
    assert.deepEqual(b.body.predictions, a.body.predictions);
    assert.deepEqual(b.body.ignoredColumns, a.body.ignoredColumns);
    assert.deepEqual(a.body.ignoredColumns, ['warmth']);
    assert.deepEqual(a.body.predictions.slice(0, 3).map((p: { class: string }) => p.class), ['warm', 'cold', 'cold']);
    const arraysA = await predict(tenant, modelId, arrays).expect(200);
    const arraysB = await predict(other, copyId, arrays).expect(200);
    assert.deepEqual(arraysB.body.predictions, arraysA.body.predictions);
    const csvA = await predictCsv(tenant, modelId, csv).expect(200);
    const csvB = await predictCsv(other, copyId, csv).expect(200);
    assert.deepEqual(csvB.body.predictions, csvA.body.predictions);
    assert.equal(csvB.body.predictions.length, 3);

    // The same refusals: an unknown category with unknownCategory=error, the one-hot feature names as inputs.
    const unknownA = await predict(tenant, modelId, { rows: [{ size: 0.2, color: 'purple' }] }, '?unknownCategory=error').expect(400);
    const unknownB = await predict(other, copyId, { rows: [{ size: 0.2, color: 'purple' }] }, '?unknownCategory=error').expect(400);
    assert.deepEqual([unknownB.body.problem, unknownB.body.feature, unknownB.body.value], [unknownA.body.problem, unknownA.body.feature, unknownA.body.value]);
    assert.equal(unknownB.body.problem, 'unknown-category');
    const expanded = await predict(other, copyId, { rows: [{ size: 0.2, 'color=red': 1, 'color=green': 0, 'color=blue': 0 }] }).expect(400);
    assert.equal(expanded.body.problem, 'unknown-feature');

    // Export of the copy is the same document (but its source).
    const again = (await api().get(`/v1/models/${copyId}/export`).set(other.auth).expect(200)).body as Doc;
    const { source: _s1, exportedAt: _e1, name: _n1, ...mine } = doc;
    const { source: _s2, exportedAt: _e2, name: _n2, ...theirs } = again;
    assert.deepEqual(theirs, mine);
  });

  it('refuses an invalid input encoding with MODEL_IMPORT_INVALID and its path; nothing is stored', async () => {
    const enc = doc.inputEncoding;
    const [size, color] = enc.columns as [Record<string, unknown>, Record<string, unknown>];
    const withColumns = (columns: unknown[]) => ({ ...doc, inputEncoding: { ...enc, columns } });
    const withMissing = (missing: unknown) => ({ ...doc, inputEncoding: { ...enc, missing } });
    const { inputEncoding: _dropped, ...withoutEncoding } = doc;
    const { missing: _m, ...encodingWithoutMissing } = enc;
    const cases: [string, unknown][] = [
      ['version', withoutEncoding],
      ['version', { ...doc, version: 1 }],
      ['inputEncoding', { ...doc, inputEncoding: 'color' }],
      ['inputEncoding.columns', withColumns([])],
      ['inputEncoding.columns[1].kind', withColumns([size, { ...color, kind: 'text' }])],
      ['inputEncoding.columns[1].categories', withColumns([size, { name: 'color', kind: 'categorical' }])],
      ['inputEncoding.columns[0].categories', withColumns([{ ...size, categories: ['1'] }, color])],
      ['inputEncoding.columns[1].categories[2]', withColumns([size, { ...color, categories: ['blue', 'green', 'blue'] }])],
      ['inputEncoding.columns[1].categories[0]', withColumns([size, { ...color, categories: ['azure', 'green', 'red'] }])],
      ['inputEncoding.columns[1].categories[0]', withColumns([size, { ...color, categories: [' blue', 'green', 'red'] }])],
      ['inputEncoding.columns[1].categories[1]', withColumns([size, { ...color, categories: ['blue', 7, 'red'] }])],
      ['inputEncoding.columns', withColumns([size, { ...color, categories: ['blue', 'green'] }])],
      ['inputEncoding.columns[0].categories[0]', withColumns([color, size])],
      ['inputEncoding.columns[1].name', withColumns([size, { ...color, name: 'size' }])],
      ['inputEncoding.missing', { ...doc, inputEncoding: encodingWithoutMissing }],
      ['inputEncoding.missing.strategy', withMissing({ ...enc.missing, strategy: 'guess' })],
      ['inputEncoding.missing.droppedRows', withMissing({ ...enc.missing, droppedRows: -1 })],
      ['inputEncoding.missing.imputed[0].column', withMissing({ ...enc.missing, imputed: [{ ...enc.missing.imputed[0], column: 'weight' }] })],
      ['inputEncoding.missing.imputed[0].value', withMissing({ ...enc.missing, imputed: [{ ...enc.missing.imputed[0], value: 'red' }] })],
      ['version', { ...doc, version: 3 }],
    ];
    const before = await t.services.db.model.count({ where: { tenantId: other.id } });
    for (const [path, body] of cases) {
      const res = await importDoc(other, body);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'MODEL_IMPORT_INVALID', path);
      assert.equal(res.body.path, path, res.body.detail);
      assert.ok(String(res.body.detail).startsWith(`${path}: `), res.body.detail);
    }
    assert.equal(await t.services.db.model.count({ where: { tenantId: other.id } }), before);
  });

  it('still imports a version 1 document (no encoding): the copy takes featureNames as numbers, same outputs', async () => {
    const { inputEncoding: _dropped, ...plain } = doc;
    const imported = await importDoc(other, { ...plain, version: 1 }).expect(201);
    const copyId = imported.body.id as string;
    assert.deepEqual(imported.body.preprocessing.inputColumns, ['size', 'color=blue', 'color=green', 'color=red']);
    assert.deepEqual(imported.body.preprocessing.categoricalColumns, []);
    const stored = await t.services.db.model.findUniqueOrThrow({ where: { id: copyId }, select: { inputEncoding: true } });
    assert.deepEqual(stored.inputEncoding, {});
    // The one-hot rows the original builds from the text column give the same predictions.
    const raw = await predict(tenant, modelId, { rows: [{ size: 0.3, color: 'red' }, { size: 0.8, color: 'blue' }] }).expect(200);
    const oneHot = await predict(other, copyId, { rows: [
      { size: 0.3, 'color=blue': 0, 'color=green': 0, 'color=red': 1 },
      { size: 0.8, 'color=blue': 1, 'color=green': 0, 'color=red': 0 },
    ] }).expect(200);
    assert.deepEqual(oneHot.body.predictions, raw.body.predictions);
    const text = await predict(other, copyId, { rows: [{ size: 0.3, color: 'red' }] });
    assert.equal(text.status, 400);
    // And a version 2 document may say "no encoding" with null.
    const explicit = await importDoc(other, { ...plain, inputEncoding: null }).expect(201);
    assert.deepEqual(explicit.body.preprocessing.inputColumns, ['size', 'color=blue', 'color=green', 'color=red']);
  });
});
