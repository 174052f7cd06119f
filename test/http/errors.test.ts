import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ERRORS } from '../../src/errors.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

describe('HTTP basics', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  it('GET /health answers ok', async () => {
    const res = await request(t.app.server).get('/health').expect(200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('GET /ready checks Postgres, Redis and migrations', async () => {
    const res = await request(t.app.server).get('/ready').expect(200);
    assert.deepEqual(res.body.checks, { postgres: 'ok', redis: 'ok', migrations: 'ok' });
  });

  it('unknown routes answer 404 as problem+json with the request id', async () => {
    const res = await request(t.app.server).get('/nope?x=1').set('x-request-id', 'req-abc-123').expect(404);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(res.headers['x-request-id'], 'req-abc-123');
    assert.deepEqual(res.body, {
      type: 'urn:trainyard:problem:route-not-found',
      code: 'ROUTE_NOT_FOUND',
      title: ERRORS.ROUTE_NOT_FOUND.title,
      status: 404,
      detail: 'GET /nope does not exist',
      requestId: 'req-abc-123',
    });
  });

  it('a malformed request id is replaced by a generated one', async () => {
    const res = await request(t.app.server).get('/health').set('x-request-id', 'bad id with spaces');
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('every declared error has a 4xx/5xx status and a title', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      assert.match(code, /^[A-Z0-9_]+$/);
      assert.ok(def.status >= 400 && def.status < 600, code);
      assert.ok(def.title.length > 0, code);
    }
  });

  it('a failing dependency makes /ready answer 503 with the check that failed', async () => {
    const broken = await buildTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    broken.services.redis.on('error', () => undefined);
    try {
      const res = await request(broken.app.server).get('/ready').expect(503);
      assert.equal(res.body.code, 'NOT_READY');
      assert.equal(res.body.checks.postgres, 'ok');
      assert.match(res.body.checks.redis, /^unavailable/);
      assert.equal(res.body.stack, undefined);
    } finally {
      await broken.close();
    }
  });
});
