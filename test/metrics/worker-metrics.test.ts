/**
 * A real worker process serves its metrics on WORKER_METRICS_PORT: while it trains, it is busy with positive steps/s
 * and samples/s; after the job, idle, with every step of the job counted and its Postgres writes timed by kind.
 * A taken port is one warning naming WORKER_METRICS_PORT, and the worker trains on.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { startProcess, type Running } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { parseMetrics, sampleValue, type Sample } from './prometheus-text.js';

const WORKER_ENV = { ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info' };

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('worker metrics (WORKER_METRICS_PORT)', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let worker: Running;
  let url: string;
  const running: Running[] = [];

  before(async () => {
    own = await ownInstallation('worker-metrics');
    t = await buildTestApp(own.env);
    tenant = await createTenant(t.services);
    const port = await freePort();
    worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env, WORKER_METRICS_PORT: String(port) });
    running.push(worker);
    await worker.waitFor(/worker ready/, 120_000);
    url = `http://127.0.0.1:${port}/metrics`;
    assert.match(worker.output(), new RegExp(`worker metrics served.*${url.replaceAll('.', '\\.')}|${url.replaceAll('.', '\\.')}.*worker metrics served`));
  });

  after(async () => {
    await Promise.all(running.map((p) => p.stop('SIGTERM')));
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  }

  it('is busy with positive steps/s and samples/s while training, then idle with every step counted and its writes timed', async () => {
    const idle = await scrape();
    assert.equal(sampleValue(idle, 'trainyard_worker_busy'), 0);
    assert.equal(sampleValue(idle, 'trainyard_training_steps_total'), 0);
    assert.ok((sampleValue(idle, 'process_resident_memory_bytes') ?? 0) > 0, 'the standard process metrics');

    const dataset = await request(t.app.server).post('/v1/datasets/synthetic').set(tenant.auth).send({ kind: 'spiral', n: 200, classes: 3, seed: 5 }).expect(201);
    const posted = await request(t.app.server).post('/v1/jobs').set(tenant.auth).send({
      datasetId: dataset.body.id,
      network: { layers: [{ units: 32, activation: 'relu' }, { units: 32, activation: 'relu' }] },
      training: { epochs: 150, batchSize: 8, validationFraction: 0.2, seed: 3 },
      metrics: { everySteps: 5 },
      checkpoints: { everySteps: 200 },
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const jobId: string = posted.body.id;

    // While it trains (scraped until seen; the job runs for seconds).
    const training = await waitFor('the worker to report a running job', async () => {
      const samples = await scrape();
      const busy = sampleValue(samples, 'trainyard_worker_busy');
      const stepsPerSecond = sampleValue(samples, 'trainyard_training_steps_per_second') ?? 0;
      const samplesPerSecond = sampleValue(samples, 'trainyard_training_samples_per_second') ?? 0;
      return busy === 1 && stepsPerSecond > 0 && samplesPerSecond > 0 ? samples : undefined;
    }, 120_000, 20);
    assert.ok((sampleValue(training, 'trainyard_training_steps_total') ?? 0) > 0);

    const job = await waitFor('the job to succeed', async () => {
      const row = await t.services.db.job.findUniqueOrThrow({ where: { id: jobId } });
      if (row.status === 'failed' || row.status === 'cancelled') throw new Error(`job ${row.status}: ${row.failureReason ?? ''}`);
      return row.status === 'succeeded' ? row : undefined;
    }, 180_000);

    const done = await waitFor('the worker to be idle', async () => {
      const samples = await scrape();
      return sampleValue(samples, 'trainyard_worker_busy') === 0 ? samples : undefined;
    });
    assert.equal(sampleValue(done, 'trainyard_training_steps_total'), job.step, 'every step of the job, counted once');
    assert.equal(sampleValue(done, 'trainyard_training_steps_per_second'), 0);
    assert.equal(sampleValue(done, 'trainyard_training_samples_per_second'), 0);
    const writes = (kind: string) => sampleValue(done, 'trainyard_worker_write_duration_seconds_count', { kind, outcome: 'ok' }) ?? 0;
    assert.ok(writes('metrics') + writes('checkpoint') >= 1, 'metrics records written');
    assert.ok(writes('checkpoint') >= 1, 'checkpoints written');
    assert.equal(writes('result'), 1, 'the final result');
    assert.equal(sampleValue(done, 'trainyard_worker_write_duration_seconds_bucket', { kind: 'result', outcome: 'ok', le: '+Inf' }), 1);
  });

  it('a taken WORKER_METRICS_PORT is one warning naming it; the worker still trains', async () => {
    const port = new URL(url).port;
    const second = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env, WORKER_METRICS_PORT: port });
    running.push(second);
    await second.waitFor(/worker ready/, 120_000);
    const warnings = second.output().split('\n').filter((line) => line.includes('WORKER_METRICS_PORT'));
    assert.equal(warnings.length, 1, second.output());
    assert.match(warnings[0]!, new RegExp(`WORKER_METRICS_PORT=${port} on 127\\.0\\.0\\.1 is in use`));
    assert.doesNotMatch(second.output(), /\n\s+at /, 'no stack');
    assert.equal((await second.stop('SIGTERM')).code, 0);
  });
});
