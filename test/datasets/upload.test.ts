/** POST /v1/datasets: CSV and JSON, raw and multipart, options, task inference, class order, statistics, round trip. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { rowsPerChunk } from '../../src/datasets/codec.js';
import { SMALL_INTEGER_CLASSES } from '../../src/datasets/ingest/targets.js';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { csvOf, upload } from './helpers.js';

/** Bitwise equality of float32 arrays (so -0 ≠ 0 and every rounding shows). */
function assertSameBits(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`value ${i}: got ${actual[i]} (0x${a[i]!.toString(16)}), expected ${expected[i]} (0x${b[i]!.toString(16)})`);
}

describe('POST /v1/datasets', () => {
  let t: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  it('stores a CSV upload with metadata, statistics and a Location header', async () => {
    // b = 2, 4.5, -6: mean 1/6, population std sqrt(((2-1/6)² + (4.5-1/6)² + (-6-1/6)²)/3) ≈ 4.4783 (Welford's float64 result)
    const res = await upload(t.app, tenant, 'a,b,label\n1,2,cat\n3,4.5,dog\n5,-6,cat\n', 'text/csv', '?name=pets').expect(201);
    assert.equal(res.headers.location, `/v1/datasets/${res.body.id}`);
    assert.deepEqual(
      { ...res.body, id: undefined, createdAt: undefined, contentHash: undefined },
      {
        id: undefined,
        name: 'pets',
        source: 'csv',
        sourceParams: { format: 'csv', header: true, delimiter: ',' },
        task: 'classification',
        rows: 3,
        features: 2,
        featureNames: ['a', 'b'],
        targetName: 'label',
        classNames: ['cat', 'dog'],
        classCounts: [2, 1],
        stats: [
          { mean: 3, std: Math.sqrt(8 / 3), min: 1, max: 5 },
          { mean: 0.16666666666666652, std: 4.4783429475148, min: -6, max: 4.5 },
        ],
        targetStats: null,
        byteSize: 3 * 2 * 4 + 3 * 4,
        chunkCount: 1,
        createdAt: undefined,
        contentHash: undefined,
        categoricalColumns: [],
        missing: { strategy: 'error', droppedRows: 0, imputed: [] },
      },
    );
    const loaded = await loadDataset(t.services.db, tenant.id, res.body.id);
    assertSameBits(loaded!.x, new Float32Array([1, 2, 3, 4.5, 5, -6]));
    assert.deepEqual(loaded!.y, new Int32Array([0, 1, 0]));
  });

  it('round-trips float32 values bit for bit across many chunks, and the hash is SHA-256 of x then y', async () => {
    const features = 300;
    const rows = 2 * rowsPerChunk(features) + 17; // three chunks, the last one short
    let state = 12345;
    const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 10 ** ((state % 13) - 6);
    const special = ['-0', '1e-45', '3.4028234663852886e38', '16777217', '0.1', '-1.5e-7'];
    const lines = [Array.from({ length: features }, (_, f) => `f${f}`).concat('y').join(',')];
    const expectedX = new Float32Array(rows * features);
    const expectedY = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let f = 0; f < features; f++) {
        const text = r === 0 && f < special.length ? special[f]! : String(next());
        cells.push(text);
        expectedX[r * features + f] = Number(text);
      }
      const y = next();
      cells.push(String(y));
      expectedY[r] = y;
      lines.push(cells.join(','));
    }
    const res = await upload(t.app, tenant, lines.join('\r\n')).expect(201);
    assert.equal(res.body.task, 'regression');
    assert.equal(res.body.chunkCount, 3);
    const loaded = (await loadDataset(t.services.db, tenant.id, res.body.id))!;
    assertSameBits(loaded.x, expectedX);
    assert.ok(loaded.y instanceof Float32Array);
    assertSameBits(loaded.y, expectedY);
    assert.equal(Object.is(loaded.x[0], -0), true);
    const hash = createHash('sha256').update(new Uint8Array(expectedX.buffer)).update(new Uint8Array(expectedY.buffer)).digest('hex');
    assert.equal(res.body.contentHash, hash);
    const preview = await request(t.app.server).get(`/v1/datasets/${res.body.id}/rows?offset=${rowsPerChunk(features) - 1}&limit=2`).set(tenant.auth).expect(200);
    assert.deepEqual(preview.body.items.map((i: { x: number[] }) => i.x), [
      Array.from(expectedX.subarray((rowsPerChunk(features) - 1) * features, rowsPerChunk(features) * features)),
      Array.from(expectedX.subarray(rowsPerChunk(features) * features, (rowsPerChunk(features) + 1) * features)),
    ]);
  });

  it('accepts JSON as rows of arrays (here after a BOM), rows of objects and {columns, data}', async () => {
    const arrays = await upload(t.app, tenant, '\uFEFF' + JSON.stringify([[1, 2, 'a'], [3, 4, 'b']]), 'application/json').expect(201);
    assert.deepEqual([arrays.body.source, arrays.body.featureNames, arrays.body.targetName, arrays.body.classNames], ['json', ['c0', 'c1'], 'c2', ['a', 'b']]);

    const objects = await upload(t.app, tenant, JSON.stringify([{ x: 1, y: '2', kind: 'a' }, { kind: 'b', y: 4, x: 3 }]), 'application/json; charset=utf-8').expect(201);
    assert.deepEqual([objects.body.featureNames, objects.body.targetName, objects.body.classNames], [['x', 'y'], 'kind', ['a', 'b']]);
    assertSameBits((await loadDataset(t.services.db, tenant.id, objects.body.id))!.x, new Float32Array([1, 2, 3, 4]));

    const table = await upload(t.app, tenant, JSON.stringify({ columns: ['x', 'y'], data: [[0.5, 1.5], [1.5, 2.25], [2, 0.125]], note: 'ignored' }), 'application/json').expect(201);
    assert.deepEqual([table.body.task, table.body.featureNames, table.body.targetName], ['regression', ['x'], 'y']);
    const { mean, std, min, max } = table.body.targetStats;
    const m = (1.5 + 2.25 + 0.125) / 3;
    assert.ok(Math.abs(mean - m) < 1e-12 && Math.abs(std - Math.sqrt(((1.5 - m) ** 2 + (2.25 - m) ** 2 + (0.125 - m) ** 2) / 3)) < 1e-12);
    assert.deepEqual([min, max], [0.125, 2.25]);
  });

  it('accepts multipart: option fields, then the file', async () => {
    const res = await request(t.app.server)
      .post('/v1/datasets')
      .set(tenant.auth)
      .field('name', 'from a form')
      .field('delimiter', ';')
      .field('target', 'kind')
      .attach('file', Buffer.from('kind;x;z\nb;1;2\na;3;4\n'), { filename: 'measurements.csv', contentType: 'text/csv' })
      .expect(201);
    assert.deepEqual([res.body.name, res.body.featureNames, res.body.targetName, res.body.classNames, res.body.sourceParams.filename], ['from a form', ['x', 'z'], 'kind', ['a', 'b'], 'measurements.csv']);
    assert.deepEqual((await loadDataset(t.services.db, tenant.id, res.body.id))!.y, new Int32Array([1, 0]));

    const json = await request(t.app.server).post('/v1/datasets').set(tenant.auth).attach('data', Buffer.from('[[1,"p"],[2,"q"]]'), 'points.json').expect(201);
    assert.deepEqual([json.body.name, json.body.source], ['points', 'json']);

    const byOption = await request(t.app.server).post('/v1/datasets').set(tenant.auth).field('format', 'csv').attach('f', Buffer.from('x,y\n1,0\n2,1\n'), { filename: 'blob', contentType: 'application/octet-stream' }).expect(201);
    assert.equal(byOption.body.source, 'csv');
  });

  it('reads headerless CSV, tab delimiters, a target by name or index, quoted fields and a BOM', async () => {
    const headerless = await upload(t.app, tenant, '1,2,0\n3,4,1\n', 'text/csv', '?header=false').expect(201);
    assert.deepEqual([headerless.body.featureNames, headerless.body.targetName], [['c0', 'c1'], 'c2']);

    const tabs = await upload(t.app, tenant, 'y\tx\n1\t0.5\n0\t1.5\n', 'text/csv', '?delimiter=tab&target=0').expect(201);
    assert.deepEqual([tabs.body.featureNames, tabs.body.targetName, tabs.body.classNames], [['x'], 'y', ['0', '1']]);

    const quoted = await upload(t.app, tenant, '\uFEFF"a, b",label\n" 1.5 ","x, y"\n2,"z ""q"""\n').expect(201);
    assert.deepEqual([quoted.body.featureNames, quoted.body.classNames], [['a, b'], ['x, y', 'z "q"']]);
  });

  it('infers the task: text or few integers → classification, anything else → regression; an explicit task wins', async () => {
    const cases: [string, string, string][] = [
      ['x,y\n1,a\n2,b\n', '', 'classification'],
      ['x,y\n1,0\n2,1\n3,2\n', '', 'classification'],
      ['x,y\n1,0.5\n2,1\n', '', 'regression'],
      [csvOf([['x', 'y'], ...Array.from({ length: SMALL_INTEGER_CLASSES }, (_, i) => [i, i * 3])]), '', 'classification'],
      [csvOf([['x', 'y'], ...Array.from({ length: SMALL_INTEGER_CLASSES + 1 }, (_, i) => [i, i * 3])]), '', 'regression'],
      ['x,y\n1,0\n2,1\n3,2\n', '?task=regression', 'regression'],
      ['x,y\n1,0.5\n2,1.5\n', '?task=classification', 'classification'],
    ];
    for (const [body, query, task] of cases) {
      const res = await upload(t.app, tenant, body, 'text/csv', query).expect(201);
      assert.equal(res.body.task, task, `${JSON.stringify(body.slice(0, 30))} ${query}`);
    }
  });

  it('uploads are bounded by MAX_UPLOAD_BYTES, not by the (smaller) JSON body limit of other routes', async () => {
    const small = await buildTestApp({ MAX_JSON_BODY_BYTES: '1024' });
    try {
      const body = 'x,y\n' + Array.from({ length: 800 }, (_, i) => `${i},${i % 2 ? 'odd' : 'even'}`).join('\n');
      assert.ok(body.length > 4 * 1024);
      await upload(small.app, tenant, body).expect(201);
      await upload(small.app, tenant, JSON.stringify(Array.from({ length: 800 }, (_, i) => [i, i % 2])), 'application/json').expect(201);
      await request(small.app.server).post('/v1/datasets').set(tenant.auth).attach('file', Buffer.from(body), 'big.csv').expect(201);
    } finally {
      await small.close();
    }
  });

  it('orders classes numerically when numeric, naturally otherwise, and counts them', async () => {
    const numeric = await upload(t.app, tenant, 'x,y\n1,10\n2,-1\n3,2.0\n4,02\n5,10\n').expect(201);
    assert.deepEqual([numeric.body.classNames, numeric.body.classCounts], [['-1', '2', '10'], [1, 2, 2]]);
    assert.deepEqual((await loadDataset(t.services.db, tenant.id, numeric.body.id))!.y, new Int32Array([2, 0, 1, 1, 2]));

    const natural = await upload(t.app, tenant, 'x,y\n1,class10\n2,class2\n3,Class1\n4,class2\n').expect(201);
    assert.deepEqual([natural.body.classNames, natural.body.classCounts], [['Class1', 'class2', 'class10'], [1, 2, 1]]);
  });
});
