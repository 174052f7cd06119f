/** Listing (pagination, newest first), metadata, row previews, deletion (and DATASET_IN_USE), tenant walls. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { nextMillisecond } from '../helpers/wait.js';
import { stored, upload } from './helpers.js';

describe('reading and deleting datasets', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let other: TestTenant;
  const get = (path: string, who: TestTenant = tenant) => request(t.app.server).get(path).set(who.auth);
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
    other = await createTenant(t.services, 'other');
  });
  after(() => t.close());

  it('lists newest first, a page at a time, with a cursor that walks every dataset exactly once', async () => {
    const lister = await createTenant(t.services, 'lister');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      await nextMillisecond(); // distinct createdAt: the order asserted is the creation order
      ids.push((await upload(t.app, lister, `x,y\n${i},a\n${i + 1},b\n`, 'text/csv', `?name=set${i}`).expect(201)).body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (await get(`/v1/datasets?limit=2${cursor ? `&cursor=${cursor}` : ''}`, lister).expect(200)).body;
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const first = await get('/v1/datasets?limit=1', lister).expect(200);
    assert.deepEqual(Object.keys(first.body.items[0]).sort(), ['byteSize', 'classes', 'contentHash', 'createdAt', 'features', 'id', 'name', 'rows', 'source', 'task']);
    assert.equal(first.body.items[0].name, 'set4');
    assert.equal(first.body.items[0].classes, 2);
    // Defaults and bounds.
    assert.equal((await get('/v1/datasets', lister).expect(200)).body.items.length, 5);
    assert.equal((await get('/v1/datasets?limit=101', lister)).body.code, 'VALIDATION_FAILED');
    assert.equal((await get('/v1/datasets?cursor=bm9wZQ', lister)).body.code, 'VALIDATION_FAILED');
  });

  it('shows the metadata, and previews rows with their labels', async () => {
    const created = await upload(t.app, tenant, 'a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,eel\n').expect(201);
    const meta = await get(`/v1/datasets/${created.body.id}`).expect(200);
    assert.deepEqual(meta.body, created.body);
    const rows = await get(`/v1/datasets/${created.body.id}/rows?offset=1&limit=2`).expect(200);
    assert.deepEqual(rows.body, {
      offset: 1,
      total: 4,
      featureNames: ['a', 'b'],
      targetName: 'kind',
      items: [
        { row: 1, x: [3, 4], y: 1, label: 'dog' },
        { row: 2, x: [5, 6], y: 0, label: 'cat' },
      ],
    });
    assert.deepEqual((await get(`/v1/datasets/${created.body.id}/rows?offset=3&limit=10`).expect(200)).body.items, [{ row: 3, x: [7, 8], y: 2, label: 'eel' }]);
    assert.deepEqual((await get(`/v1/datasets/${created.body.id}/rows?offset=4`).expect(200)).body.items, []);
    const regression = await upload(t.app, tenant, 'x,y\n1,0.5\n2,1.5\n').expect(201);
    assert.deepEqual((await get(`/v1/datasets/${regression.body.id}/rows`).expect(200)).body.items[1], { row: 1, x: [2], y: 1.5, label: null });
  });

  it('refuses a preview of more than 100,000 values, saying how many rows fit', async () => {
    const wide = 'y,' + Array.from({ length: 2000 }, (_, i) => `f${i}`).join(',') + '\n' + ['a', 'b'].map((l) => [l, ...Array(2000).fill('1')].join(',')).join('\n');
    const created = await upload(t.app, tenant, wide, 'text/csv', '?target=y').expect(201);
    const res = await get(`/v1/datasets/${created.body.id}/rows?limit=100`).expect(400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.equal(res.body.limit, 50);
    await get(`/v1/datasets/${created.body.id}/rows?limit=50`).expect(200);
  });

  it("another tenant's dataset does not exist for the caller: 404 everywhere, and loadDataset gives null", async () => {
    const mine = await upload(t.app, tenant, 'x,y\n1,a\n2,b\n').expect(201);
    for (const path of [`/v1/datasets/${mine.body.id}`, `/v1/datasets/${mine.body.id}/rows`]) {
      const res = await get(path, other).expect(404);
      assert.equal(res.body.code, 'DATASET_NOT_FOUND');
    }
    const del = await request(t.app.server).delete(`/v1/datasets/${mine.body.id}`).set(other.auth).expect(404);
    assert.equal(del.body.code, 'DATASET_NOT_FOUND');
    assert.ok(!(await get('/v1/datasets?limit=100', other).expect(200)).body.items.some((d: { id: string }) => d.id === mine.body.id));
    assert.equal(await loadDataset(t.services.db, other.id, mine.body.id), null);
    assert.ok(await loadDataset(t.services.db, tenant.id, mine.body.id));
    // Ids that are not UUIDs, and UUIDs that name nothing, are 404 too.
    assert.equal((await get('/v1/datasets/not-a-uuid').expect(404)).body.code, 'DATASET_NOT_FOUND');
    assert.equal((await get('/v1/datasets/00000000-0000-4000-8000-000000000000/rows').expect(404)).body.code, 'DATASET_NOT_FOUND');
  });

  it('deletes a dataset and its chunks; refuses while a queued or running job uses it', async () => {
    const deleter = await createTenant(t.services, 'deleter');
    const created = await upload(t.app, deleter, 'x,y\n1,a\n2,b\n').expect(201);
    const id: string = created.body.id;
    const db = t.services.db;
    const job = await db.job.create({ data: { tenantId: deleter.id, datasetId: id, spec: {}, parameterCount: 1, totalSteps: 1, status: 'queued' } });
    for (const status of ['queued', 'running'] as const) {
      await db.job.update({ where: { id: job.id }, data: { status } });
      const res = await request(t.app.server).delete(`/v1/datasets/${id}`).set(deleter.auth).expect(409);
      assert.equal(res.body.code, 'DATASET_IN_USE');
      assert.deepEqual(res.body.jobs, [job.id]);
    }
    assert.deepEqual(await stored(db, deleter.id), { datasets: 1, chunks: 1 });
    await db.job.update({ where: { id: job.id }, data: { status: 'succeeded' } });
    await request(t.app.server).delete(`/v1/datasets/${id}`).set(deleter.auth).expect(204);
    assert.deepEqual(await stored(db, deleter.id), { datasets: 0, chunks: 0 });
    assert.equal((await db.job.findUniqueOrThrow({ where: { id: job.id } })).datasetId, null, 'a finished job keeps its row, without the dataset');
    await get(`/v1/datasets/${id}`, deleter).expect(404);
    await request(t.app.server).delete(`/v1/datasets/${id}`).set(deleter.auth).expect(404);
  });

  it('needs an API key', async () => {
    assert.equal((await request(t.app.server).get('/v1/datasets').expect(401)).body.code, 'UNAUTHENTICATED');
    assert.equal((await request(t.app.server).post('/v1/datasets').set('content-type', 'text/csv').send('x,y\n1,a\n').expect(401)).body.code, 'UNAUTHENTICATED');
  });
});
