/**
 * GET /metrics of the API: request latency by route pattern and status, jobs by status from Postgres, the BullMQ
 * queue depth, open WebSocket streams, inference latency and the Postgres pool, on an installation of its own (exact
 * job and queue counts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { createTrainingQueue, TRAINING_QUEUE } from '../../src/queue/training-queue.js';
import { createRedis } from '../../src/queue/redis.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { irisData, storeModel, trainModel } from '../helpers/models.js';
import { createJobRow, listen, openStream } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { parseMetrics, sampleValue, type Sample } from './prometheus-text.js';

describe('API metrics (GET /metrics)', () => {
  let installation: Installation;
  let t: TestApp;
  let tenant: TestTenant;

  before(async () => {
    installation = await ownInstallation('metrics');
    t = await buildTestApp({ ...installation.env, DATABASE_POOL_SIZE: '7' });
    tenant = await createTenant(t.services, 'metrics');
  });
  after(async () => {
    await t?.close();
    await installation?.drop();
  });

  async function scrape(app = t.app, headers: Record<string, string> = {}): Promise<Sample[]> {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.body);
  }

  it('times requests by route pattern (not the URL), method and status', async () => {
    const missing = randomUUID();
    for (let i = 0; i < 3; i++) assert.equal((await t.app.inject({ method: 'GET', url: '/v1/me', headers: tenant.auth })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: `/v1/jobs/${missing}`, headers: tenant.auth })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/me' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/no/such/route' })).statusCode, 404);

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    const samples = parseMetrics(res.body);
    const count = (labels: Record<string, string>) => sampleValue(samples, 'trainyard_http_request_duration_seconds_count', labels);
    assert.equal(count({ method: 'GET', route: '/v1/me', status_code: '200' }), 3);
    assert.equal(count({ method: 'GET', route: '/v1/me', status_code: '401' }), 1);
    assert.equal(count({ method: 'GET', route: '/v1/jobs/:id', status_code: '404' }), 1);
    assert.equal(count({ method: 'GET', route: '(unmatched)', status_code: '404' }), 1);
    // A histogram: cumulative buckets up to +Inf, which equals the count.
    const inf = sampleValue(samples, 'trainyard_http_request_duration_seconds_bucket', { route: '/v1/me', status_code: '200', le: '+Inf' });
    assert.equal(inf, 3);
    assert.ok(!res.body.includes(missing), 'no raw URL (with its id) becomes a label');
    assert.ok(!res.body.includes('/no/such/route'));
  });

  it('counts the stored jobs by status at scrape time', async () => {
    for (const status of ['queued', 'queued', 'running', 'succeeded', 'succeeded', 'succeeded'] as const) await createJobRow(t.services, tenant.id, status);
    await t.services.db.job.create({ data: { tenantId: tenant.id, spec: {}, parameterCount: 1, totalSteps: 1, status: 'failed', attempt: 1 } });
    let samples = await scrape();
    const jobs = (status: string) => sampleValue(samples, 'trainyard_jobs', { status });
    assert.deepEqual(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map(jobs), [2, 1, 3, 1, 0]);
    assert.equal(sampleValue(samples, 'trainyard_metrics_source_up', { source: 'postgres' }), 1);

    await createJobRow(t.services, tenant.id, 'running');
    samples = await scrape();
    assert.equal(jobs('running'), 2, 'read anew at every scrape');
  });

  it('reports the training queue depth: waiting (prioritized too), active, delayed', async () => {
    const { trainingQueue } = t.services;
    const data = (n: number) => ({ jobId: `metrics-${n}-${randomUUID()}`, tenantId: tenant.id });
    await trainingQueue.add('train', data(1), { jobId: randomUUID() });
    await trainingQueue.add('train', data(2), { jobId: randomUUID(), priority: 3 });
    await trainingQueue.add('train', data(3), { jobId: randomUUID() });
    await trainingQueue.add('train', data(4), { jobId: randomUUID(), delay: 3_600_000 });

    let samples = await scrape();
    const depth = (state: string) => sampleValue(samples, 'trainyard_queue_jobs', { state });
    assert.deepEqual(['waiting', 'active', 'delayed'].map(depth), [3, 0, 1]);
    assert.equal(sampleValue(samples, 'trainyard_metrics_source_up', { source: 'redis' }), 1);

    // A consumer takes one job (manually, without processing it): it is active.
    const connection = createRedis(t.config.redisUrl, { name: 'metrics-test', blocking: true });
    const consumer = new Worker(TRAINING_QUEUE, null, { connection, prefix: t.config.queuePrefix, autorun: false });
    try {
      const taken = await consumer.getNextJob('metrics-test-token');
      assert.ok(taken, 'a job was taken');
      samples = await scrape();
      assert.deepEqual(['waiting', 'active', 'delayed'].map(depth), [2, 1, 1]);
    } finally {
      await consumer.close(true);
      connection.disconnect();
    }
  });

  it('counts open WebSocket streams: up while one is open, down after it closed', async () => {
    const jobId = await createJobRow(t.services, tenant.id, 'running');
    const base = await listen(t.app);
    const open = async () => sampleValue(await scrape(), 'trainyard_websocket_connections');
    assert.equal(await open(), 0);
    const first = await openStream(base, jobId, { key: tenant.key });
    const second = await openStream(base, jobId, { key: tenant.key });
    // Live once the status event arrived (the stream is registered before it replays).
    await first.waitFor((m) => m.some((e) => e.type === 'status'));
    await second.waitFor((m) => m.some((e) => e.type === 'status'));
    assert.equal(await open(), 2);
    first.ws.close();
    await first.closed;
    await waitFor('the server to see the close', async () => ((await open()) === 1 ? true : undefined));
    second.ws.close();
    await second.closed;
    await waitFor('the server to see the second close', async () => ((await open()) === 0 ? true : undefined));
  });

  it('times inference: one observation and the rows per prediction request', async () => {
    const iris = await trainModel(irisData(), { epochs: 5 });
    const modelId = await storeModel(t.services, tenant.id, iris.artifact, 'iris');
    const before = await scrape();
    const count = (s: Sample[]) => sampleValue(s, 'trainyard_inference_duration_seconds_count') ?? 0;
    const rows = (s: Sample[]) => sampleValue(s, 'trainyard_inference_rows_total') ?? 0;
    const res = await t.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, headers: tenant.auth, payload: { rows: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] } });
    assert.equal(res.statusCode, 200, res.body);
    const afterwards = await scrape();
    assert.equal(count(afterwards) - count(before), 1);
    assert.equal(rows(afterwards) - rows(before), 2);
    assert.equal(sampleValue(afterwards, 'trainyard_http_request_duration_seconds_count', { route: '/v1/models/:id/predict', status_code: '200' }), 1);
  });

  it('reports the Postgres pool (its size, open and idle connections, waiting queries) and the process', async () => {
    const samples = await scrape();
    assert.equal(sampleValue(samples, 'trainyard_db_pool_max'), 7, 'DATABASE_POOL_SIZE');
    const total = sampleValue(samples, 'trainyard_db_pool_connections', { state: 'total' })!;
    const idle = sampleValue(samples, 'trainyard_db_pool_connections', { state: 'idle' })!;
    const inUse = sampleValue(samples, 'trainyard_db_pool_connections', { state: 'in_use' })!;
    assert.ok(total >= 1 && total <= 7, `total ${total}`);
    assert.equal(idle + inUse, total);
    assert.equal(sampleValue(samples, 'trainyard_db_pool_waiting'), 0);
    assert.ok((sampleValue(samples, 'process_resident_memory_bytes') ?? 0) > 0, 'the standard process metrics');
  });

  it('answers what Prometheus asks for (its Accept header prefers OpenMetrics, then text, then anything)', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,'
      + 'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
    const samples = await scrape(t.app, { accept });
    assert.ok(samples.some((s) => s.name === 'trainyard_websocket_connections'));
  });

  it('is open by default, and needs the bearer METRICS_TOKEN when one is set', async () => {
    const token = `metrics-${randomUUID()}`;
    const guarded = await buildTestApp({ ...installation.env, METRICS_TOKEN: token });
    try {
      const without = await guarded.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(without.statusCode, 401);
      assert.equal(without.json().code, 'UNAUTHENTICATED');
      const wrong = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}x` } });
      assert.equal(wrong.statusCode, 401);
      const samples = await scrape(guarded.app, { authorization: `Bearer ${token}` });
      assert.ok(sampleValue(samples, 'trainyard_db_pool_max')! > 0);
    } finally {
      await guarded.close();
    }
  });
});
