/**
 * Real worker processes against real Postgres and Redis: the spiral trains to ≥ 97% training accuracy and becomes a
 * model whose artifact predicts like the trained network; the same spec and seed give bit-identical weights; two
 * workers share a queue of several jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createReferenceContext } from '../../src/engine/reference-context.js';
import { artifactFromRow, networkFromArtifact } from '../../src/models/artifact.js';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import type { Running } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { createSpiral, metricCurve, postJob, startWorker, submitJob, waitForJob, ownInstallation, type Installation } from './helpers.js';

const SPIRAL_SPEC = {
  network: { layers: [{ units: 100, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 100, batchSize: 32, validationFraction: 0.1, seed: 42 },
  metrics: { everySteps: 5 },
};

describe('training jobs in worker processes', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let spiralId: string;
  const workers: Running[] = [];

  before(async () => {
    own = await ownInstallation('train');
    t = await buildTestApp({ ...own.env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTenant(t.services, 'train');
    spiralId = await createSpiral(t.services, tenant.id);
    workers.push(await startWorker(own), await startWorker(own));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await t?.services.trainingQueue.obliterate({ force: true });
    await t?.close();
    await own?.drop();
  });

  it('trains the spiral to ≥ 97% training accuracy and stores the model, its metrics and checkpoints', async (ctx) => {
    const job = await submitJob(t.app, tenant, { datasetId: spiralId, ...SPIRAL_SPEC });
    assert.equal(job.status, 'queued');
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', `${done.failureCode}: ${done.failureReason}`);
    assert.equal(done.step, done.totalSteps);

    const curve = await metricCurve(t.services.db, job.id);
    const last = curve[curve.length - 1]!;
    assert.equal(last.step, done.totalSteps);
    assert.ok(last.trainAccuracy! >= 0.97, `training accuracy ${last.trainAccuracy}`);
    ctx.diagnostic(`spiral: training accuracy ${last.trainAccuracy}, validation ${last.valAccuracy}, ${done.totalSteps} steps in ${done.finishedAt!.getTime() - done.startedAt!.getTime()} ms`);
    assert.ok(curve[0]!.trainLoss > last.trainLoss * 5, 'the loss fell');
    const epochEnds = curve.filter((r) => r.valLoss !== null);
    assert.equal(epochEnds.length, 100, 'one record with validation metrics per epoch');
    const layers = last.layers as { name: string; gradNorm: number; deadFraction: number | null }[];
    assert.deepEqual(layers.map((l) => l.name), ['dense1', 'output']);
    assert.ok(layers.every((l) => Number.isFinite(l.gradNorm)));

    const model = await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    const artifact = artifactFromRow(model);
    assert.deepEqual(artifact.classNames, ['0', '1', '2']);
    assert.equal(artifact.parameterCount, 2 * 100 + 100 + 100 * 3 + 3);
    assert.equal(artifact.inputRange.length, 2);

    // The artifact, loaded the way inference will, classifies the training data like the job measured.
    const data = (await loadDataset(t.services.db, tenant.id, spiralId))!;
    const { network, preprocessor } = networkFromArtifact(createReferenceContext(), artifact);
    const result = network.evaluate(preprocessor.apply(data.x, data.meta.rows), data.y, data.meta.rows);
    assert.ok(result.accuracy! >= 0.97, `model accuracy on the dataset ${result.accuracy}`);

    const checkpoints = await t.services.db.checkpoint.findMany({ where: { jobId: job.id } });
    assert.ok(checkpoints.length >= 1 && checkpoints.length <= 4, `${checkpoints.length} checkpoints kept (last 3 + best)`);
    assert.equal(checkpoints.filter((c) => c.isBest).length, 1);
    assert.equal(checkpoints.filter((c) => c.isFinal).length, 1);

    const view = await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: tenant.auth });
    assert.equal(view.json().modelId, model.id);
    assert.equal(view.json().status, 'succeeded');
  });

  it('warm-starts a job from a model of the same architecture, and refuses another architecture', async () => {
    const model = await t.services.db.model.findFirstOrThrow({ where: { tenantId: tenant.id }, include: { job: true } });
    const cold = await metricCurve(t.services.db, model.jobId!);
    const mismatch = await postJob(t.app, tenant, { datasetId: spiralId, warmStartModelId: model.id, network: { layers: [{ units: 50 }] } });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.code, 'JOB_SPEC_INVALID');
    assert.match(mismatch.body.detail, /another architecture/);

    const job = await submitJob(t.app, tenant, { datasetId: spiralId, ...SPIRAL_SPEC, warmStartModelId: model.id, training: { ...SPIRAL_SPEC.training, epochs: 2 } });
    assert.equal(job.warmStartModelId, model.id);
    const done = await waitForJob(t.services.db, job.id);
    assert.equal(done.status, 'succeeded', done.failureReason ?? '');
    const warm = await metricCurve(t.services.db, job.id);
    assert.ok(warm[0]!.trainLoss < cold[0]!.trainLoss / 3, `first warm loss ${warm[0]!.trainLoss}, first cold loss ${cold[0]!.trainLoss}`);
    assert.ok(warm[warm.length - 1]!.trainAccuracy! >= 0.95);
    const warmModel = await t.services.db.model.findUniqueOrThrow({ where: { jobId: job.id } });
    assert.deepEqual(warmModel.preprocessing, model.preprocessing, 'the model’s fitted preprocessing is reused');
  });

  it('same spec and seed twice → bit-identical weights and metric curves; two workers share a queue of several jobs', async () => {
    const spec = { datasetId: spiralId, ...SPIRAL_SPEC, training: { ...SPIRAL_SPEC.training, epochs: 15, seed: 7 } };
    const other = { ...spec, training: { ...spec.training, seed: 8 } };
    // Submitted together, so that both idle workers are handed one at once (one by one, the first job could be done
    // before the second arrives, and a worker the machine keeps off the CPU could leave all four to the other).
    const jobs = await Promise.all([spec, spec, other, other].map((body) => submitJob(t.app, tenant, body)));
    const finished = await Promise.all(jobs.map((j) => waitForJob(t.services.db, j.id)));
    assert.deepEqual(finished.map((j) => j.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const owners = new Set(await leaseOwners(jobs.map((j) => j.id)));
    assert.equal(owners.size, 2, `both workers trained: ${[...owners].join(', ')}`);

    const models = await Promise.all(jobs.map((j) => t.services.db.model.findUniqueOrThrow({ where: { jobId: j.id } })));
    assert.deepEqual(Buffer.from(models[0]!.weights), Buffer.from(models[1]!.weights));
    assert.deepEqual(Buffer.from(models[2]!.weights), Buffer.from(models[3]!.weights));
    assert.notDeepEqual(Buffer.from(models[0]!.weights), Buffer.from(models[2]!.weights));
    assert.deepEqual(stripLayers(await metricCurve(t.services.db, jobs[0]!.id)), stripLayers(await metricCurve(t.services.db, jobs[1]!.id)));
  });

  /**
   * The worker that ran each job, from its 'training run ended' log line. A worker logs it once the run's last events
   * are handed to Redis, which may be a moment after the job is stored as finished: wait for every line.
   */
  async function leaseOwners(ids: string[]): Promise<string[]> {
    return waitFor('every job\'s "training run ended" log line', () => {
      const lines = workers.flatMap((w) => w.output().split('\n')).filter((l) => l.includes('training run ended'));
      const owners = ids.map((id) => lines.find((l) => l.includes(id)));
      return owners.every((l) => l !== undefined) ? owners.map((l) => (JSON.parse(l) as { workerId: string }).workerId) : undefined;
    });
  }
});

function stripLayers<T extends { jobId: string }>(rows: T[]): Omit<T, 'jobId'>[] {
  return rows.map(({ jobId: _j, ...rest }) => rest);
}
