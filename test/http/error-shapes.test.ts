/**
 * Every error answer is problem+json with `x-request-id` (the body's requestId), whoever produced it: our handlers,
 * Fastify's router and content-type parser, and Node's HTTP parser before Fastify sees anything. Walked as a table
 * over a real TCP socket, with raw bytes where the request itself is malformed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERRORS } from '../../src/errors.js';
import { buildTestApp, createTenant, uniqueName, type TestApp, type TestTenant } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { createJobRow, listen } from '../helpers/streams.js';
import { requestText, sendRaw, type RawResponse } from './raw-http.js';

interface Case {
  name: string;
  status: number;
  code: keyof typeof ERRORS;
  /** The request's bytes, given the tenant's auth header. */
  request: (auth: Record<string, string>, ctx: { jobId: string }) => string;
  /** Text the answer must not contain (an echoed URL). */
  notEchoed?: string;
  check?: (res: RawResponse) => void;
}

const LONG_ID = 'a'.repeat(10_000);

const CASES: Case[] = [
  { name: 'a malformed percent-encoding in the path (router)', status: 400, code: 'MALFORMED_REQUEST', request: (a) => requestText('GET', '/v1/jobs/%E0%A4%A', a) },
  { name: 'bytes that are not HTTP (Node parser)', status: 400, code: 'MALFORMED_REQUEST', request: () => 'HELLO THERE\r\n\r\n' },
  { name: 'a bad Content-Length (Node parser)', status: 400, code: 'MALFORMED_REQUEST', request: (a) => requestText('POST', '/v1/jobs', { ...a, 'content-length': 'nope' }) },
  { name: 'a query that fails validation', status: 400, code: 'VALIDATION_FAILED', request: (a) => requestText('GET', '/v1/jobs?limit=abc', a) },
  {
    name: 'a body that is not JSON', status: 400, code: 'INVALID_JSON',
    request: (a) => requestText('POST', '/v1/jobs', { ...a, 'content-type': 'application/json' }, '{"datasetId": '),
  },
  { name: 'no API key', status: 401, code: 'UNAUTHENTICATED', request: () => requestText('GET', '/v1/me'), check: (r) => assert.match(r.headers['www-authenticate'] ?? '', /^Bearer/) },
  { name: 'an unknown route', status: 404, code: 'ROUTE_NOT_FOUND', request: (a) => requestText('GET', '/v2/nothing?x=1', a) },
  { name: 'an unknown job', status: 404, code: 'JOB_NOT_FOUND', request: (a) => requestText('GET', `/v1/jobs/${crypto.randomUUID()}`, a) },
  {
    name: 'a method the path does not answer', status: 405, code: 'METHOD_NOT_ALLOWED', request: (a) => requestText('DELETE', '/v1/me', a),
    check: (r) => assert.equal(r.headers.allow, 'GET, HEAD, OPTIONS'),
  },
  {
    name: 'a method of another route of the path', status: 405, code: 'METHOD_NOT_ALLOWED', request: (a) => requestText('PUT', `/v1/jobs/${crypto.randomUUID()}`, a),
    check: (r) => assert.equal(r.headers.allow, 'DELETE, GET, HEAD, OPTIONS'),
  },
  { name: 'an Accept header without JSON', status: 406, code: 'NOT_ACCEPTABLE', request: (a) => requestText('GET', '/v1/me', { ...a, accept: 'image/png' }) },
  {
    name: 'a JSON body over the limit', status: 413, code: 'PAYLOAD_TOO_LARGE',
    request: (a) => requestText('POST', '/v1/jobs', { ...a, 'content-type': 'application/json' }, JSON.stringify({ pad: 'x'.repeat(4096) })),
  },
  {
    name: 'a 10,000-character id (router)', status: 414, code: 'URI_TOO_LONG', request: (a) => requestText('GET', `/v1/jobs/${LONG_ID}`, a),
    notEchoed: LONG_ID.slice(0, 200),
  },
  { name: 'an unsupported content type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', request: (a) => requestText('POST', '/v1/jobs', { ...a, 'content-type': 'application/xml' }, '<job/>') },
  {
    name: 'headers over the limit (Node parser)', status: 431, code: 'HEADERS_TOO_LARGE',
    request: (a) => requestText('GET', '/v1/me', { ...a, 'x-pad': 'p'.repeat(20_000) }),
  },
  { name: 'an unexpected failure', status: 500, code: 'INTERNAL', request: (a, ctx) => requestText('GET', `/v1/jobs/${ctx.jobId}`, a) },
];

describe('every error is problem+json with x-request-id', () => {
  let own: Installation;
  let t: TestApp;
  let tenant: TestTenant;
  let port: number;
  let jobId: string;

  before(async () => {
    own = await ownInstallation('errors');
    t = await buildTestApp({ ...own.env, QUEUE_PREFIX: uniqueName('ty-errors'), MAX_JSON_BODY_BYTES: '2048' });
    tenant = await createTenant(t.services);
    port = Number(new URL(await listen(t.app)).port);
    jobId = await createJobRow(t.services, tenant.id, 'running'); // a hand-made row the job view cannot serialize: a 500
  });
  after(async () => {
    await t.close();
    await own.drop();
  });

  for (const c of CASES) {
    it(`${c.status} ${c.code}: ${c.name}`, async () => {
      const res = await sendRaw(port, c.request(tenant.auth, { jobId }));
      assert.equal(res.status, c.status, res.text.slice(0, 300));
      assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
      const body = res.json!;
      assert.equal(body.code, c.code);
      assert.equal(body.status, c.status);
      assert.equal(body.title, ERRORS[c.code].title);
      assert.equal(body.type, `urn:trainyard:problem:${c.code.toLowerCase().replaceAll('_', '-')}`);
      assert.equal(typeof body.detail, 'string');
      assert.ok(res.headers['x-request-id'], 'x-request-id');
      assert.equal(res.headers['x-request-id'], body.requestId);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(body.stack, undefined);
      if (c.notEchoed) assert.ok(!res.text.includes(c.notEchoed), 'the URL is not echoed');
      c.check?.(res);
    });
  }

  it('OPTIONS answers 204 with Allow for a path that exists, 404 otherwise', async () => {
    const res = await sendRaw(port, requestText('OPTIONS', `/v1/jobs/${crypto.randomUUID()}/cancel`));
    assert.equal(res.status, 204);
    assert.equal(res.headers.allow, 'POST, OPTIONS');
    const listing = await sendRaw(port, requestText('OPTIONS', '/v1/jobs'));
    assert.equal(listing.status, 204);
    assert.equal(listing.headers.allow, 'GET, HEAD, POST, OPTIONS');
    const none = await sendRaw(port, requestText('OPTIONS', '/v1/nothing'));
    assert.equal(none.status, 404);
    assert.equal(none.json?.code, 'ROUTE_NOT_FOUND');
  });

  it('the server still answers after every one of them', async () => {
    const res = await sendRaw(port, requestText('GET', '/v1/me', tenant.auth));
    assert.equal(res.status, 200);
  });
});
