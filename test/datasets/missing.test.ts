/**
 * The upload option `missing`: error (default: today's refusal), mean, median, drop-row — what is stored, and what the
 * dataset's metadata says was done.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { stored, upload } from './helpers.js';

describe('missing values', () => {
  let t: TestApp;
  let tenant: TestTenant;

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'missing');
  });
  after(() => t?.close());

  // a: 1, _, 4, NaN, 10 (present 1, 4, 10: mean 5, median 4); b: complete; c: text with one empty cell.
  const csv = 'a,b,c,y\n1,10,red,p\n,20,blue,q\n4,30,red,p\nNaN,40,,q\n10,50,red,p\n';

  const rowsOf = async (id: string) => {
    const res = await request(t.app.server).get(`/v1/datasets/${id}/rows?limit=100`).set(tenant.auth);
    return res.body.items.map((r: { x: number[] }) => r.x) as number[][];
  };

  it('error (the default) refuses the upload naming the cell, nothing stored', async () => {
    const before = await stored(t.services.db, tenant.id);
    for (const query of ['', '?missing=error']) {
      const res = await upload(t.app, tenant, csv, 'text/csv', query);
      assert.equal(res.status, 400);
      assert.deepEqual([res.body.code, res.body.row, res.body.column, res.body.reason], ['DATASET_MISSING_VALUE', 1, 'a', 'empty']);
    }
    assert.deepEqual(await stored(t.services.db, tenant.id), before);
  });

  it('mean: numeric cells get the column mean, text cells the most frequent category; counts in the metadata', async () => {
    const res = await upload(t.app, tenant, csv, 'text/csv', '?missing=mean');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.missing, {
      strategy: 'mean', droppedRows: 0,
      imputed: [{ column: 'a', cells: 2, value: 5 }, { column: 'c', cells: 1, value: 'red' }],
    });
    assert.deepEqual(res.body.featureNames, ['a', 'b', 'c=blue', 'c=red']);
    assert.deepEqual(await rowsOf(res.body.id), [[1, 10, 0, 1], [5, 20, 1, 0], [4, 30, 0, 1], [5, 40, 0, 1], [10, 50, 0, 1]]);
    // Statistics describe the stored (imputed) values: mean 5, population std of 1, 5, 4, 5, 10.
    assert.ok(Math.abs(res.body.stats[0].mean - 5) < 1e-12);
    assert.ok(Math.abs(res.body.stats[0].std - Math.sqrt((16 + 0 + 1 + 0 + 25) / 5)) < 1e-12);
    assert.equal(res.body.sourceParams.missing, 'mean');
    assert.ok(await loadDataset(t.services.db, tenant.id, res.body.id), 'the content hash checks out');
  });

  it('median: the median of the present values (the mean of the middle two for an even count)', async () => {
    const odd = await upload(t.app, tenant, csv, 'text/csv', '?missing=median');
    assert.equal(odd.status, 201, JSON.stringify(odd.body));
    assert.deepEqual(odd.body.missing.imputed[0], { column: 'a', cells: 2, value: 4 });
    assert.deepEqual((await rowsOf(odd.body.id)).map((r) => r[0]), [1, 4, 4, 4, 10]);
    const even = await upload(t.app, tenant, 'a,y\n7,0\n,1\n1,0\n3,1\n100,0\n', 'text/csv', '?missing=median');
    assert.deepEqual(even.body.missing.imputed, [{ column: 'a', cells: 1, value: 5 }]);
  });

  it('drop-row: rows with a missing feature or target are left out, and counted', async () => {
    // Kept: rows 0, 2 and 4 (0-based). Row 1's "green" never becomes a category.
    const body = 'a,b,c,y\n1,10,red,p\n,20,green,q\n4,30,red,q\nNaN,40,,q\n10,50,blue,p\n3,60,blue,\n';
    const res = await upload(t.app, tenant, body, 'text/csv', '?missing=drop-row');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.rows, 3);
    assert.deepEqual(res.body.missing, { strategy: 'drop-row', droppedRows: 3, imputed: [] });
    assert.deepEqual(res.body.classCounts, [2, 1]);
    assert.deepEqual(res.body.categoricalColumns[0].categories, ['blue', 'red']);
    assert.deepEqual(await rowsOf(res.body.id), [[1, 10, 0, 1], [4, 30, 0, 1], [10, 50, 1, 0]]);
  });

  it('drop-row with every row dropped is DATASET_EMPTY; a column with no value at all cannot be imputed', async () => {
    const before = await stored(t.services.db, tenant.id);
    const empty = await upload(t.app, tenant, 'a,y\n,1\nnan,2\n', 'text/csv', '?missing=drop-row');
    assert.deepEqual([empty.status, empty.body.code, empty.body.droppedRows], [400, 'DATASET_EMPTY', 2]);
    const hollow = await upload(t.app, tenant, 'a,b,y\n,1,p\n,2,q\n', 'text/csv', '?missing=mean');
    assert.deepEqual([hollow.status, hollow.body.code, hollow.body.column, hollow.body.reason], [400, 'DATASET_MISSING_VALUE', 'a', 'all-missing']);
    assert.deepEqual(await stored(t.services.db, tenant.id), before);
  });

  it('works for JSON uploads (null cells) and multipart form fields; an unknown strategy is VALIDATION_FAILED', async () => {
    const json = await upload(t.app, tenant, JSON.stringify([{ a: 1, y: 0 }, { a: null, y: 1 }, { a: 3, y: 0 }]), 'application/json', '?missing=mean');
    assert.equal(json.status, 201, JSON.stringify(json.body));
    assert.deepEqual(json.body.missing.imputed, [{ column: 'a', cells: 1, value: 2 }]);
    const form = await request(t.app.server).post('/v1/datasets').set(tenant.auth).field('missing', 'drop-row').attach('file', Buffer.from('a,y\n1,0\n,1\n2,1\n'), 'm.csv');
    assert.equal(form.status, 201, JSON.stringify(form.body));
    assert.equal(form.body.missing.droppedRows, 1);
    const bad = await upload(t.app, tenant, csv, 'text/csv', '?missing=zero');
    assert.deepEqual([bad.status, bad.body.code], [400, 'VALIDATION_FAILED']);
  });
});
