/**
 * /openapi.json is a structurally valid OpenAPI 3.1 document that documents EVERY registered route (collected with
 * onRoute as the app registers them: a route added later is checked too) with a summary, a tag, its parameters, a
 * success response with a schema and an example that fits it, and its problem+json error responses with codes of
 * src/errors.ts. /docs serves Swagger UI, its files from the package.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Compile } from 'typebox/compile';
import { ERRORS } from '../../src/errors.js';
import { TAGS } from '../../src/http/openapi-docs.js';
import { isPagePath } from '../../src/http/protection.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Fastify's `/v1/jobs/:id` as an OpenAPI path, `/v1/jobs/{id}`; a trailing slash dropped. */
function openapiPath(url: string): string {
  const trimmed = url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
  return trimmed.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function asObject(value: unknown, where: string): Json {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${where} must be an object`);
  return value as Json;
}

/** Every `$ref` in the document points at something in it. */
function checkRefs(doc: Json, node: unknown, where: string): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => checkRefs(doc, n, `${where}[${i}]`));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') {
      assert.ok(value.startsWith('#/'), `${where}: external $ref ${value}`);
      let target: unknown = doc;
      for (const part of value.slice(2).split('/')) target = (target as Json | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
      assert.notEqual(target, undefined, `${where}: $ref ${value} resolves to nothing`);
    } else {
      checkRefs(doc, value, `${where}.${key}`);
    }
  }
}

/** The structure OpenAPI 3.1 requires of the document, its operations, parameters and responses. */
function validateOpenApi31(doc: Json): void {
  assert.equal(doc.openapi, '3.1.0');
  const info = asObject(doc.info, 'info');
  assert.equal(typeof info.title, 'string');
  assert.equal(typeof info.version, 'string');
  const tags = new Set((doc.tags as Json[]).map((t) => t.name));
  const schemes = asObject(asObject(doc.components, 'components').securitySchemes, 'components.securitySchemes');
  for (const [name, scheme] of Object.entries(schemes)) {
    const s = asObject(scheme, name);
    assert.ok(['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'].includes(String(s.type)), `${name}.type`);
  }
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(asObject(doc.paths, 'paths'))) {
    assert.match(path, /^\//, `path ${path} must start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const [method, op] of Object.entries(asObject(item, path))) {
      assert.ok(METHODS.includes(method), `${path}: ${method} is not an HTTP method`);
      const where = `${method.toUpperCase()} ${path}`;
      const operation = asObject(op, where);
      if (operation.operationId !== undefined) {
        assert.ok(!operationIds.has(String(operation.operationId)), `${where}: duplicate operationId`);
        operationIds.add(String(operation.operationId));
      }
      for (const tag of (operation.tags as string[] | undefined) ?? []) assert.ok(tags.has(tag), `${where}: tag ${tag} is not declared`);
      const parameters = (operation.parameters as Json[] | undefined) ?? [];
      const seen = new Set<string>();
      for (const p of parameters) {
        assert.ok(['query', 'header', 'path', 'cookie'].includes(String(p.in)), `${where}: parameter ${String(p.name)} in ${String(p.in)}`);
        assert.equal(typeof p.name, 'string');
        assert.ok(!seen.has(`${String(p.in)}:${String(p.name)}`), `${where}: parameter ${String(p.name)} twice`);
        seen.add(`${String(p.in)}:${String(p.name)}`);
        assert.ok(p.schema !== undefined || p.content !== undefined, `${where}: parameter ${String(p.name)} has no schema`);
        if (p.in === 'path') {
          assert.equal(p.required, true, `${where}: path parameter ${String(p.name)} must be required`);
          assert.ok(templated.includes(String(p.name)), `${where}: path parameter ${String(p.name)} is not in the path`);
        }
      }
      for (const name of templated) assert.ok(seen.has(`path:${name}`), `${where}: {${name}} is not declared`);
      if (operation.requestBody !== undefined) asObject(asObject(operation.requestBody, `${where} requestBody`).content, `${where} requestBody.content`);
      const responses = asObject(operation.responses, `${where} responses`);
      assert.ok(Object.keys(responses).length > 0, `${where}: no responses`);
      for (const [status, response] of Object.entries(responses)) {
        assert.match(status, /^([1-5](\d\d|XX)|default)$/, `${where}: response key ${status}`);
        const r = asObject(response, `${where} ${status}`);
        assert.equal(typeof r.description, 'string', `${where} ${status}: a response needs a description`);
        if (r.content !== undefined) {
          for (const [type, media] of Object.entries(asObject(r.content, `${where} ${status} content`))) {
            assert.match(type, /^[a-z*]+\/[a-z0-9.+*-]+$/, `${where} ${status}: media type ${type}`);
            asObject(media, `${where} ${status} ${type}`);
          }
        }
      }
      for (const requirement of (operation.security as Json[] | undefined) ?? []) {
        for (const name of Object.keys(requirement)) assert.ok(name in schemes, `${where}: security scheme ${name} is not declared`);
      }
    }
  }
  checkRefs(doc, doc, '#');
}

