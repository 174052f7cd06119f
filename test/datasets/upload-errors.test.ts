/**
 * Every way an upload can be refused: the status, the stable code, the fields a client acts on, and that nothing was
 * stored. "Late" cases fail after several chunks were already written inside the transaction, to prove the rollback.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import request from 'supertest';
import { rowsPerChunk } from '../../src/datasets/codec.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { stored, streamPost, upload } from './helpers.js';

interface ProblemResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function assertProblem(res: ProblemResponse, status: number, code: string, fields: Record<string, unknown> = {}): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  if (res.headers['content-type'] !== undefined) assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(typeof res.body.detail, 'string');
  for (const [key, value] of Object.entries(fields)) assert.deepEqual(res.body[key], value, `${code}.${key} in ${JSON.stringify(res.body)}`);
}

/** A CSV of `rows` rows × `features` features, with `mutate` changing row r's cells (1-based r). */
function wideCsv(rows: number, features: number, mutate: (r: number, cells: string[]) => string[] = (_r, c) => c): string {
  const lines = [[...Array.from({ length: features }, (_, f) => `f${f}`), 'y'].join(',')];
  for (let r = 1; r <= rows; r++) {
    const cells = Array.from({ length: features }, (_, f) => String((r * 31 + f * 7) % 101));
    cells.push(r % 2 ? 'odd' : 'even');
    lines.push(mutate(r, cells).join(','));
  }
  return lines.join('\n') + '\n';
}

