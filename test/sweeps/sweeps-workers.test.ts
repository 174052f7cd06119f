/**
 * Sweeps with real worker processes (two, so that maxConcurrent is what holds trials back):
 * - the CS231n regularization figure: λ = 0.001, 0.01, 0.1 on the spiral (2-100-3) gives three models whose decision
 *   grids get smoother as λ grows (measured as the total variation of the predicted probabilities between neighbouring
 *   grid cells, and the number of class changes between them); the leaderboard marks the best trial's model; trials
 *   never overlapped (maxConcurrent 1, from the stored start and finish times); the sweep stream carried the events of
 *   several trials;
 * - ASHA prunes the trials that are worse at a rung (status pruned, with the reason) and promotes the others;
 * - cancelling a sweep stops its running trial and releases no more.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import WebSocket from 'ws';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { createSpiral, ownInstallation, startWorker, waitUntil, type Installation } from '../training/helpers.js';

interface Trial {
  trial: number;
  parameters: Record<string, number>;
  jobId: string | null;
  status: string;
  metric: number | null;
  modelId: string | null;
  best: boolean;
  failure: { code: string | null; reason: string } | null;
}

describe('sweeps in worker processes', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  let address: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('sweeps');
    t = await buildTestApp({ ...own.env });
    address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'sweeps');
    spiralId = await createSpiral(t.services, tenant.id, 100);
    workers.push(...(await Promise.all([startWorker(own), startWorker(own)])));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  const api = () => request(t.app.server);
  const createSweep = async (body: object) => {
    const res = await api().post('/v1/sweeps').set(tenant.auth).send(body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; trials: Trial[] };
  };
  const readSweep = async (id: string) => (await api().get(`/v1/sweeps/${id}`).set(tenant.auth)).body as { status: string; trials: Trial[]; bestModelId: string | null };
  const finished = (id: string, timeoutMs = 240_000) => waitUntil(`sweep ${id} finished`, async () => {
    const s = await readSweep(id);
    return s.status === 'running' ? undefined : s;
  }, timeoutMs, 200);

  it('λ = 0.001, 0.01, 0.1 on the spiral: three models, smoother decision regions with larger λ; one trial at a time; one stream for all', async () => {
    const sweep = await createSweep({
      name: 'spiral λ',
      spec: {
        datasetId: spiralId, network: { layers: [{ units: 100, activation: 'relu' }] }, optimizer: { type: 'adam', learningRate: 0.01 },
        training: { epochs: 300, batchSize: 270, validationFraction: 0.1, seed: 5 }, checkpoints: { everySteps: 100_000, everySeconds: 3600 },
        metrics: { everySteps: 10 },
      },
      parameters: { 'regularization.l2': { values: [0.001, 0.01, 0.1] } },
      method: 'grid', metric: 'validation.accuracy', maxConcurrent: 1,
    });
    // The stream, opened while the first trial runs: the later trials' events arrive on it too.
    const messages: { type: string; trial?: number; jobId?: string; status?: string }[] = [];
    const ws = new WebSocket(`${address.replace(/^http/, 'ws')}/v1/sweeps/${sweep.id}/stream`, { headers: tenant.auth });
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));

    const done = await finished(sweep.id);
    assert.equal(done.status, 'succeeded');
    const trials = [...done.trials].sort((a, b) => a.trial - b.trial);
    assert.deepEqual(trials.map((tr) => tr.status), ['succeeded', 'succeeded', 'succeeded']);
    assert.equal(new Set(trials.map((tr) => tr.modelId)).size, 3, 'three models');
    const best = done.trials.filter((tr) => tr.best);
    assert.equal(best.length, 1);
    assert.equal(best[0]!.modelId, done.bestModelId);
    assert.equal(done.trials[0]!.best, true, 'the best trial leads the leaderboard');

    // maxConcurrent 1 with two workers: each trial started after the previous one finished.
    const jobs = await t.services.db.job.findMany({ where: { sweepId: sweep.id }, orderBy: { startedAt: 'asc' } });
    for (let i = 1; i < jobs.length; i++) {
      assert.ok(jobs[i]!.startedAt! >= jobs[i - 1]!.finishedAt!, `trial ${jobs[i]!.sweepTrial} started before trial ${jobs[i - 1]!.sweepTrial} finished`);
    }

    // Smoothness of the decision regions, from the models' decision grids.
    const smoothness = [];
    for (const tr of trials) {
      const grid = await api().get(`/v1/models/${tr.modelId}/decision-grid?resolution=50`).set(tenant.auth);
      assert.equal(grid.status, 200);
      smoothness.push({ l2: tr.parameters['regularization.l2'], ...roughness(grid.body.outputs, grid.body.classes, 50) });
    }
    console.log('# smoothness', JSON.stringify(smoothness));
    assert.ok(smoothness[0]!.variation > smoothness[1]!.variation && smoothness[1]!.variation > smoothness[2]!.variation,
      `total variation of the probabilities falls as λ grows: ${JSON.stringify(smoothness)}`);
    assert.ok(smoothness[0]!.classChanges >= smoothness[2]!.classChanges, `no more class changes at λ 0.1 than at 0.001: ${JSON.stringify(smoothness)}`);

    // The stream: events of several trials, tagged; then the final sweep message and a normal close.
    assert.equal(await closed, 1000);
    const metricTrials = new Set(messages.filter((m) => m.type === 'metrics').map((m) => m.trial));
    assert.ok(metricTrials.size >= 2, `metrics of several trials on the stream (${[...metricTrials].join(', ')})`);
    assert.ok(messages.filter((m) => m.type === 'metrics').every((m) => m.jobId === trials[m.trial!]!.jobId));
    assert.equal(messages[0]!.type, 'sweep');
    const last = messages[messages.length - 1]!;
    assert.deepEqual([last.type, last.status], ['sweep', 'succeeded']);
  });

  it('ASHA prunes the trials that are worse at a rung (status pruned, with the reason) and promotes the others', async () => {
    const sweep = await createSweep({
      spec: {
        datasetId: spiralId, network: { layers: [{ units: 30 }] }, training: { batchSize: 16, seed: 2 }, metrics: { everySteps: 1 },
        checkpoints: { everySteps: 100_000, everySeconds: 3600 },
      },
      // Trial 0 learns; trials 1 and 2 barely move at their rate, so at the first rung they are behind trial 0.
      parameters: { 'optimizer.learningRate': { values: [0.01, 0.000001, 0.000002] } },
      method: 'asha', asha: { minEpochs: 2, maxEpochs: 18, reductionFactor: 3 }, metric: 'valLoss', maxConcurrent: 1,
    });
    const done = await finished(sweep.id);
    assert.equal(done.status, 'succeeded');
    const trials = [...done.trials].sort((a, b) => a.trial - b.trial);
    assert.deepEqual(trials.map((tr) => tr.status), ['succeeded', 'pruned', 'pruned']);
    for (const tr of trials.slice(1)) {
      assert.equal(tr.failure?.code, 'PRUNED');
      assert.match(tr.failure!.reason, /rung 2 epochs/);
      const job = await api().get(`/v1/jobs/${tr.jobId}`).set(tenant.auth);
      assert.equal(job.body.status, 'pruned');
      assert.ok(job.body.epoch < 18, `pruned trial stopped early (epoch ${job.body.epoch})`);
    }
    const promoted = await t.services.db.job.findUniqueOrThrow({ where: { id: trials[0]!.jobId! } });
    assert.equal(promoted.sweepRung, 6, 'promoted past both rungs (2 and 6 epochs)');
    assert.equal(promoted.epoch, 18);
    const listed = await api().get('/v1/jobs?status=pruned').set(tenant.auth);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items.length, 2);
  });

  it('cancel stops the running trial and releases no more', async () => {
    const sweep = await createSweep({
      spec: { datasetId: spiralId, network: { layers: [{ units: 64 }] }, training: { epochs: 5000, batchSize: 16, seed: 3 } },
      parameters: { 'regularization.l2': { values: [0.01, 0.1] } }, method: 'grid', metric: 'valLoss', maxConcurrent: 1,
    });
    const first = sweep.trials.find((tr) => tr.trial === 0)!;
    await waitUntil('trial 0 running', async () => {
      const job = await t.services.db.job.findUniqueOrThrow({ where: { id: first.jobId! } });
      return job.status === 'running' && job.step > 0 ? job : undefined;
    }, 120_000);
    const res = await api().post(`/v1/sweeps/${sweep.id}/cancel`).set(tenant.auth);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const done = await finished(sweep.id, 120_000);
    assert.equal(done.status, 'cancelled');
    const trials = [...done.trials].sort((a, b) => a.trial - b.trial);
    assert.deepEqual(trials.map((tr) => tr.status), ['cancelled', 'pending']);
  });
});

/** Total variation of the probabilities, and class changes, between horizontally and vertically neighbouring cells. */
function roughness(outputs: number[][], classes: number[], resolution: number): { variation: number; classChanges: number } {
  let variation = 0, classChanges = 0;
  const pair = (a: number, b: number) => {
    for (let k = 0; k < outputs[a]!.length; k++) variation += Math.abs(outputs[a]![k]! - outputs[b]![k]!);
    if (classes[a] !== classes[b]) classChanges++;
  };
  for (let r = 0; r < resolution; r++) {
    for (let c = 0; c < resolution; c++) {
      const p = r * resolution + c;
      if (c + 1 < resolution) pair(p, p + 1);
      if (r + 1 < resolution) pair(p, p + resolution);
    }
  }
  return { variation: Number(variation.toFixed(3)), classChanges };
}
