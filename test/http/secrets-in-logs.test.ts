/**
 * No API key in any log line: a run that presents a real key in every way a client can (Authorization header,
 * `access_token` in any case, percent-encoded, repeated, in the path, in a bad JSON body) on every kind of answer
 * (200, 101, 400, 401, 404, 405, 406, 413, 414, 431, 500), with every log line of the process captured at trace level
 * and searched for the key and for its secret part.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import request from 'supertest';
import WebSocket from 'ws';
import { build } from '../../src/app.js';
import { loggerOptions, redactUrl, scrubSecrets } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { createTenant, testConfig, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { createJobRow, listen } from '../helpers/streams.js';

class Lines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    done();
  }
}

/** Resolves with the HTTP status of a WebSocket upgrade (101 when accepted). */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

/** Sends raw bytes and resolves with the status line's code. */
function raw(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (d) => (answer += String(d)));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

describe('secrets in logs', () => {
  let own: Installation;
  const logs = new Lines();
  let app: Awaited<ReturnType<typeof build>>;
  let tenant: TestTenant;
  let base: string;
  let port: number;

  before(async () => {
    own = await ownInstallation('secrets');
    const config = testConfig({ ...own.env, LOG_LEVEL: 'trace', MAX_JSON_BODY_BYTES: '2048', RATE_LIMIT_PER_MINUTE: '100000' });
    const services = createServices(config, pino(loggerOptions('trace', 'api'), logs));
    app = await build(services, { logStream: logs });
    await app.ready();
    tenant = await createTenant(services);
    base = await listen(app);
    port = Number(new URL(base).port);
  });
  after(async () => {
    await app.close();
    await own.drop();
  });

  it('never writes the key or its secret in any log line, whatever the route, the status and the way it was sent', async () => {
    const key = tenant.key;
    const secret = key.slice(key.lastIndexOf('_') + 1);
    const bearer = { authorization: `Bearer ${key}` };
    const server = app.server;
    const jobId = await createJobRow(app.services, tenant.id, 'running'); // a hand-made row: GET /v1/jobs/:id fails to serialize it (500)
    const stream = `${base.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream`;
    const enc = encodeURIComponent(key);
    const seen: Record<string, number> = {};
    const check = async (name: string, status: number, send: () => Promise<number>) => {
      seen[name] = await send();
      assert.equal(seen[name], status, name);
    };

    await check('header, 200', 200, async () => (await request(server).get('/v1/me').set(bearer)).status);
    await check('query, 401', 401, async () => (await request(server).get(`/v1/me?access_token=${enc}`)).status);
    await check('query ACCESS_TOKEN, 401', 401, async () => (await request(server).get(`/v1/me?ACCESS_TOKEN=${enc}`)).status);
    await check('query access%5Ftoken, 401', 401, async () => (await request(server).get(`/v1/me?access%5Ftoken=${enc}`)).status);
    await check('query %61ccess_token, 401', 401, async () => (await request(server).get(`/v1/me?%61ccess_token=${enc}&since=1`)).status);
    await check('query with encoded separators, 401', 401, async () => (await request(server).get(`/v1/me?x=${key.replaceAll('_', '%5F')}`)).status);
    await check('upgrade, token twice, 101', 101, () => upgrade(`${stream}?access_token=${enc}&access_token=${enc}`));
    await check('upgrade, tokens that disagree, 401', 401, () => upgrade(`${stream}?access_token=${enc}&access_token=${enc}x`));
    await check('upgrade, access%5Ftoken, 101', 101, () => upgrade(`${stream}?access%5Ftoken=${enc}`));
    await check('upgrade, ACCESS_TOKEN, 401', 401, () => upgrade(`${stream}?ACCESS_TOKEN=${enc}`));
    await check('upgrade, bad since, 400', 400, () => upgrade(`${stream}?since=-9&access_token=${enc}`));
    await check('key in the path, 400', 400, async () => (await request(server).get(`/v1/jobs/${enc}`).set(bearer)).status);
    await check('unknown route, 404', 404, async () => (await request(server).get(`/nope?access_token=${enc}`).set(bearer)).status);
    await check('wrong method, 405', 405, async () => (await request(server).delete(`/v1/me?access_token=${enc}`).set(bearer)).status);
    await check('not acceptable, 406', 406, async () => (await request(server).get('/v1/me').set(bearer).set('accept', 'text/html')).status);
    await check('body too large, 413', 413, async () => (await request(server).post(`/v1/jobs?access_token=${enc}`).set(bearer).send({ pad: 'x'.repeat(4096) })).status);
    await check('key in a bad JSON body, 400', 400, async () =>
      (await request(server).post('/v1/jobs').set(bearer).set('content-type', 'application/json').send(`{"datasetId": "${key}", "x": ${key}}`)).status);
    await check('long parameter, 414', 414, async () => (await request(server).get(`/v1/jobs/${'a'.repeat(500)}?access_token=${enc}`).set(bearer)).status);
    await check('bad URL, 400', 400, async () => (await request(server).get(`/v1/jobs/%E0%A4%A?access_token=${enc}`).set(bearer)).status);
    await check('server error, 500', 500, async () => (await request(server).get(`/v1/jobs/${jobId}?access_token=${enc}`).set(bearer)).status);
    await check('headers too large, 431', 431, () =>
      raw(port, `GET /v1/me?access_token=${enc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`));
    await check('malformed request, 400', 400, () => raw(port, `GET /v1/me?access_token=${enc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: nope\r\n\r\n`));

    await new Promise((resolve) => setTimeout(resolve, 50)); // response hooks run after the answer
    const requestLines = logs.lines.filter((l) => l.includes('"msg":"request'));
    assert.ok(requestLines.length >= 20, `a log line per request (${requestLines.length})`);
    assert.ok(logs.lines.some((l) => l.includes('[redacted]')), 'credentials were seen and redacted');
    const leaks = logs.lines.filter((l) => l.includes(secret) || l.includes(key) || l.includes(enc) || l.includes(encodeURIComponent(secret)));
    assert.deepEqual(leaks, [], `${leaks.length} of ${logs.lines.length} log lines hold the key`);
  });

  it('redacts token parameters under any spelling, and keys anywhere in a URL or a message', () => {
    const key = `ty_abcdefghij_${'Zz0-_'.repeat(8)}abc`;
    for (const url of [
      `/v1/me?access_token=${key}`, `/v1/me?a=1&access_token=${key}&access_token=${key}`, `/v1/me?access%5Ftoken=${key}`,
      `/v1/me?%61ccess_token=${key}`, `/v1/me?ACCESS_TOKEN=${key}`, `/v1/me?access%255Ftoken=${key}`, `/v1/me?api_key=${key}`,
      `/v1/${key}/x`, `/v1/${key.replaceAll('_', '%5F')}/x`, `/v1/me?q=${encodeURIComponent(key)}`,
    ]) {
      assert.ok(!redactUrl(url).includes(key.slice(14)), url);
    }
    assert.equal(redactUrl('/v1/jobs?status=running&limit=5'), '/v1/jobs?status=running&limit=5');
    assert.equal(scrubSecrets(`Bearer ${key} and "${key}"`), 'Bearer [redacted] and "ty_abcdefghij_[redacted]"');
  });
});