describe('upload errors', () => {
  let t: TestApp;
  let limited: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    limited = await buildTestApp({ MAX_CLASSES: '3', MAX_DATASET_ROWS: '5', MAX_DATASET_FEATURES: '3', MAX_UPLOAD_BYTES: '2000' });
    tenant = await createTenant(t.services);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    await limited.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await t.close();
    await limited.close();
  });
  afterEach(async () => {
    assert.deepEqual(await stored(t.services.db, tenant.id), { datasets: 0, chunks: 0 }, 'a refused upload left something behind');
  });

  const csv = (body: string, query = '') => upload(t.app, tenant, body, 'text/csv', query);
  const json = (body: string, query = '') => upload(t.app, tenant, body, 'application/json', query);

  it('empty: no bytes, only blank lines, an empty JSON array', async () => {
    assertProblem(await csv(''), 400, 'DATASET_EMPTY');
    assertProblem(await csv('\n\n   \n'), 400, 'DATASET_EMPTY');
    assertProblem(await json(''), 400, 'DATASET_EMPTY');
    assertProblem(await json('[]'), 400, 'DATASET_EMPTY');
    assertProblem(await json('{}'), 400, 'DATASET_EMPTY');
  });

  it('header only', async () => {
    assertProblem(await csv('a,b,label\n'), 400, 'DATASET_HEADER_ONLY');
    assertProblem(await json('{"columns": ["a", "y"], "data": []}'), 400, 'DATASET_HEADER_ONLY');
  });

  it('a ragged row, with its row and line number', async () => {
    assertProblem(await csv('a,b,y\n1,2,x\n\n4,5\n'), 400, 'DATASET_RAGGED_ROW', { row: 1, line: 4, expected: 3, actual: 2 });
    assertProblem(await json('[[1,2,"x"],[3,4,"y",5]]'), 400, 'DATASET_RAGGED_ROW', { row: 1, expected: 3, actual: 4 });
    assertProblem(await json('[{"a":1,"y":"x"},{"a":2,"y":"z","b":3}]'), 400, 'DATASET_RAGGED_ROW', { row: 1, column: 'b' });
  });

  it('a non-numeric feature, with row, line, column and value', async () => {
    assertProblem(await csv('a,b,y\n1,2,x\n3,abc,z\n'), 400, 'DATASET_NON_NUMERIC', { row: 1, line: 3, column: 'b', columnIndex: 1, value: 'abc' });
    assertProblem(await csv('a,b,y\n1,2,x\n2,0x1F,z\n'), 400, 'DATASET_NON_NUMERIC', { value: '0x1F' });
    assertProblem(await json('[[1,true,"x"]]'), 400, 'DATASET_NON_NUMERIC', { row: 0, column: 'c1', value: 'true' });
    assertProblem(await csv('a,y\n1,x\n2,lemon\n', '?task=regression'), 400, 'DATASET_NON_NUMERIC', { row: 0, column: 'y', value: 'x' });
  });

  it('NaN, Infinity, empty, null and float32 overflow are missing values', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['csv', 'a,b,y\n1,2,x\n3,NaN,y\n', { row: 1, column: 'b', reason: 'nan', value: 'NaN' }],
      ['csv', 'a,b,y\n-inf,2,x\n', { row: 0, column: 'a', reason: 'infinite' }],
      ['csv', 'a,b,y\n1,Infinity,x\n', { reason: 'infinite' }],
      ['csv', 'a,b,y\n1,,x\n', { row: 0, line: 2, column: 'b', reason: 'empty' }],
      ['csv', 'a,b,y\n1,1e39,x\n', { reason: 'out-of-float32-range' }],
      ['csv', 'a,b,y\n1,2,\n', { column: 'y', reason: 'empty' }],
      ['json', '[[1,null,"x"]]', { row: 0, column: 'c1', reason: 'null' }],
      ['json', '[{"a":1,"y":"x"},{"y":"z"}]', { row: 1, column: 'a', reason: 'absent' }],
    ];
    for (const [format, body, fields] of cases) {
      assertProblem(format === 'csv' ? await csv(body) : await json(body), 400, 'DATASET_MISSING_VALUE', fields);
    }
  });

  it('a target column that does not exist', async () => {
    assertProblem(await csv('a,b,y\n1,2,x\n', '?target=label'), 400, 'DATASET_TARGET_NOT_FOUND', { target: 'label', columns: ['a', 'b', 'y'] });
    assertProblem(await csv('1,2,x\n', '?header=false&target=3'), 400, 'DATASET_TARGET_NOT_FOUND', { target: '3' });
  });

  it('a single class', async () => {
    assertProblem(await csv('a,y\n1,x\n2,x\n'), 400, 'DATASET_SINGLE_CLASS', { classes: ['x'] });
    assertProblem(await csv('a,y\n1,7\n2,7\n'), 400, 'DATASET_SINGLE_CLASS', { classes: ['7'] });
  });

  it('more classes, rows or columns than configured (413 for sizes)', async () => {
    const u = (body: string, query = '') => upload(limited.app, tenant, body, 'text/csv', query);
    assertProblem(await u('a,y\n1,a\n2,b\n3,c\n4,d\n'), 400, 'DATASET_TOO_MANY_CLASSES', { row: 3, limit: 3 });
    assertProblem(await u('a,y\n1,1\n2,2\n3,3\n4,4\n', '?task=classification'), 400, 'DATASET_TOO_MANY_CLASSES', { limit: 3 });
    // Too many distinct numbers for classes, so (task inferred) it is regression, not an error:
    const regression = await u('a,y\n1,1\n2,2\n3,3\n4,4\n').expect(201);
    assert.equal(regression.body.task, 'regression');
    await limited.services.db.dataset.delete({ where: { id: regression.body.id } });
    assertProblem(await u('a,y\n1,1\n2,2\n3,1\n4,2\n5,1\n6,2\n'), 413, 'DATASET_TOO_MANY_ROWS', { limit: 5, row: 5 });
    assertProblem(await u('a,b,c,d,y\n1,2,3,4,x\n'), 413, 'DATASET_TOO_MANY_FEATURES', { features: 4, limit: 3 });
    assertProblem(await upload(limited.app, tenant, '[[1,2,3,4,"x"]]', 'application/json'), 413, 'DATASET_TOO_MANY_FEATURES', { features: 4, limit: 3 });
  });

  it('more bytes than configured: by Content-Length, while streaming, and in a multipart file (413)', async () => {
    const big = 'a,y\n' + '1,x\n2,y\n'.repeat(300);
    assertProblem(await upload(limited.app, tenant, big), 413, 'PAYLOAD_TOO_LARGE', { limit: 2000 });
    const streamed = await streamPost(limited.app, '/v1/datasets', { ...tenant.auth, 'content-type': 'text/csv' }, (function* () {
      yield 'a,y\n';
      for (let i = 0; i < 300; i++) yield `${i},${'long label '.repeat(60)}\n`; // past 2,000 bytes before the row limit (5)
    })());
    assertProblem({ ...streamed, headers: {} }, 413, 'PAYLOAD_TOO_LARGE', { limit: 2000 });
    const form = await request(limited.app.server).post('/v1/datasets').set(tenant.auth).attach('file', Buffer.from(big), 'big.csv');
    assertProblem(form, 413, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(await stored(limited.services.db, tenant.id), { datasets: 0, chunks: 0 });
  });

  it('a content type that is not CSV, JSON or multipart (415)', async () => {
    assertProblem(await upload(t.app, tenant, 'a,b\n1,2\n', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType: 'text/plain' });
    assertProblem(await upload(t.app, tenant, '<a/>', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assertProblem(await request(t.app.server).post('/v1/datasets').set(tenant.auth), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const unknownFile = await request(t.app.server).post('/v1/datasets').set(tenant.auth).attach('file', Buffer.from('a,b\n1,2\n'), { filename: 'data.bin', contentType: 'application/octet-stream' });
    assertProblem(unknownFile, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a malformed multipart body', async () => {
    const boundary = '----trainyard';
    const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`;
    const file = part('Content-Disposition: form-data; name="file"; filename="d.csv"\r\nContent-Type: text/csv', 'a,y\n1,x\n2,z');
    const send = (body: string, type = `multipart/form-data; boundary=${boundary}`) => upload(t.app, tenant, body, type);

    assertProblem(await send('a,y\n1,x\n', 'multipart/form-data'), 400, 'DATASET_MALFORMED'); // no boundary
    assertProblem(await send(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="d.csv"\r\n\r\na,y\n1,x\n2,`), 400, 'DATASET_MALFORMED'); // cut off
    assertProblem(await send(part('Content-Disposition: form-data; name="name"', 'x') + `--${boundary}--\r\n`), 400, 'DATASET_MALFORMED'); // no file
    assertProblem(await send(file + part('Content-Disposition: form-data; name="target"', 'a') + `--${boundary}--\r\n`), 400, 'DATASET_MALFORMED'); // option after the file
    assertProblem(await send(file + file + `--${boundary}--\r\n`), 400, 'DATASET_MALFORMED'); // two files
    assertProblem(await send(`garbage without any boundary\r\n`), 400, 'DATASET_MALFORMED');
  });

  it('malformed JSON and CSV', async () => {
    assertProblem(await json('[[1,2,"x"],[3,4'), 400, 'DATASET_MALFORMED');
    assertProblem(await json('[[1,2,"x"]] trailing'), 400, 'DATASET_MALFORMED');
    assertProblem(await json('[[1, NaN, "x"]]'), 400, 'DATASET_MALFORMED');
    assertProblem(await json('"a string"'), 400, 'DATASET_MALFORMED');
    assertProblem(await json('[1, 2]'), 400, 'DATASET_MALFORMED', { row: 0 });
    assertProblem(await json('{"data": [[1, "x"]], "columns": ["a", "y"]}'), 400, 'DATASET_MALFORMED', { row: 0 });
    assertProblem(await json('[[1, {"nested": true}]]'), 400, 'DATASET_MALFORMED', { row: 0, column: 'c1' });
    assertProblem(await csv('a,y\n"1,x\n2,z\n'), 400, 'DATASET_MALFORMED');
    assertProblem(await csv('a;b;y\n1;2;x\n'), 400, 'DATASET_MALFORMED', { columns: 1 }); // wrong delimiter: one column
    assertProblem(await csv('a,a,y\n1,2,x\n'), 400, 'DATASET_MALFORMED', { column: 'a' });
    // One row longer than 1 MiB (a wrong delimiter, a runaway quote): refused before it is held whole.
    const long = 'x'.repeat(1024 * 1024 + 10);
    assertProblem(await csv(`a,y\n1,${long}\n`), 400, 'DATASET_MALFORMED', { limit: 1024 * 1024 });
    assertProblem(await json(`[[1, "a"], [2, "${long}"]]`), 400, 'DATASET_MALFORMED', { row: 1, limit: 1024 * 1024 });
  });

  it('bad options are refused, never ignored', async () => {
    assertProblem(await csv('a,y\n1,x\n', '?header=yes'), 400, 'VALIDATION_FAILED');
    assertProblem(await csv('a,y\n1,x\n', '?delimeter=;'), 400, 'VALIDATION_FAILED', { errors: [{ path: 'querystring.delimeter', message: 'is not an upload option; did you mean `delimiter`? (name, format, header, delimiter, target, task, missing)' }] });
    assertProblem(await csv('a,y\n1,x\n', '?delimiter=ab'), 400, 'VALIDATION_FAILED');
    assertProblem(await csv('a,y\n1,x\n', '?task=clustering'), 400, 'VALIDATION_FAILED');
    assertProblem(await csv('a,y\n1,x\n', '?format=json'), 400, 'VALIDATION_FAILED');
    assertProblem(await json('[[1,"x"]]', '?header=false'), 400, 'VALIDATION_FAILED');
    const conflicting = await request(t.app.server).post('/v1/datasets?target=a').set(tenant.auth).field('target', 'y').attach('file', Buffer.from('a,y\n1,x\n'), 'd.csv');
    assertProblem(conflicting, 400, 'VALIDATION_FAILED');
  });

  describe('late: after chunks were written in the transaction, everything is rolled back', () => {
    const features = 200;
    const perChunk = rowsPerChunk(features); // 1310 rows
    const rows = 3 * perChunk + 10;

    it('a ragged row in the fourth chunk', async () => {
      const body = wideCsv(rows, features, (r, cells) => (r === rows ? cells.slice(1) : cells));
      assertProblem(await csv(body), 400, 'DATASET_RAGGED_ROW', { row: rows - 1, line: rows + 1 });
    });

    it('NaN in the last row', async () => {
      const body = wideCsv(rows, features, (r, cells) => (r === rows ? ['NaN', ...cells.slice(1)] : cells));
      assertProblem(await csv(body), 400, 'DATASET_MISSING_VALUE', { row: rows - 1, column: 'f0' });
    });

    it('a single class, known only at the end', async () => {
      const body = wideCsv(rows, features, (_r, cells) => [...cells.slice(0, -1), 'same']);
      assertProblem(await csv(body), 400, 'DATASET_SINGLE_CLASS');
    });

    it('a part after a large file, found only once the file was stored', async () => {
      const res = await request(t.app.server).post('/v1/datasets').set(tenant.auth).attach('file', Buffer.from(wideCsv(rows, features)), 'wide.csv').field('name', 'too late');
      assertProblem(res, 400, 'DATASET_MALFORMED');
    });

    it('too many rows', async () => {
      const few = await buildTestApp({ MAX_DATASET_ROWS: String(2 * perChunk + 5) });
      try {
        assertProblem(await upload(few.app, tenant, wideCsv(rows, features)), 413, 'DATASET_TOO_MANY_ROWS', { row: 2 * perChunk + 5 });
      } finally {
        await few.close();
      }
    });

    it('over real HTTP, a refusal early in a large body is answered at once and the app keeps serving', async () => {
      let sent = 0;
      const res = await streamPost(t.app, '/v1/datasets', { ...tenant.auth, 'content-type': 'text/csv' }, (function* () {
        yield 'a,b,y\n1,2,x\n3,oops,z\n';
        for (; sent < 20_000; sent++) yield '1,2,x\n'.repeat(1000); // up to ~120 MB, far more than is read
      })());
      assertProblem({ ...res, headers: {} }, 400, 'DATASET_NON_NUMERIC', { row: 1, value: 'oops' });
      // "At once" as a fact, not a time: the answer came while the client still had most of the body to send.
      assert.ok(sent < 20_000, `the client was stopped early (sent ${sent} pieces)`);
      await request(t.app.server).get('/v1/datasets').set(tenant.auth).expect(200);
    });

    it('a client that goes away in the middle of an upload leaves nothing behind', async () => {
      const { port } = t.app.server.address() as AddressInfo;
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/datasets', method: 'POST', headers: { ...tenant.auth, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
      req.on('error', () => undefined);
      const lines = wideCsv(rows, features).split('\n');
      const cut = 2 * perChunk + 50; // past two full chunks, which the server has inserted
      for (let at = 0; at < cut; at += 100) {
        if (!req.write(lines.slice(at, Math.min(at + 100, cut)).join('\n') + '\n')) await new Promise((resolve) => req.once('drain', resolve));
      }
      // Chunks inserted and the transaction waiting for more: what the server is in once it has read two chunks' rows.
      const openUploads = async () => {
        const [{ open }] = await t.services.db.$queryRaw<{ open: bigint }[]>`
          SELECT count(*) AS open FROM pg_stat_activity
          WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND query LIKE 'INSERT INTO "DatasetChunk"%'`;
        return open;
      };
      await waitFor('the upload transaction to hold inserted chunks', async () => ((await openUploads()) > 0n ? true : undefined));
      req.destroy();
      // Wait until no upload transaction is open any more (the server noticed and rolled back), then look.
      await waitFor('the upload transaction to be rolled back', async () => ((await openUploads()) === 0n ? true : undefined));
      await request(t.app.server).get('/v1/datasets').set(tenant.auth).expect(200);
    });
  });
});
