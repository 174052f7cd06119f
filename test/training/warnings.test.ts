/**
 * Training-health warnings and live decision grids with a real worker process, Postgres and Redis: jobs set up to go
 * wrong in the ways CS231n describes get the warning (stored once in GET /v1/jobs/:id, streamed once on the job's
 * WebSocket), a healthy spiral gets neither DEAD_RELU nor SATURATED, and a 2-input spiral job streams decision grids.
 *
 * The jobs watched on a stream are posted, and their streams opened, before the worker starts: the stream replays
 * stored metrics but not earlier events, so this is what makes "received once" a statement about every warning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { saveDataset } from '../../src/datasets/store.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import { sha256Hex } from '../../src/models/export-document.js';
import type { JobWarning } from '../../src/queue/job-events.js';
import type { JobView } from '../../src/routes/jobs/schemas.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { listen, openStream, type StreamClient, type StreamMessage } from '../helpers/streams.js';
import { createSpiral, ownInstallation, startWorker, submitJob, waitForJob, type Installation } from './helpers.js';

/** A grid every 2 epochs (and after the last), 20 × 20 points. */
const WORKER = { DECISION_GRID_EVERY_EPOCHS: '2', DECISION_GRID_RESOLUTION: '20' };

/** CS231n: "as much as 40% of your network can be dead if the learning rate is set too high". */
const DEAD_RELU_JOB = {
  network: { layers: [{ units: 100, activation: 'relu' }] },
  optimizer: { type: 'sgd', learningRate: 5 },
  training: { epochs: 10, batchSize: 32, validationFraction: 0.1, seed: 42 },
  metrics: { everySteps: 5 },
};

