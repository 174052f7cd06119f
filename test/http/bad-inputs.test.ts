/**
 * Bad inputs, table-driven (the table is test/http/bad-input-cases.ts): for every case, the status and the stable
 * `code` in one problem+json shape (or, for WebSocket frames, the close code); that nothing was written (rows of
 * Dataset, DatasetChunk, Job, Model, Metric and Checkpoint, and BullMQ jobs, counted before and after); and that the
 * service is healthy afterwards (GET /health, and a valid request of the same kind still succeeds).
 *
 * The file has a database and queue namespace of its own, so the counts are exact whatever other test files do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERRORS, type ErrorCode } from '../../src/errors.js';
import { buildTestApp, createTenant, type TestApp } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { irisData, spiralData, storeModel, trainModel } from '../helpers/models.js';
import { createJobRow, listen } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { createSpiral, createTable } from '../training/helpers.js';
import { CASES, http, upgrade, type Answer, type Expectation, type Fixtures, type Group } from './bad-input-cases.js';

const GOOD_CSV = 'a,b,y\n1,2,x\n3,4,z\n';

describe('bad inputs', () => {
  let own: Installation;
  let t: TestApp;
  let limited: TestApp;
  let f: Fixtures;

  before(async () => {
    own = await ownInstallation('bad_inputs');
    // About a thousand requests of one key: no rate limit here (it has tests of its own).
    const env = { ...own.env, RATE_LIMIT_PER_MINUTE: '0' };
    t = await buildTestApp(env);
    limited = await buildTestApp({
      ...env, MAX_CLASSES: '3', MAX_DATASET_ROWS: '5', MAX_DATASET_FEATURES: '3', MAX_UPLOAD_BYTES: '2000',
      MAX_PARAMETERS: '100000', MAX_EPOCH_ROWS: '1000000',
    });
    const wsBase = await listen(t.app);
    const [tenant, other] = await Promise.all([createTenant(t.services, 'bad-inputs'), createTenant(t.services, 'bad-inputs-other')]);
    const [iris, spiral] = [await trainModel(irisData(), { epochs: 20 }), await trainModel(spiralData(20), { epochs: 20 })];
    const irisModelId = await storeModel(t.services, tenant.id, iris.artifact, 'iris');
    const exported = await http(t.app, 'get', `/v1/models/${irisModelId}/export`, { auth: tenant.auth });
    assert.equal(exported.kind === 'http' && exported.status, 200);
    f = {
      app: t.app,
      limited: limited.app,
      wsBase,
      tenant,
      other,
      spiralId: await createSpiral(t.services, tenant.id, 100),
      regressionId: await createTable(t.services, tenant.id, { rows: 60, features: 3 }),
      otherDatasetId: await createSpiral(t.services, other.id, 100),
      irisModelId,
      spiralModelId: await storeModel(t.services, tenant.id, spiral.artifact, 'spiral'),
      otherModelId: await storeModel(t.services, other.id, iris.artifact, 'iris of another tenant'),
      irisExport: (exported as Extract<Answer, { kind: 'http' }>).body!,
      runningJobId: await createJobRow(t.services, tenant.id, 'running'),
      otherJobId: await createJobRow(t.services, other.id, 'running'),
    };
    await Promise.all([iris.context.close(), spiral.context.close()]);
  });

  after(async () => {
    await t?.services.trainingQueue.obliterate({ force: true });
    await Promise.all([t?.close(), limited?.close()]);
    await own?.drop();
  });

  /** Everything a bad input must leave unchanged. */
  async function snapshot() {
    const db = t.services.db;
    const [datasets, chunks, jobs, models, metrics, checkpoints, queued] = await Promise.all([
      db.dataset.count(), db.datasetChunk.count(), db.job.count(), db.model.count(), db.metric.count(), db.checkpoint.count(),
      t.services.trainingQueue.getJobCounts(),
    ]);
    return { datasets, chunks, jobs, models, metrics, checkpoints, queued };
  }

  function check(answer: Answer, expected: Expectation, presentedKey: string): void {
    if ('close' in expected) {
      assert.equal(answer.kind, 'close', `the stream was accepted: ${JSON.stringify(answer)}`);
      assert.equal(answer.kind === 'close' && answer.code, expected.close);
      return;
    }
    assert.equal(answer.kind, 'http', `an HTTP answer, not ${JSON.stringify(answer)}`);
    if (answer.kind !== 'http') return;
    const shown = answer.text.slice(0, 600);
    assert.equal(answer.status, expected.status, shown);
    assert.equal(ERRORS[expected.code].status, expected.status, `the table agrees with src/errors.ts on ${expected.code}`);
    assert.match(String(answer.headers['content-type']), /^application\/problem\+json/, shown);
    const body = answer.body;
    assert.ok(body, `a JSON body: ${shown}`);
    assert.equal(body.code, expected.code, shown);
    assert.equal(body.status, expected.status, shown);
    assert.equal(body.type, `urn:trainyard:problem:${expected.code.toLowerCase().replaceAll('_', '-')}`);
    assert.equal(body.title, ERRORS[body.code as ErrorCode].title);
    assert.equal(typeof body.detail, 'string');
    assert.ok(answer.headers['x-request-id'], 'x-request-id');
    assert.equal(body.requestId, answer.headers['x-request-id']);
    assert.equal(body.stack, undefined);
    assert.ok(!answer.text.includes(presentedKey), 'the key is not echoed');
    for (const [key, value] of Object.entries(expected.fields ?? {})) assert.deepEqual(body[key], value, `${key} in ${shown}`);
  }

  const ok = (answer: Answer, status: number, what: string) =>
    assert.equal(answer.kind === 'http' ? answer.status : answer.kind, status, `${what}: ${answer.kind === 'http' ? answer.text.slice(0, 400) : JSON.stringify(answer)}`);

  /** GET /health on both apps, and a valid request of the case's kind. */
  async function healthy(group: Group): Promise<void> {
    for (const app of [f.app, f.limited]) ok(await http(app, 'get', '/health'), 200, 'GET /health');
    const auth = f.tenant.auth;
    switch (group) {
      case 'upload':
        for (const app of [f.app, f.limited]) {
          const created = await http(app, 'post', '/v1/datasets?name=valid', { auth, body: GOOD_CSV, contentType: 'text/csv' });
          ok(created, 201, 'a valid upload');
          const id = created.kind === 'http' ? (created.body!.id as string) : '';
          ok(await http(app, 'delete', `/v1/datasets/${id}`, { auth }), 204, 'deleting it');
        }
        return;
      case 'spec': {
        const submitted = await http(f.app, 'post', '/v1/jobs', { auth, body: { datasetId: f.spiralId, training: { epochs: 1 } } });
        ok(submitted, 201, 'a valid job');
        const id = submitted.kind === 'http' ? (submitted.body!.id as string) : '';
        ok(await http(f.app, 'post', `/v1/jobs/${id}/cancel`, { auth }), 200, 'cancelling it while queued');
        return;
      }
      case 'predict':
        ok(await http(f.app, 'post', `/v1/models/${f.irisModelId}/predict`, { auth, body: { rows: [[5.1, 3.5, 1.4, 0.2]] } }), 200, 'a valid prediction');
        return;
      case 'websocket': {
        const opened = await upgrade(f.wsBase, `/v1/jobs/${f.runningJobId}/stream`, auth, (ws) => new Promise((resolve, reject) => {
          ws.once('message', (data) => {
            ws.close();
            const event = JSON.parse(String(data)) as { type: string; status?: string };
            resolve({ kind: 'close', code: event.type === 'status' && event.status === 'running' ? 0 : -1, reason: String(data) });
          });
          ws.once('error', reject);
        }));
        assert.deepEqual(opened.kind === 'close' && opened.code, 0, `a valid stream sends the job's status first: ${JSON.stringify(opened)}`);
        return;
      }
      case 'params':
        ok(await http(f.app, 'get', `/v1/datasets/${f.spiralId}/rows?offset=1&limit=2`, { auth }), 200, 'a valid dataset read');
        ok(await http(f.app, 'get', `/v1/jobs/${f.runningJobId}/metrics?since=-1&limit=5`, { auth }), 200, 'a valid metrics read');
        return;
    }
  }

  it(`has at least 60 cases, in every group (${CASES.length})`, () => {
    assert.ok(CASES.length >= 60);
    const groups = new Set(CASES.map((c) => c.group));
    assert.deepEqual([...groups].sort(), ['params', 'predict', 'spec', 'upload', 'websocket']);
    assert.equal(new Set(CASES.map((c) => `${c.group}: ${c.name}`)).size, CASES.length, 'case names are unique');
  });

  for (const c of CASES) {
    it(`${c.group}: ${c.name}`, async () => {
      const before = await snapshot();
      const answer = await c.send(f);
      check(answer, c.expect, 'ty_nope_nope');
      assert.deepEqual(await snapshot(), before, 'nothing was written');
      await healthy(c.group);
    });
  }

  it('leaves no transaction open behind the refused requests', async () => {
    await waitFor('no open transaction in the database', async () => {
      const [{ open }] = await t.services.db.$queryRaw<{ open: bigint }[]>`
        SELECT count(*) AS open FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
      return open === 0n ? true : undefined;
    });
  });
});