describe('OpenAPI document and Swagger UI', () => {
  let t: TestApp;
  let doc: Json;

  before(async () => {
    t = await buildTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' }); // no key: the document is public
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json() as Json;
  });
  after(async () => t?.close());

  it('documents the streamed upload body for each content type it takes (documentation only)', () => {
    const upload = ((doc.paths as Json)['/v1/datasets'] as Json).post as Json;
    const content = (upload.requestBody as Json).content as Json;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'multipart/form-data', 'text/csv']);
    for (const media of Object.values(content)) assert.equal(((media as Json).schema as Json).format, 'binary');
  });

  it('is a structurally valid OpenAPI 3.1 document', () => {
    validateOpenApi31(doc);
    const schemes = (doc.components as Json).securitySchemes as Json;
    assert.deepEqual(schemes.bearerAuth, { type: 'http', scheme: 'bearer', description: (schemes.bearerAuth as Json).description });
  });

  it('documents every registered route with a summary, a tag, a success response with an example, and its errors', () => {
    const routes = t.app.routeCatalog.filter((r) => !r.hidden && r.url !== '*' && r.url !== '/*');
    assert.ok(routes.length >= 20, `only ${routes.length} routes were collected`);
    // Only pages and their files are hidden (Swagger UI's own, the dashboard's): every API route is documented.
    for (const r of t.app.routeCatalog.filter((x) => x.hidden)) assert.ok(isPagePath(r.url.replace(/\*$/, 'x')), `${r.method} ${r.url} is hidden from the document`);
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const tagNames: string[] = TAGS.map((tag) => tag.name);
    const problems: string[] = [];
    for (const route of routes) {
      const where = `${route.method} ${route.url}`;
      const op = paths[openapiPath(route.url)]?.[route.method.toLowerCase()];
      if (!op) {
        problems.push(`${where}: not in /openapi.json`);
        continue;
      }
      if (typeof op.summary !== 'string' || op.summary.length < 3) problems.push(`${where}: no summary`);
      const tags = (op.tags as string[] | undefined) ?? [];
      if (tags.length === 0 || !tags.every((tag) => tagNames.includes(tag))) problems.push(`${where}: tags ${JSON.stringify(tags)} (one of ${tagNames.join(', ')})`);
      const responses = op.responses as Record<string, Json>;
      const success = Object.entries(responses).filter(([status]) => /^[12]/.test(status));
      if (success.length === 0) problems.push(`${where}: no success response`);
      let examples = 0;
      for (const [status, response] of success) {
        if (response.description === 'Default Response' && status === '200' && !response.content) problems.push(`${where}: no response schema`);
        for (const [type, media] of Object.entries((response.content as Record<string, Json> | undefined) ?? {})) {
          const schema = media.schema as Json | undefined;
          if (!schema) {
            problems.push(`${where} ${status} ${type}: no schema`);
            continue;
          }
          if (media.example === undefined) continue;
          examples++;
          if (type === 'application/json' && !Compile(schema).Check(media.example)) problems.push(`${where} ${status}: the example does not fit the schema`);
        }
      }
      const bodyless = success.every(([status, response]) => status === '204' && response.content === undefined);
      if (examples === 0 && !bodyless) problems.push(`${where}: no example on a success response`);
      const errors = Object.entries(responses).filter(([status]) => /^[45]/.test(status));
      if (!errors.some(([status]) => status.startsWith('4'))) problems.push(`${where}: no 4xx error responses`);
      for (const [status, response] of errors) {
        const media = (response.content as Record<string, Json> | undefined)?.['application/problem+json'];
        const codes = ((media?.schema as Json | undefined)?.properties as Record<string, Json> | undefined)?.code?.enum as string[] | undefined;
        if (!media || !codes?.length) {
          problems.push(`${where} ${status}: not a problem+json response listing its codes`);
          continue;
        }
        for (const code of codes) {
          const known = ERRORS[code as keyof typeof ERRORS];
          if (!known || String(known.status) !== status) problems.push(`${where} ${status}: code ${code} is not a ${status} of src/errors.ts`);
        }
        if ((media.example as Json | undefined)?.code !== codes[0]) problems.push(`${where} ${status}: no example problem`);
      }
      const security = op.security as Json[] | undefined;
      if (route.url.startsWith('/v1/') && !security?.some((s) => 'bearerAuth' in s)) problems.push(`${where}: no bearerAuth security`);
      if (route.url.startsWith('/v1/') && !responses['401']) problems.push(`${where}: no 401`);
    }
    assert.deepEqual(problems, []);
  });

  it('documents the stream route as a GET answering 101 Switching Protocols, or 426 without an upgrade', () => {
    const op = (doc.paths as Record<string, Record<string, Json>>)['/v1/jobs/{id}/stream']?.get;
    assert.ok(op, 'GET /v1/jobs/{id}/stream is documented');
    const responses = op.responses as Record<string, Json>;
    assert.ok(responses['101'], '101 documented');
    const codes = (((responses['426']?.content as Record<string, Json>)['application/problem+json']!.schema as Json).properties as Record<string, Json>).code!.enum;
    assert.deepEqual(codes, ['UPGRADE_REQUIRED']);
    assert.ok((responses['404']?.content as Record<string, Json>)['application/problem+json'], 'JOB_NOT_FOUND documented');
  });

  it('serves Swagger UI at /docs, its scripts and styles from the package, under a CSP that lets them run', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs/', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 200, page.body);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(page.body, /https?:\/\//, 'no CDN');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('swagger-ui-bundle.js')), page.body);
    assert.ok(assets.some((a) => a.endsWith('swagger-ui.css')));
    const packageDir = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')), 'static');
    for (const asset of assets) {
      const url = new URL(asset, 'http://x/docs/').pathname;
      const res = await t.app.inject({ method: 'GET', url, headers: { accept: '*/*' } });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
      const name = url.split('/').at(-1)!;
      if (name !== 'swagger-initializer.js') assert.equal(res.body, await readFile(join(packageDir, name), 'utf8'), `${url} is the package's file`);
    }
    const init = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.match(init.body, /json/, 'the UI loads the document from this server');
  });

  it('keeps the API JSON answers under the strict policy', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|ws:|blob:/);
  });
});
