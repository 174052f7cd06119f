/**
 * Limits and headers of src/http/protection.ts: the per-key rate limit held across two API instances sharing Redis,
 * security headers, CORS for configured origins only, and 503 OVERLOADED while the event loop is blocked.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, uniqueName, type TestApp } from '../helpers/app.js';

async function eventually(probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await sleep(50);
  }
}

describe('rate limit', () => {
  let a: TestApp;
  let b: TestApp;
  const LIMIT = 6;

  before(async () => {
    // Two replicas of one installation (same Redis, same prefix), with a prefix of their own: the IP buckets of this
    // file are not shared with other test files.
    // RATE_LIMIT_SYNC_MS=0: every request waits for its count from Redis, so counts are exact across replicas (with
    // the default, a replica answers a busy key from its last count: test/http/coalescing-rate-store.test.ts).
    const env = { QUEUE_PREFIX: uniqueName('ty-ratelimit'), RATE_LIMIT_PER_MINUTE: String(LIMIT), RATE_LIMIT_SYNC_MS: '0' };
    a = await buildTestApp(env);
    b = await buildTestApp(env);
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('holds per API key across replicas: RateLimit headers, then 429 RATE_LIMITED with Retry-After', async () => {
    const tenant = await createTenant(a.services);
    const other = await createTenant(a.services);
    for (let i = 0; i < LIMIT; i++) {
      const replica = i % 2 === 0 ? a : b;
      const res = await request(replica.app.server).get('/v1/me').set(tenant.auth).expect(200);
      assert.equal(res.headers['ratelimit-limit'], String(LIMIT));
      assert.equal(res.headers['ratelimit-remaining'], String(LIMIT - 1 - i));
      assert.ok(Number(res.headers['ratelimit-reset']) > 0 && Number(res.headers['ratelimit-reset']) <= 60);
    }
    for (const replica of [a, b]) {
      const res = await request(replica.app.server).get('/v1/me').set(tenant.auth).expect(429);
      assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'RATE_LIMITED');
      assert.equal(res.body.limit, LIMIT);
      assert.ok(Number(res.headers['retry-after']) > 0 && Number(res.headers['retry-after']) <= 60);
      assert.equal(res.headers['ratelimit-remaining'], '0');
      assert.equal(res.headers['x-request-id'], res.body.requestId);
    }
    // Another key has a bucket of its own; the probes are never limited.
    await request(b.app.server).get('/v1/me').set(other.auth).expect(200);
    for (let i = 0; i < LIMIT + 2; i++) await request(a.app.server).get('/health').expect(200);
    await request(a.app.server).get('/ready').expect(200);
  });

  it('with the default sync, one replica counts a burst of concurrent requests exactly', async () => {
    const one = await buildTestApp({ QUEUE_PREFIX: uniqueName('ty-ratelimit'), RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    try {
      const tenant = await createTenant(one.services);
      await one.app.listen({ host: '127.0.0.1', port: 0 });
      const responses = await Promise.all(Array.from({ length: LIMIT + 3 }, () => request(one.app.server).get('/v1/me').set(tenant.auth)));
      const statuses = responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [...Array(LIMIT).fill(200), 429, 429, 429]);
      const remaining = responses.filter((r) => r.status === 200).map((r) => Number(r.headers['ratelimit-remaining'])).sort((x, y) => x - y);
      assert.deepEqual(remaining, Array.from({ length: LIMIT }, (_, i) => i));
    } finally {
      await one.close();
    }
  });

  it('counts requests without a valid key per client IP, made-up keys included', async () => {
    const tenant = await createTenant(a.services);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const madeUp = `ty_${'abcdefghij'}_${String(i).padStart(43, 'x')}`;
      const res = await request((i % 2 ? a : b).app.server).get('/v1/me').set(i % 3 === 0 ? {} : { authorization: `Bearer ${madeUp}` });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [...Array(LIMIT).fill(401), 429, 429]);
    // Unknown routes count per IP too; a valid key is not held back by its IP's bucket.
    await request(a.app.server).get('/nothing').expect(429);
    await request(a.app.server).get('/v1/me').set(tenant.auth).expect(200);
  });
});

describe('security headers and CORS', () => {
  let plain: TestApp;
  let withCors: TestApp;
  const ORIGIN = 'https://app.example.com';

  before(async () => {
    plain = await buildTestApp();
    withCors = await buildTestApp({ CORS_ORIGINS: `${ORIGIN}, https://other.example.com` });
  });
  after(async () => {
    await plain.close();
    await withCors.close();
  });

  it('sets security headers on every answer, errors included', async () => {
    for (const res of [await request(plain.app.server).get('/health'), await request(plain.app.server).get('/v1/me'), await request(plain.app.server).get('/nothing')]) {
      const csp = res.headers['content-security-policy'] ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /object-src 'none'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });

  it('sends no CORS headers by default (CORS_ORIGINS empty); OPTIONS answers 204 with Allow', async () => {
    const res = await request(plain.app.server).get('/health').set('origin', ORIGIN).expect(200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const preflight = await request(plain.app.server).options('/v1/me').set('origin', ORIGIN).set('access-control-request-method', 'GET').expect(204);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.equal(preflight.headers.allow, 'GET, HEAD, OPTIONS');
  });

  it('allows the configured origins only, preflights included', async () => {
    const server = withCors.app.server;
    const res = await request(server).get('/health').set('origin', ORIGIN).expect(200);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.match(res.headers['access-control-expose-headers'] ?? '', /x-request-id/);
    const preflight = await request(server).options('/v1/jobs').set('origin', ORIGIN).set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization, content-type').expect(204);
    assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN);
    assert.match(preflight.headers['access-control-allow-methods'] ?? '', /POST/);
    assert.match(preflight.headers['access-control-allow-headers'] ?? '', /authorization/);
    const stranger = await request(server).get('/health').set('origin', 'https://evil.example.net').expect(200);
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
    const strangerPreflight = await request(server).options('/v1/jobs').set('origin', 'https://evil.example.net').set('access-control-request-method', 'POST');
    assert.equal(strangerPreflight.headers['access-control-allow-origin'], undefined);
  });
});

describe('overload', () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp({ MAX_EVENT_LOOP_DELAY_MS: '20' });
  });
  after(() => t.close());

  it('answers 503 OVERLOADED with Retry-After while the event loop lags, keeps /health up, and recovers', async () => {
    const tenant = await createTenant(t.services);
    // Building the app (compiling schemas and serializers) may itself lag the loop past 20 ms: start from a calm loop.
    await eventually(async () => (await request(t.app.server).get('/v1/me').set(tenant.auth)).status === 200);
    // Block the loop for 3 s: whatever the phase of the 1 s sampling, the mean delay of the next sample is > 20 ms.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // busy
    }
    let overloaded: request.Response | undefined;
    await eventually(async () => {
      const res = await request(t.app.server).get('/v1/me').set(tenant.auth);
      if (res.status !== 503) return false;
      overloaded = res;
      await request(t.app.server).get('/health').expect(200);
      return true;
    }, 10_000);
    assert.equal(overloaded!.body.code, 'OVERLOADED');
    assert.match(overloaded!.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.ok(Number(overloaded!.headers['retry-after']) > 0);
    await eventually(async () => (await request(t.app.server).get('/v1/me').set(tenant.auth)).status === 200);
  });
});
