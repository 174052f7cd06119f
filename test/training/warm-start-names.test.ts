/**
 * Issue 9 (6b): a warm start must match the dataset's feature and class names in order, not only their counts — a
 * dataset with reordered or renamed columns or classes would train on the wrong mapping. The API answers 400
 * JOB_SPEC_INVALID naming the first name that differs; a worker re-planning a stored job refuses it too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { saveDataset } from '../../src/datasets/store.js';
import { planJob } from '../../src/jobs/plan.js';
import { loadJobInputs } from '../../src/training/job-inputs.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { spiralData, storeModel, trainModel } from '../helpers/models.js';

const spiral = spiralData();

describe('warm start: feature and class names must match', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let modelId: string;

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'warm-names');
    const trained = await trainModel(spiral, { epochs: 5 }); // features x, y; classes arm0, arm1, arm2; one layer of 16 ReLUs
    await trained.context.close();
    modelId = await storeModel(t.services, tenant.id, trained.artifact, 'spiral');
  });
  after(() => t.close());

  /** The spiral stored under other feature / class names (the class indices of the rows unchanged). */
  async function dataset(featureNames: string[], classNames: string[]): Promise<string> {
    const meta = await saveDataset(t.services.db, tenant.id, {
      name: 'spiral', source: 'synthetic', features: 2, featureNames, targetName: 'arm', task: 'classification',
      x: spiral.x, y: spiral.y as Int32Array, classNames,
    });
    return meta.id;
  }

  const warmJob = (datasetId: string) => request(t.app.server).post('/v1/jobs?dryRun=true').set(tenant.auth)
    .send({ datasetId, warmStartModelId: modelId, network: { layers: [{ units: 16 }] }, training: { epochs: 1 } });

  it('accepts a dataset with the same names in the same order', async () => {
    const res = await warmJob(await dataset(['x', 'y'], ['arm0', 'arm1', 'arm2']));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('answers 400 JOB_SPEC_INVALID naming the feature or class that differs', async () => {
    const cases: [string[], string[], { what: string; index: number; model: string | null; dataset: string | null }, RegExp][] = [
      [['y', 'x'], ['arm0', 'arm1', 'arm2'], { what: 'featureNames', index: 0, model: 'x', dataset: 'y' },
        /feature 0 of model .* is "x", of dataset .* "y" \(the dataset has "x" as feature 1\)/],
      [['x', 'z'], ['arm0', 'arm1', 'arm2'], { what: 'featureNames', index: 1, model: 'y', dataset: 'z' }, /feature 1 of model .* is "y", of dataset .* "z"/],
      [['x', 'y'], ['arm0', 'arm2', 'arm1'], { what: 'classNames', index: 1, model: 'arm1', dataset: 'arm2' },
        /class 1 of model .* is "arm1", of dataset .* "arm2" \(the dataset has "arm1" as class 2\)/],
      [['x', 'y'], ['arm0', 'arm1', 'spiral'], { what: 'classNames', index: 2, model: 'arm2', dataset: 'spiral' }, /class 2 of model .* is "arm2"/],
    ];
    for (const [featureNames, classNames, mismatch, detail] of cases) {
      const res = await warmJob(await dataset(featureNames, classNames));
      const label = `${featureNames.join(',')} / ${classNames.join(',')}`;
      assert.equal(res.status, 400, label);
      assert.equal(res.body.code, 'JOB_SPEC_INVALID', label);
      assert.match(res.body.detail, /^warmStartModelId: /, label);
      assert.match(res.body.detail, detail, label);
      assert.match(res.body.detail, new RegExp(`a warm start needs the model's ${mismatch.what} in the same order`), label);
      assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ['warmStartModelId'], label);
      assert.deepEqual(res.body.errors[0].mismatch, mismatch, label);
    }
  });

  it('names an extra or missing class by its place', async () => {
    const four = Int32Array.from(spiral.y as Int32Array, (c, i) => (i === 0 ? 3 : c));
    const meta = await saveDataset(t.services.db, tenant.id, {
      name: 'four arms', source: 'synthetic', features: 2, featureNames: ['x', 'y'], targetName: 'arm', task: 'classification',
      x: spiral.x, y: four, classNames: ['arm0', 'arm1', 'arm2', 'arm3'],
    });
    const res = await warmJob(meta.id);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors[0].mismatch, { what: 'classNames', index: 3, model: null, dataset: 'arm3' });
    assert.match(res.body.detail, /model .* has 3 classes, dataset .* 4: the dataset's class 3 "arm3" is not in the model/);
  });

  it('a worker re-planning a stored job with mismatched names fails it with SPEC_INVALID', async () => {
    const datasetId = await dataset(['y', 'x'], ['arm0', 'arm1', 'arm2']);
    const facts = { id: datasetId, name: 'spiral', task: 'classification' as const, rows: spiral.n, features: 2, classes: 3 };
    // Planned without the names (as a job accepted before they were compared), then stored.
    const { spec } = planJob({ datasetId, network: { layers: [{ units: 16 }] }, training: { epochs: 1 } }, facts, { parameters: 1e9, epochRows: 1e12 });
    const job = await t.services.db.job.create({
      data: { tenantId: tenant.id, datasetId, warmStartId: modelId, spec: JSON.parse(JSON.stringify({ ...spec, warmStartModelId: modelId })) as object, parameterCount: 99, totalSteps: 6 },
    });
    const inputs = await loadJobInputs(t.services.db, job);
    assert.equal(inputs.kind, 'failed');
    assert.equal(inputs.kind === 'failed' && inputs.code, 'SPEC_INVALID');
    assert.match(inputs.kind === 'failed' ? inputs.reason : '', /feature 0 of model .* is "x", of dataset .* "y"/);
  });
});
