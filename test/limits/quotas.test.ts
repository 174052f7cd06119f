/**
 * Per-tenant quotas at the API, without workers: MAX_QUEUED_JOBS_PER_TENANT (429 TENANT_QUEUE_FULL, nothing written,
 * exact under concurrent submits), MAX_DATASET_BYTES_PER_TENANT for every way a dataset is made (403
 * TENANT_STORAGE_FULL, no row and no chunk left), and the tenant-fair queue priority that the API and the reconciler
 * both give (src/queue/priority.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { storedBytes } from '../../src/datasets/codec.js';
import { reconcileOnce } from '../../src/queue/reconciler.js';
import type { JobView } from '../../src/routes/jobs/schemas.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { createSpiral, ownInstallation, postJob, submitJob, type Installation } from '../training/helpers.js';
import { csvOf, stored, streamPost, upload } from '../datasets/helpers.js';

const MAX_QUEUED = 3;
/** Two 300-row spirals (2 features + target: 12 bytes a row) fill it exactly. */
const SPIRAL_BYTES = storedBytes(300, 2);
const MAX_BYTES = 2 * SPIRAL_BYTES;

describe('per-tenant quotas', () => {
  let own: Installation;
  let t: TestApp;

  before(async () => {
    own = await ownInstallation('quotas');
    t = await buildTestApp({ ...own.env, MAX_QUEUED_JOBS_PER_TENANT: String(MAX_QUEUED), MAX_DATASET_BYTES_PER_TENANT: String(MAX_BYTES) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await t.services.trainingQueue.obliterate({ force: true });
    await t.close();
    await own.drop();
  });

  const tenant = (prefix: string) => createTenant(t.services, prefix);
  const spec = (datasetId: string) => ({ datasetId, training: { epochs: 1 } });
  const queuedJobs = (tenantId: string) => t.services.db.job.count({ where: { tenantId } });

  it(`the ${MAX_QUEUED + 1}th queued job is refused with 429 TENANT_QUEUE_FULL and nothing is written; a cancel makes room; other tenants are not affected`, async () => {
    const a = await tenant('queue-a');
    const b = await tenant('queue-b');
    const [spiralA, spiralB] = await Promise.all([createSpiral(t.services, a.id), createSpiral(t.services, b.id)]);
    const accepted = [];
    for (let i = 0; i < MAX_QUEUED; i++) accepted.push(await submitJob(t.app, a, spec(spiralA)));
    const bullBefore = await t.services.trainingQueue.count();

    const refused = await postJob(t.app, a, spec(spiralA));
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.match(refused.headers['content-type'] ?? '', /application\/problem\+json/);
    assert.equal(refused.body.code, 'TENANT_QUEUE_FULL');
    assert.equal(refused.body.limit, MAX_QUEUED);
    assert.equal(refused.body.queued, MAX_QUEUED);
    assert.equal(await queuedJobs(a.id), MAX_QUEUED, 'no Job row');
    assert.equal(await t.services.trainingQueue.count(), bullBefore, 'nothing enqueued');
    // A dry run stores nothing, so it is not counted.
    assert.equal((await postJob(t.app, a, spec(spiralA), '?dryRun=true')).status, 200);

    assert.equal((await postJob(t.app, b, spec(spiralB))).status, 201, 'another tenant still submits');

    const cancel = await request(t.app.server).post(`/v1/jobs/${accepted[0]!.id}/cancel`).set(a.auth);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal((await postJob(t.app, a, spec(spiralA))).status, 201, 'a cancelled job frees its place');
    assert.equal((await postJob(t.app, a, spec(spiralA))).status, 429);
  });

  it('concurrent submits of one tenant: exactly the limit is accepted', async () => {
    const c = await tenant('queue-race');
    const spiral = await createSpiral(t.services, c.id);
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJob(t.app, c, spec(spiral))));
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array<number>(MAX_QUEUED).fill(201), ...Array<number>(12 - MAX_QUEUED).fill(429)], JSON.stringify(answers.map((r) => r.body)));
    assert.ok(answers.filter((r) => r.status === 429).every((r) => r.body.code === 'TENANT_QUEUE_FULL'));
    assert.equal(await queuedJobs(c.id), MAX_QUEUED);
  });

  it("priority: a tenant's n-th live job gets priority n, another tenant's first none (served first); the reconciler gives the same", async () => {
    const { trainingQueue, db } = t.services;
    const a = await tenant('prio-a');
    const b = await tenant('prio-b');
    const [spiralA, spiralB] = await Promise.all([createSpiral(t.services, a.id), createSpiral(t.services, b.id)]);
    const burst: JobView[] = [];
    for (let i = 0; i < MAX_QUEUED; i++) burst.push(await submitJob(t.app, a, spec(spiralA)));
    const single = await submitJob(t.app, b, spec(spiralB));
    const priorities = async () => Promise.all([...burst, single].map(async (j) => (await trainingQueue.getJob(j.id))!.priority));
    assert.deepEqual(await priorities(), [0, 1, 2, 0]);
    assert.deepEqual(await Promise.all([...burst, single].map((j) => trainingQueue.getJobState(j.id))), ['waiting', 'prioritized', 'prioritized', 'waiting']);

    // Redis loses them: the reconciler enqueues them again with the same priorities.
    await Promise.all([...burst, single].map((j) => trainingQueue.remove(j.id)));
    const report = await reconcileOnce(db, trainingQueue);
    for (const j of [...burst, single]) assert.ok(report.requeued.includes(j.id), j.id);
    assert.deepEqual(await priorities(), [0, 1, 2, 0]);

    // The rank counts live jobs only: once the first is cancelled, a new job of A is its 3rd live one.
    await request(t.app.server).post(`/v1/jobs/${burst[0]!.id}/cancel`).set(a.auth).expect(200);
    const next = await submitJob(t.app, a, spec(spiralA));
    assert.equal((await trainingQueue.getJob(next.id))!.priority, 2);
  });

  describe('dataset storage', () => {
    const synthetic = (who: TestTenant) => request(t.app.server).post('/v1/datasets/synthetic').set(who.auth).send({ kind: 'spiral', n: 100, classes: 3, seed: 1 });

    it('synthetic and example datasets past the limit: 403 TENANT_STORAGE_FULL, no row; deleting one makes room', async () => {
      const d = await tenant('storage-synthetic');
      const first = await synthetic(d);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal((await synthetic(d)).status, 201);
      const before = await stored(t.services.db, d.id);

      const refused = await synthetic(d);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.match(refused.headers['content-type'] ?? '', /application\/problem\+json/);
      assert.equal(refused.body.code, 'TENANT_STORAGE_FULL');
      assert.equal(refused.body.limit, MAX_BYTES);
      assert.equal(refused.body.used, MAX_BYTES);
      assert.equal(refused.body.needed, SPIRAL_BYTES);
      const example = await request(t.app.server).post('/v1/datasets/examples/iris').set(d.auth);
      assert.equal(example.status, 403);
      assert.equal(example.body.code, 'TENANT_STORAGE_FULL');
      assert.deepEqual(await stored(t.services.db, d.id), before, 'no dataset and no chunk');

      await request(t.app.server).delete(`/v1/datasets/${first.body.id}`).set(d.auth).expect(204);
      assert.equal((await synthetic(d)).status, 201, 'the freed bytes can be used again');
    });

    it('uploads: one that does not fit is rolled back whole; a full tenant is refused before its body is read', async () => {
      const e = await tenant('storage-upload');
      // 700 rows of 2 features and a target: 8,400 stored bytes, more than the whole limit.
      const rows = Array.from({ length: 700 }, (_, i) => [i, i / 2, i % 2]);
      const big = await upload(t.app, e, csvOf([['a', 'b', 'y'], ...rows]));
      assert.equal(big.status, 403, JSON.stringify(big.body));
      assert.equal(big.body.code, 'TENANT_STORAGE_FULL');
      assert.equal(big.body.needed, storedBytes(700, 2));
      assert.deepEqual(await stored(t.services.db, e.id), { datasets: 0, chunks: 0 });

      // 600 rows fill the limit exactly; then even a one-row upload is refused, and nothing is stored.
      const fits = await upload(t.app, e, csvOf([['a', 'b', 'y'], ...rows.slice(0, 600)]));
      assert.equal(fits.status, 201, JSON.stringify(fits.body));
      const full = await stored(t.services.db, e.id);
      const tiny = await upload(t.app, e, csvOf([['a', 'b', 'y'], [1, 2, 3]]));
      assert.equal(tiny.status, 403);
      assert.equal(tiny.body.code, 'TENANT_STORAGE_FULL');
      assert.equal(tiny.body.used, MAX_BYTES);
      // An upload of 1 GiB (never sent whole): refused before it is read, so not a 413 for its size.
      let sent = 0;
      function* endless() {
        yield 'a,b,y\n';
        const piece = '1,2,3\n'.repeat(10_000);
        for (; sent < 2 ** 30; sent += piece.length) yield piece;
      }
      const streamed = await streamPost(t.app, '/v1/datasets', { ...e.auth, 'content-type': 'text/csv' }, endless());
      assert.equal(streamed.status, 403, JSON.stringify(streamed.body));
      assert.equal(streamed.body.code, 'TENANT_STORAGE_FULL');
      assert.ok(sent < 2 ** 28, `${sent} bytes were sent before the answer`);
      assert.deepEqual(await stored(t.services.db, e.id), full);
    });

    it('concurrent dataset writes of one tenant: exactly what fits is stored', async () => {
      const f = await tenant('storage-race');
      const answers = await Promise.all(Array.from({ length: 6 }, () => synthetic(f)));
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 201, 403, 403, 403, 403]);
      const rows = await t.services.db.dataset.findMany({ where: { tenantId: f.id }, select: { byteSize: true } });
      assert.equal(rows.reduce((sum, r) => sum + Number(r.byteSize), 0), MAX_BYTES);
      assert.equal((await stored(t.services.db, f.id)).chunks, 2);
    });
  });
});
