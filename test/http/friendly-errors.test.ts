/**
 * Validation problems a person can act on: an unknown field names the allowed fields and the nearest one, enums list
 * their values, a union answers one message per field; every route's 415 names what it accepts; plain HTTP on the
 * stream route is a 426 problem with `Upgrade: websocket`. Through both validators (TypeBox: /v1/jobs; Ajv: the rest).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { nearest } from '../../src/http/validation-messages.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';

interface Issue {
  path: string;
  message: string;
  allowed?: string[];
  suggestion?: string;
  allowedValues?: unknown[];
}
interface ProblemBody {
  code: string;
  detail: string;
  errors?: Issue[];
  accepted?: string[];
  [field: string]: unknown;
}

const NOISE = /schema is false|additional properties|anyOf|oneOf|must match a schema/i;

describe('friendly validation errors, 415 and 426', () => {
  let t: TestApp;
  let tenant: TestTenant;
  const datasetId = randomUUID();

  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
  });
  after(async () => t?.close());

  async function post(url: string, body: unknown): Promise<{ status: number; problem: ProblemBody }> {
    const res = await t.app.inject({ method: 'POST', url, headers: { ...tenant.auth, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, problem: res.json() as ProblemBody };
  }

  function only(problem: ProblemBody, path: string): Issue {
    assert.equal(problem.code, 'VALIDATION_FAILED', JSON.stringify(problem));
    const issues = problem.errors ?? [];
    assert.equal(issues.filter((i) => i.path === path).length, 1, `one issue at ${path}: ${JSON.stringify(issues)}`);
    for (const issue of issues) assert.doesNotMatch(issue.message, NOISE, JSON.stringify(issue));
    assert.doesNotMatch(problem.detail, NOISE);
    return issues.find((i) => i.path === path)!;
  }

  it('an unknown field of the job spec suggests the nearest and lists the allowed ones (TypeBox)', async () => {
    const { status, problem } = await post('/v1/jobs', { datasetId, optimizer: { type: 'adam', learning_rate: 0.01 } });
    assert.equal(status, 400);
    const issue = only(problem, 'body.optimizer.learning_rate');
    assert.equal(issue.suggestion, 'learningRate');
    assert.ok(issue.allowed?.includes('learningRate') && issue.allowed.includes('type'), JSON.stringify(issue));
    assert.match(issue.message, /did you mean `learningRate`\?/);
    assert.match(problem.detail, /^body\.optimizer\.learning_rate .*did you mean `learningRate`\?.*allowed fields: .*learningRate/);
  });

  it('an unknown top-level field, and an unknown query parameter, the same way', async () => {
    const top = await post('/v1/jobs', { datasetId, epochs: 5 });
    const issue = only(top.problem, 'body.epochs');
    assert.ok(issue.allowed?.includes('training'), JSON.stringify(issue));
    assert.match(issue.message, /allowed fields: /);

    const res = await t.app.inject({ method: 'GET', url: '/v1/jobs?limt=5', headers: tenant.auth });
    assert.equal(res.statusCode, 400);
    const query = only(res.json() as ProblemBody, 'querystring.limt');
    assert.equal(query.suggestion, 'limit');
  });

  it('an unknown field of a synthetic-dataset body suggests the nearest (Ajv)', async () => {
    const { status, problem } = await post('/v1/datasets/synthetic', { kind: 'spiral', noize: 0.1 });
    assert.equal(status, 400);
    const issue = only(problem, 'body.noize');
    assert.equal(issue.suggestion, 'noise');
    assert.ok(issue.allowed?.includes('seed'));
  });

  it('an enum lists its values', async () => {
    const { problem } = await post('/v1/jobs', { datasetId, optimizer: { type: 'adamm' } });
    const issue = only(problem, 'body.optimizer.type');
    assert.ok(issue.allowedValues?.includes('adam') && issue.allowedValues.includes('sgd'), JSON.stringify(issue));
    assert.match(issue.message, /^must be one of: .*adam/);
  });

  it('a union of literals is one message listing the values (Ajv)', async () => {
    const { problem } = await post('/v1/datasets/synthetic', { kind: 'spirals' });
    const issue = only(problem, 'body.kind');
    assert.deepEqual(issue.allowedValues, ['spiral', 'circles', 'xor', 'moons', 'blobs', 'sine']);
    assert.equal(issue.message, 'must be one of: spiral, circles, xor, moons, blobs, sine');
    assert.equal(problem.errors!.length, 1);
  });

  it('a nullable object that fails inside answers what failed inside, once', async () => {
    const { problem } = await post('/v1/jobs', { datasetId, training: { earlyStopping: { patience: 'x' } } });
    const issue = only(problem, 'body.training.earlyStopping.patience');
    assert.match(issue.message, /integer/);
    assert.ok(!problem.errors!.some((i) => i.path === 'body.training.earlyStopping'), JSON.stringify(problem.errors));
  });

  it('a value of the wrong type for a nullable field says what the union accepts', async () => {
    const { problem } = await post('/v1/jobs', { datasetId, warmStartModelId: 5 });
    const issue = only(problem, 'body.warmStartModelId');
    assert.equal(issue.message, 'must be a string (uuid) or null');
  });

  it('suggests only near names', () => {
    assert.equal(nearest('learning_rate', ['type', 'learningRate', 'momentum']), 'learningRate');
    assert.equal(nearest('epoch', ['epochs', 'batchSize']), 'epochs');
    assert.equal(nearest('colour', ['kind', 'n', 'seed']), undefined);
  });

  it('every route that takes a body names the content types it accepts in its 415', async () => {
    const posts = t.app.routeCatalog.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && !r.hidden);
    assert.ok(posts.length >= 8, `${posts.length} routes`);
    const problems: string[] = [];
    for (const route of posts) {
      const url = route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (name === 'name' ? 'iris' : randomUUID()));
      const res = await t.app.inject({ method: route.method as 'POST', url, headers: { ...tenant.auth, 'content-type': 'application/xml' }, payload: '<x/>' });
      const body = res.json() as ProblemBody;
      if (res.statusCode !== 415 || body.code !== 'UNSUPPORTED_MEDIA_TYPE') {
        problems.push(`${route.method} ${route.url}: ${res.statusCode} ${body.code}`);
        continue;
      }
      if (!Array.isArray(body.accepted) || body.accepted.length === 0) problems.push(`${route.method} ${route.url}: no accepted list`);
      for (const type of body.accepted ?? []) if (!body.detail.includes(type)) problems.push(`${route.method} ${route.url}: detail does not name ${type}`);
      if (body.contentType !== 'application/xml') problems.push(`${route.method} ${route.url}: the given type is not echoed`);
    }
    assert.deepEqual(problems, []);
    const upload = await t.app.inject({ method: 'POST', url: '/v1/datasets', headers: { ...tenant.auth, 'content-type': 'application/xml' }, payload: '<x/>' });
    assert.deepEqual((upload.json() as ProblemBody).accepted, ['text/csv', 'application/json', 'multipart/form-data']);
    const predict = await t.app.inject({ method: 'POST', url: `/v1/models/${randomUUID()}/predict`, headers: { ...tenant.auth, 'content-type': 'application/xml' }, payload: '<x/>' });
    assert.deepEqual((predict.json() as ProblemBody).accepted, ['application/json', 'text/csv']);
  });

  it('plain HTTP on the stream route is 426 Upgrade Required, as problem+json with Upgrade: websocket', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/jobs/${randomUUID()}/stream`, headers: tenant.auth });
    assert.equal(res.statusCode, 426);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.headers.upgrade, 'websocket');
    const body = res.json() as ProblemBody;
    assert.equal(body.code, 'UPGRADE_REQUIRED');
    assert.match(body.detail, /WebSocket/);
    // The key is still checked first.
    const anonymous = await t.app.inject({ method: 'GET', url: `/v1/jobs/${randomUUID()}/stream` });
    assert.equal(anonymous.statusCode, 401);
  });
});
