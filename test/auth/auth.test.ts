import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { generateApiKey, hashApiKey, keyMatches, prefixOf } from '../../src/auth/api-keys.js';
import { publishKeyRevoked } from '../../src/auth/key-cache.js';
import { bootstrapDefaultTenant, revokeKey } from '../../src/db/repositories/tenants.js';
import { buildTestApp, createTenant, type TestApp } from '../helpers/app.js';

describe('API keys', () => {
  it('are random, high-entropy and carry a visible prefix', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    assert.notEqual(a.key, b.key);
    assert.match(a.key, /^ty_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    assert.equal(prefixOf(a.key), a.prefix);
    assert.ok(keyMatches(a.key, a.hash));
    assert.ok(!keyMatches(b.key, a.hash));
    assert.deepEqual(hashApiKey(a.key), a.hash);
    assert.equal(prefixOf('ty_short_x'), null);
  });
});

describe('authentication on /v1', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  it('refuses a request without a key, with a 401 problem and WWW-Authenticate', async () => {
    const res = await request(t.app.server).get('/v1/me').expect(401);
    assert.equal(res.body.code, 'UNAUTHENTICATED');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  });

  it('refuses malformed and unknown keys', async () => {
    await request(t.app.server).get('/v1/me').set('authorization', 'Bearer nonsense').expect(401);
    await request(t.app.server).get('/v1/me').set('authorization', `Bearer ${generateApiKey().key}`).expect(401);
    await request(t.app.server).get('/v1/me').set('authorization', 'Basic dXNlcjpwdw==').expect(401);
  });

  it('resolves a valid key to its tenant', async () => {
    const tenant = await createTenant(t.services);
    const res = await request(t.app.server).get('/v1/me').set(tenant.auth).expect(200);
    assert.deepEqual(res.body, { tenant: { id: tenant.id, name: tenant.name } });
  });

  it('refuses a key whose secret part was altered (same prefix)', async () => {
    const tenant = await createTenant(t.services);
    const altered = tenant.key.slice(0, -1) + (tenant.key.endsWith('A') ? 'B' : 'A');
    await request(t.app.server).get('/v1/me').set('authorization', `Bearer ${altered}`).expect(401);
  });

  it('stores only the hash of a key', async () => {
    const tenant = await createTenant(t.services);
    const rows = await t.services.db.apiKey.findMany({ where: { tenantId: tenant.id } });
    const a = { prefix: prefixOf(tenant.key)! };
    assert.equal(rows.length, 1);
    const stored = JSON.stringify({ ...rows[0], hash: Buffer.from(rows[0]!.hash).toString('base64') });
    assert.ok(!stored.includes(tenant.key.slice('ty_'.length + a.prefix.length + 1)), 'the secret part is not stored');
  });

  it('refuses a revoked key at once on every replica, although replicas cache keys', async () => {
    const other = await buildTestApp();
    try {
      const tenant = await createTenant(t.services);
      const prefix = prefixOf(tenant.key)!;
      await request(t.app.server).get('/v1/me').set(tenant.auth).expect(200);
      await request(other.app.server).get('/v1/me').set(tenant.auth).expect(200);
      // Cached: the replicas answer without Postgres. Revoke in Postgres and tell them through Redis.
      assert.equal(await revokeKey(t.services.db, prefix), true);
      await publishKeyRevoked(t.services.redis, t.config.queuePrefix, prefix);
      await waitUntil(async () => (await request(other.app.server).get('/v1/me').set(tenant.auth)).status === 401);
      await request(t.app.server).get('/v1/me').set(tenant.auth).expect(401);
      assert.equal(await revokeKey(t.services.db, prefix), false);
    } finally {
      await other.close();
    }
  });

  it('re-reads a key from Postgres once its cache entry expires', async () => {
    const short = await buildTestApp({ AUTH_CACHE_MS: '1' });
    try {
      const tenant = await createTenant(short.services);
      await request(short.app.server).get('/v1/me').set(tenant.auth).expect(200);
      await revokeKey(short.services.db, prefixOf(tenant.key)!); // no Redis notice: only the expiry can catch it
      await new Promise((resolve) => setTimeout(resolve, 5));
      await request(short.app.server).get('/v1/me').set(tenant.auth).expect(401);
    } finally {
      await short.close();
    }
  });

  it('records when a key was last used', async () => {
    const tenant = await createTenant(t.services);
    await request(t.app.server).get('/v1/me').set(tenant.auth).expect(200);
    await waitUntil(async () => (await t.services.db.apiKey.findUniqueOrThrow({ where: { prefix: prefixOf(tenant.key)! } })).lastUsedAt !== null);
  });

  it('creates the default tenant only when no tenant exists', async () => {
    await createTenant(t.services);
    assert.equal(await bootstrapDefaultTenant(t.services.db), null);
  });
});

/** Waits for a state that stays once reached (a revocation, a stored timestamp); the deadline only turns a hang into a failure. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
