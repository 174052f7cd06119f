/**
 * Uploads at the same time, more of them than the upload pool has connections, raw and multipart, CSV and JSON, one of
 * them refused late: each dataset holds exactly its own rows and the refused one leaves nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { rowsPerChunk } from '../../src/datasets/codec.js';
import { UPLOAD_CONNECTIONS } from '../../src/datasets/ingest/upload-pool.js';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { stored } from './helpers.js';

const FEATURES = 120;
const ROWS = 2 * rowsPerChunk(FEATURES) + 100; // three chunks each

/** Rows of upload `u`: distinct values per upload, two classes. */
function table(u: number) {
  const x = new Float32Array(ROWS * FEATURES);
  const labels: string[] = [];
  for (let r = 0; r < ROWS; r++) {
    for (let f = 0; f < FEATURES; f++) x[r * FEATURES + f] = u * 1000 + r + f / 1000;
    labels.push(r % 3 === u % 3 ? 'yes' : 'no');
  }
  return { x, labels };
}

function csvOf(x: Float32Array, labels: string[], breakAt = -1): string {
  const lines = [[...Array.from({ length: FEATURES }, (_, f) => `f${f}`), 'label'].join(',')];
  for (let r = 0; r < ROWS; r++) {
    const cells = Array.from(x.subarray(r * FEATURES, (r + 1) * FEATURES), String);
    lines.push((r === breakAt ? cells.slice(1) : cells).concat(labels[r]!).join(','));
  }
  return lines.join('\n');
}

describe('concurrent uploads', () => {
  let t: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => t.close());

  it('each stores exactly its own rows; the one refused leaves nothing', async () => {
    const uploads = Array.from({ length: UPLOAD_CONNECTIONS + 2 }, (_, u) => ({ u, ...table(u) }));
    const send = ({ u, x, labels }: (typeof uploads)[number]) => {
      const post = request(t.app.server).post(`/v1/datasets?name=u${u}`).set(tenant.auth);
      if (u === 0) return post.set('content-type', 'text/csv').send(csvOf(x, labels, ROWS - 5)); // refused late
      if (u % 3 === 1) return post.set('content-type', 'application/json').send(JSON.stringify(Array.from({ length: ROWS }, (_, r) => [...x.subarray(r * FEATURES, (r + 1) * FEATURES), labels[r]])));
      if (u % 3 === 2) return post.attach('file', Buffer.from(csvOf(x, labels)), `u${u}.csv`);
      return post.set('content-type', 'text/csv').send(csvOf(x, labels));
    };
    const responses = await Promise.all(uploads.map(send));

    assert.equal(responses[0]!.status, 400);
    assert.equal(responses[0]!.body.code, 'DATASET_RAGGED_ROW');
    for (const { u, x, labels } of uploads.slice(1)) {
      const res = responses[u]!;
      assert.equal(res.status, 201, `upload ${u}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.rows, ROWS);
      const y = Int32Array.from(labels, (l) => (l === 'no' ? 0 : 1));
      assert.equal(res.body.contentHash, createHash('sha256').update(new Uint8Array(x.buffer)).update(new Uint8Array(y.buffer)).digest('hex'), `upload ${u}`);
      const loaded = (await loadDataset(t.services.db, tenant.id, res.body.id))!;
      assert.deepEqual(Buffer.from(loaded.x.buffer), Buffer.from(x.buffer), `upload ${u}`);
    }
    assert.deepEqual(await stored(t.services.db, tenant.id), { datasets: uploads.length - 1, chunks: (uploads.length - 1) * 3 });
  });
});
