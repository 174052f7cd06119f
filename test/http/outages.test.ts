/**
 * The API through real outages of Postgres and Redis, made by cutting a TCP proxy between the app and each server
 * (the servers themselves are never touched): during an outage the API answers 503 DATABASE_UNAVAILABLE or
 * QUEUE_UNAVAILABLE (problem+json, Retry-After), never 500, within seconds; once the proxy is back it recovers by itself.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import WebSocket from 'ws';
import { toApiError } from '../../src/http/problem-handlers.js';
import { dependencyPorts, unavailableDependency } from '../../src/infra/dependency-errors.js';
import { buildTestApp, createTenant, testConfig, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { listen } from '../helpers/streams.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

function viaPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** Polls `probe` until it holds, for up to `ms` (an outage's effects and the recovery take a few reconnects). */
async function eventually(probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await sleep(100);
  }
}

function assertUnavailable(res: request.Response, code: 'DATABASE_UNAVAILABLE' | 'QUEUE_UNAVAILABLE'): void {
  assert.equal(res.status, 503, `${res.status} ${JSON.stringify(res.body)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(res.body.code, code);
  assert.match(String(res.headers['retry-after']), /^\d+$/);
  assert.equal(res.headers['x-request-id'], res.body.requestId);
  assert.equal(res.body.stack, undefined);
}

/** The status of a WebSocket upgrade refused before the upgrade (or 101 when accepted). */
function upgradeStatus(url: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('outages of Postgres and Redis', () => {
  let own: Installation;
  let pg: TcpProxy;
  let redis: TcpProxy;
  let t: TestApp;
  let tenant: TestTenant;
  let base: string;

  before(async () => {
    own = await ownInstallation('outages');
    const config = testConfig(own.env);
    const ports = dependencyPorts(config.databaseUrl, config.redisUrl);
    pg = await startTcpProxy(ports.database!);
    redis = await startTcpProxy(ports.queue!);
    t = await buildTestApp({ ...own.env, DATABASE_URL: viaPort(config.databaseUrl, pg.port), REDIS_URL: viaPort(config.redisUrl, redis.port) });
    t.services.redis.on('error', () => undefined);
    tenant = await createTenant(t.services);
    base = await listen(t.app);
  });
  after(async () => {
    await t.close();
    await pg.close();
    await redis.close();
    await own.drop();
  });

  /** A real job (queued: this installation has no worker), optionally marked running as a worker would. */
  async function createJob(status: 'queued' | 'running'): Promise<string> {
    const dataset = await request(t.app.server).post('/v1/datasets/synthetic').set(tenant.auth).send({ kind: 'xor', n: 40, seed: 1 });
    assert.equal(dataset.status, 201, JSON.stringify(dataset.body));
    const job = await request(t.app.server).post('/v1/jobs').set(tenant.auth).send({ datasetId: dataset.body.id, training: { epochs: 1 } }).expect(201);
    if (status === 'running') await t.services.db.job.update({ where: { id: job.body.id }, data: { status: 'running', attempt: 1 } });
    return job.body.id;
  }

  it('answers 503 DATABASE_UNAVAILABLE while Postgres is cut off, then recovers by itself', async () => {
    const jobId = await createJob('running');
    const queued = await createJob('queued');
    await request(t.app.server).get(`/v1/jobs/${jobId}`).set(tenant.auth).expect(200); // the key is now cached

    await pg.cut();
    try {
      const started = Date.now();
      assertUnavailable(await request(t.app.server).get(`/v1/jobs/${jobId}`).set(tenant.auth), 'DATABASE_UNAVAILABLE');
      assertUnavailable(await request(t.app.server).get('/v1/jobs').set(tenant.auth), 'DATABASE_UNAVAILABLE');
      assertUnavailable(await request(t.app.server).post(`/v1/jobs/${jobId}/cancel`).set(tenant.auth), 'DATABASE_UNAVAILABLE');
      assertUnavailable(
        await request(t.app.server).post('/v1/jobs').set(tenant.auth).send({ datasetId: crypto.randomUUID() }),
        'DATABASE_UNAVAILABLE',
      );
      // A key the replica has not cached needs Postgres too.
      const stranger = `ty_abcdefghij_${'A'.repeat(43)}`;
      assertUnavailable(await request(t.app.server).get('/v1/me').set('authorization', `Bearer ${stranger}`), 'DATABASE_UNAVAILABLE');
      const ready = await request(t.app.server).get('/ready');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.code, 'NOT_READY');
      assert.match(ready.body.checks.postgres, /^unavailable/);
      assert.ok(Date.now() - started < 30_000, 'answers come within seconds, not minutes');
    } finally {
      await pg.restore();
    }

    await eventually(async () => (await request(t.app.server).get(`/v1/jobs/${jobId}`).set(tenant.auth)).status === 200);
    const cancel = await request(t.app.server).post(`/v1/jobs/${queued}/cancel`).set(tenant.auth);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.status, 'cancelled');
    await request(t.app.server).get('/ready').expect(200);
  });

  it('answers 503 QUEUE_UNAVAILABLE (or goes on without Redis) while Redis is cut off, never 500, then recovers', async () => {
    const jobId = await createJob('running');
    const stream = `${base}/v1/jobs/${jobId}/stream`;
    assert.equal(await upgradeStatus(stream, tenant.key), 101);

    await redis.cut();
    try {
      await eventually(async () => t.services.redis.status !== 'ready');
      const started = Date.now();
      // Live events need Redis: refused before the upgrade.
      assert.equal(await upgradeStatus(stream, tenant.key), 503);
      const refused = await request(t.app.server).get(`/v1/jobs/${jobId}/stream`).set(tenant.auth).set({ connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
      assertUnavailable(refused, 'QUEUE_UNAVAILABLE');
      // What needs only Postgres goes on (the rate limit fails open).
      await request(t.app.server).get(`/v1/jobs/${jobId}`).set(tenant.auth).expect(200);
      // Cancelling a running job signals the worker through Redis; the flag in Postgres is enough (the worker reads it).
      const cancel = await request(t.app.server).post(`/v1/jobs/${jobId}/cancel`).set(tenant.auth);
      assert.ok(cancel.status === 202 || cancel.status === 503, `${cancel.status} ${JSON.stringify(cancel.body)}`);
      if (cancel.status === 503) assertUnavailable(cancel, 'QUEUE_UNAVAILABLE');
      // The queue's own failures map to QUEUE_UNAVAILABLE (BullMQ add, ioredis commands).
      const addError = await t.services.trainingQueue.add('train', { jobId: crypto.randomUUID(), tenantId: tenant.id }).then(() => null, (e: unknown) => e);
      assert.ok(addError, 'adding to the queue fails while Redis is away');
      assert.equal(toApiError(addError as never)?.code, 'QUEUE_UNAVAILABLE', String(addError));
      const pingError = await t.services.redis.ping().then(() => null, (e: unknown) => e);
      assert.equal(unavailableDependency(pingError), 'queue', String(pingError));
      assert.ok(Date.now() - started < 30_000, 'answers come within seconds, not minutes');
    } finally {
      await redis.restore();
    }

    await eventually(async () => t.services.redis.status === 'ready');
    await eventually(async () => (await upgradeStatus(stream, tenant.key)) === 101);
    await request(t.app.server).get('/ready').expect(200);
  });
});