const HEALTHY_JOB = {
  network: { layers: [{ units: 50, activation: 'relu' }, { units: 20, activation: 'tanh' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 20, batchSize: 32, validationFraction: 0.1, seed: 1 },
  metrics: { everySteps: 2 },
};

/** A tiny noisy dataset, a big network, no regularization, many epochs. */
const OVERFITTING_JOB = {
  network: { layers: [{ units: 100, activation: 'relu' }, { units: 100, activation: 'relu' }] },
  regularization: { l2: 0 },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 80, batchSize: 16, validationFraction: 0.4, seed: 4 },
  metrics: { everySteps: 100 },
};

const SIGMOID_NET = { layers: [{ units: 30, activation: 'sigmoid' }] };

const warningsOf = (s: StreamClient) => s.messages.filter((m) => m.type === 'warning');
const asWarning = (m: StreamMessage): JobWarning => ({
  code: m.code as JobWarning['code'], layer: m.layer as string | null, step: m.step, message: m.message as string, advice: m.advice as string,
});

describe('training-health warnings and decision grids (real worker)', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  let worker: Running;
  const watched: { deadRelu?: { id: string; stream: StreamClient }; healthy?: { id: string; stream: StreamClient } } = {};

  before(async () => {
    own = await ownInstallation('warnings');
    t = await buildTestApp(own.env);
    const base = await listen(t.app);
    tenant = await createTenant(t.services, 'warnings');
    spiralId = await createSpiral(t.services, tenant.id);
    for (const [name, body] of [['deadRelu', DEAD_RELU_JOB], ['healthy', HEALTHY_JOB]] as const) {
      const job = await submitJob(t.app, tenant, { datasetId: spiralId, ...body });
      const stream = await openStream(base, job.id, { key: tenant.key });
      await stream.waitFor((messages) => messages.some((m) => m.type === 'status' && m.status === 'queued')); // subscribed, caught up
      watched[name] = { id: job.id, stream };
    }
    worker = await startWorker(own, WORKER);
  });

  after(async () => {
    await worker?.stop('SIGTERM');
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  async function finished(jobId: string, ctx?: { diagnostic(message: string): void }): Promise<JobView> {
    const done = await waitForJob(t.services.db, jobId);
    assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    const view = (await request(t.app.server).get(`/v1/jobs/${jobId}`).set(tenant.auth).expect(200)).body as JobView;
    ctx?.diagnostic(`${view.totalSteps} steps; warnings: ${view.warnings.map((w) => `${w.code}${w.layer ? `/${w.layer}` : ''}@${w.step}`).join(', ') || 'none'}`);
    return view;
  }

  it('a ReLU net under SGD with a huge learning rate: DEAD_RELU with the CS231n advice, stored once and streamed once', async (ctx) => {
    const { id, stream } = watched.deadRelu!;
    const view = await finished(id, ctx);
    assert.equal((await stream.closed).code, 1000);

    const dead = view.warnings.filter((w) => w.code === 'DEAD_RELU');
    assert.equal(dead.length, 1, JSON.stringify(view.warnings));
    assert.equal(dead[0]!.layer, 'dense1');
    assert.match(dead[0]!.message, /^\d+% of the relu units of layer dense1 were never active/);
    assert.match(dead[0]!.advice, /learning rate is likely too high/);
    const keys = view.warnings.map((w) => `${w.code}:${w.layer}`);
    assert.equal(new Set(keys).size, keys.length, 'each code and layer once');

    // The stream carried exactly the stored warnings, each once, each after the metrics record it was raised at.
    assert.deepEqual(warningsOf(stream).map(asWarning), view.warnings);
    for (const w of warningsOf(stream)) {
      const at = stream.messages.indexOf(w);
      assert.ok(stream.messages.slice(0, at).some((m) => m.type === 'metrics' && m.step === w.step), `the ${w.code} event follows its record`);
    }
  });

  it('a healthy spiral job: no DEAD_RELU or SATURATED; decision grids of resolution² classes stream every 2 epochs and at the end', async (ctx) => {
    const { id, stream } = watched.healthy!;
    const view = await finished(id, ctx);
    assert.equal((await stream.closed).code, 1000);
    assert.deepEqual(view.warnings.filter((w) => w.code === 'DEAD_RELU' || w.code === 'SATURATED'), []);
    assert.deepEqual(warningsOf(stream).map(asWarning), view.warnings);

    const grids = stream.messages.filter((m) => m.type === 'decision');
    assert.deepEqual(grids.map((g) => g.epoch), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20], 'epochs counted from 1: every 2nd, and the last');
    const dataset = await request(t.app.server).get(`/v1/datasets/${spiralId}`).set(tenant.auth).expect(200);
    const [fx, fy] = dataset.body.stats as { min: number; max: number }[];
    for (const g of grids) {
      assert.equal(g.resolution, 20);
      assert.deepEqual([g.xRange, g.yRange], [[fx!.min, fx!.max], [fy!.min, fy!.max]], 'the raw data’s bounding box');
      const classes = g.classes as number[];
      assert.equal(classes.length, 400);
      assert.ok(classes.every((c) => Number.isInteger(c) && c >= 0 && c < 3));
      const at = stream.messages.indexOf(g);
      assert.equal(stream.messages[at - 1]!.type, 'metrics', 'a grid follows the epoch-end record it belongs to');
      assert.equal(stream.messages[at - 1]!.step, g.step);
    }
    assert.equal(new Set(grids.at(-1)!.classes as number[]).size, 3, 'the trained network paints all three arms');
  });

  it('a big net without regularization on a small noisy dataset: OVERFITTING with the advice to regularize', async (ctx) => {
    // 180 rows, 72 of them validation (OVERFITTING needs ≥ 50), where the validation accuracy falls as the loss rises.
    const set = generateSynthetic('spiral', { n: 60, classes: 3, noise: 0.5 }, 1);
    const tiny = await saveDataset(t.services.db, tenant.id, {
      name: 'tiny spiral', source: 'synthetic', features: 2, featureNames: set.featureNames, targetName: set.targetName,
      task: 'classification', x: set.x, y: set.y as Int32Array, classNames: set.classNames,
    });
    const job = await submitJob(t.app, tenant, { datasetId: tiny.id, ...OVERFITTING_JOB });
    const view = await finished(job.id, ctx);
    const overfitting = view.warnings.filter((w) => w.code === 'OVERFITTING');
    assert.equal(overfitting.length, 1, JSON.stringify(view.warnings));
    assert.equal(overfitting[0]!.layer, null);
    assert.match(overfitting[0]!.message, /validation loss rose from .* while the training loss fell .* and valAccuracy worsened from/);
    assert.match(overfitting[0]!.advice, /add regularization/);
  });

  it('a sigmoid net started from huge weights: SATURATED, "initial weights too large", "prefer ReLU"', async (ctx) => {
    // A trained sigmoid model, exported, its weights multiplied by 40, imported again: the warm start of the next job.
    const base = await submitJob(t.app, tenant, { datasetId: spiralId, network: SIGMOID_NET, training: { epochs: 1, seed: 3 } });
    const { modelId } = await finished(base.id);
    const exported = (await request(t.app.server).get(`/v1/models/${modelId}/export`).set(tenant.auth).expect(200)).body;
    const bytes = Buffer.from(exported.weights.data, 'base64');
    const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).map((w) => w * 40);
    const scaled = new Uint8Array(weights.buffer);
    exported.weights = { ...exported.weights, data: Buffer.from(scaled).toString('base64'), sha256: sha256Hex(scaled) };
    const imported = await request(t.app.server).post('/v1/models/import').set(tenant.auth).send(exported).expect(201);

    const job = await submitJob(t.app, tenant, {
      datasetId: spiralId, warmStartModelId: imported.body.id, network: SIGMOID_NET, training: { epochs: 5, seed: 3 }, metrics: { everySteps: 5 },
    });
    const view = await finished(job.id, ctx);
    const saturated = view.warnings.filter((w) => w.code === 'SATURATED');
    assert.deepEqual(saturated.map((w) => w.layer), ['dense1'], JSON.stringify(view.warnings));
    assert.match(saturated[0]!.message, /of the sigmoid units of layer dense1 are saturated/);
    assert.match(saturated[0]!.advice, /initial weights are likely too large/);
    assert.match(saturated[0]!.advice, /Prefer ReLU/);
  });
});
