/**
 * The model registry (issue 12 item 3): models of one name are numbered versions (assigned by the database, race-safe),
 * aliases point at one version, predict and read by `name@alias` / `name@version`, PATCH name, description and tags.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createModel } from '../../src/db/repositories/models.js';
import { artifactColumns } from '../../src/models/artifact.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { irisData, storeModel, trainModel, type TrainedModel } from '../helpers/models.js';

describe('model registry: versions and aliases', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let iris: TrainedModel;
  let other: TrainedModel;
  const ids: string[] = [];
  const rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]];

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services, 'registry');
    iris = await trainModel(irisData(), { epochs: 40, seed: 1 });
    other = await trainModel(irisData(), { epochs: 5, seed: 2 });
    ids.push(await storeModel(t.services, tenant.id, iris.artifact, 'iris'));
    ids.push(await storeModel(t.services, tenant.id, other.artifact, 'iris'));
    ids.push(await storeModel(t.services, tenant.id, iris.artifact, 'iris'));
  });
  after(() => t.close());

  const api = () => request(t.app.server);

  it('numbers the models of a name 1, 2, 3 and lists them newest version first', async () => {
    const res = await api().get('/v1/models/by-name/iris/versions').set(tenant.auth).expect(200);
    assert.equal(res.body.name, 'iris');
    assert.deepEqual(res.body.items.map((m: { id: string; version: number }) => [m.version, m.id]), [[3, ids[2]], [2, ids[1]], [1, ids[0]]]);
    const model = await api().get(`/v1/models/${ids[1]}`).set(tenant.auth).expect(200);
    assert.equal(model.body.version, 2);
    assert.deepEqual(model.body.aliases, []);
    assert.equal((await api().get('/v1/models/by-name/nope/versions').set(tenant.auth).expect(404)).body.code, 'MODEL_VERSION_NOT_FOUND');
    const stranger = await createTenant(t.services, 'stranger');
    await api().get('/v1/models/by-name/iris/versions').set(stranger.auth).expect(404);
    assert.equal(await storeModel(t.services, stranger.id, iris.artifact, 'iris').then((id) => t.services.db.model.findUniqueOrThrow({ where: { id } })).then((m) => m.version), 1, 'versions are per tenant');
  });

  it('assigns distinct versions to models named at the same time', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, () => createModel(t.services.db, tenant.id, { name: 'burst', jobId: null, datasetId: null, ...artifactColumns(iris.artifact) })));
    assert.deepEqual(created.map((m) => m.version).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('points aliases at versions; predicts and reads by name@alias and name@version', async () => {
    const put = await api().put('/v1/models/by-name/iris/aliases/production').set(tenant.auth).send({ version: 1 }).expect(200);
    assert.equal(put.body.id, ids[0]);
    assert.deepEqual(put.body.aliases, ['production']);
    await api().put('/v1/models/by-name/iris/aliases/staging').set(tenant.auth).send({ version: 2 }).expect(200);

    const byId = await api().post(`/v1/models/${ids[0]}/predict`).set(tenant.auth).send({ rows }).expect(200);
    const byAlias = await api().post('/v1/models/by-name/iris@production/predict').set(tenant.auth).send({ rows }).expect(200);
    assert.equal(byAlias.body.modelId, ids[0]);
    assert.deepEqual(byAlias.body.predictions, byId.body.predictions);
    const byVersion = await api().post('/v1/models/by-name/iris@2/predict').set(tenant.auth).send({ rows }).expect(200);
    assert.equal(byVersion.body.modelId, ids[1]);
    const latest = await api().post('/v1/models/by-name/iris/predict').set(tenant.auth).send({ rows }).expect(200);
    assert.equal(latest.body.modelId, ids[2], 'a bare name is the latest version');
    const csv = await api().post('/v1/models/by-name/iris@staging/predict').set(tenant.auth).set('content-type', 'text/csv').send('5.1,3.5,1.4,0.2\n').expect(200);
    assert.equal(csv.body.modelId, ids[1]);

    // Moving the alias: predict follows it.
    await api().put('/v1/models/by-name/iris/aliases/production').set(tenant.auth).send({ version: 3 }).expect(200);
    assert.equal((await api().post('/v1/models/by-name/iris@production/predict').set(tenant.auth).send({ rows }).expect(200)).body.modelId, ids[2]);
    assert.equal((await api().get('/v1/models/by-name/iris@production').set(tenant.auth).expect(200)).body.id, ids[2]);
    assert.equal((await api().get('/v1/models/by-name/iris@1').set(tenant.auth).expect(200)).body.id, ids[0]);
    const versions = await api().get('/v1/models/by-name/iris/versions').set(tenant.auth).expect(200);
    assert.deepEqual(versions.body.items.map((m: { aliases: string[] }) => m.aliases), [['production'], ['staging'], []]);

    assert.equal((await api().post('/v1/models/by-name/iris@canary/predict').set(tenant.auth).send({ rows }).expect(404)).body.code, 'MODEL_NOT_FOUND');
    assert.equal((await api().get('/v1/models/by-name/iris@9').set(tenant.auth).expect(404)).body.code, 'MODEL_VERSION_NOT_FOUND');
    assert.equal((await api().put('/v1/models/by-name/iris/aliases/canary').set(tenant.auth).send({ version: 9 }).expect(404)).body.code, 'MODEL_VERSION_NOT_FOUND');
    assert.equal((await api().put('/v1/models/by-name/iris/aliases/9').set(tenant.auth).send({ version: 1 }).expect(400)).body.code, 'VALIDATION_FAILED');
    assert.equal((await api().put('/v1/models/by-name/iris/aliases/x').set(tenant.auth).send({ version: 0 }).expect(400)).body.code, 'VALIDATION_FAILED');
    const stranger = await createTenant(t.services, 'stranger');
    await api().post('/v1/models/by-name/iris@production/predict').set(stranger.auth).send({ rows }).expect(404);

    await api().delete('/v1/models/by-name/iris/aliases/staging').set(tenant.auth).expect(204);
    assert.equal((await api().delete('/v1/models/by-name/iris/aliases/staging').set(tenant.auth).expect(404)).body.code, 'MODEL_VERSION_NOT_FOUND');
    assert.equal((await api().post('/v1/models/by-name/iris@staging/predict').set(tenant.auth).send({ rows }).expect(404)).body.code, 'MODEL_NOT_FOUND');
  });

  it('PATCH sets description and tags; a new name makes the model the next version of that name and drops its aliases', async () => {
    const id = await storeModel(t.services, tenant.id, iris.artifact, 'patchme');
    await api().put('/v1/models/by-name/patchme/aliases/production').set(tenant.auth).send({ version: 1 }).expect(200);
    const edited = await api().patch(`/v1/models/${id}`).set(tenant.auth).send({ description: 'first try', tags: ['iris', 'baseline', 'iris'] }).expect(200);
    assert.equal(edited.body.description, 'first try');
    assert.deepEqual(edited.body.tags, ['iris', 'baseline']);
    assert.equal(edited.body.version, 1);
    assert.deepEqual(edited.body.aliases, ['production'], 'description and tags keep the version and aliases');

    const renamed = await api().patch(`/v1/models/${id}`).set(tenant.auth).send({ name: 'iris' }).expect(200);
    assert.equal(renamed.body.name, 'iris');
    assert.equal(renamed.body.version, 4, 'after versions 1–3 of iris');
    assert.deepEqual(renamed.body.aliases, []);
    assert.equal(renamed.body.description, 'first try');
    await api().post('/v1/models/by-name/patchme@production/predict').set(tenant.auth).send({ rows }).expect(404);
    const cleared = await api().patch(`/v1/models/${id}`).set(tenant.auth).send({ description: null, tags: [] }).expect(200);
    assert.equal(cleared.body.description, null);
    assert.deepEqual(cleared.body.tags, []);

    assert.equal((await api().patch(`/v1/models/${id}`).set(tenant.auth).send({ nmae: 'x' }).expect(400)).body.code, 'VALIDATION_FAILED');
    assert.equal((await api().patch(`/v1/models/${id}`).set(tenant.auth).send({}).expect(400)).body.code, 'VALIDATION_FAILED');
    const stranger = await createTenant(t.services, 'stranger');
    assert.equal((await api().patch(`/v1/models/${id}`).set(stranger.auth).send({ name: 'mine' }).expect(404)).body.code, 'MODEL_NOT_FOUND');
  });

  it('deleting a model removes the aliases that pointed at it', async () => {
    const id = await storeModel(t.services, tenant.id, iris.artifact, 'short-lived');
    await api().put('/v1/models/by-name/short-lived/aliases/production').set(tenant.auth).send({ version: 1 }).expect(200);
    await api().delete(`/v1/models/${id}`).set(tenant.auth).expect(204);
    assert.equal(await t.services.db.modelAlias.count({ where: { modelId: id } }), 0);
    await api().post('/v1/models/by-name/short-lived@production/predict').set(tenant.auth).send({ rows }).expect(404);
  });
});
