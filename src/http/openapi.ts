/**
 * The API's own documentation: OpenAPI 3.1 generated from the route schemas (@fastify/swagger) at GET /openapi.json,
 * and Swagger UI at /docs (@fastify/swagger-ui, its files served from the package: no CDN). Register before any
 * route (src/app.ts): @fastify/swagger collects routes as they are registered.
 *
 * Each route declares its summary, tags, examples and route-specific error codes (src/http/openapi-docs.ts); here
 * every operation gets its problem+json error responses (its own codes and the common ones) and, under /v1, the
 * bearer-key security requirement.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { Type } from 'typebox';
import { commonErrors, example, problemResponses, TAGS } from './openapi-docs.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A registered route as the documentation sees it (collected with onRoute; tests check each is documented). */
export interface CatalogedRoute {
  method: string;
  url: string;
  /** Hidden from the document (the docs' own files). */
  hidden: boolean;
  websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after src/http/openapi.ts, HEAD twins of GET routes excluded. */
    routeCatalog: readonly CatalogedRoute[];
  }
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const catalog: CatalogedRoute[] = [];
  app.decorate('routeCatalog', catalog);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue; // Fastify's twins of GET routes (documented with them, as @fastify/swagger does)
      catalog.push({ method: String(method), url: route.url, hidden: route.schema?.hide === true, websocket: route.websocket === true });
    }
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trainyard',
        version: VERSION,
        description: 'Training-as-a-service for fully-connected neural networks. Every /v1 route needs `Authorization: Bearer <key>`; '
          + 'errors are `application/problem+json` with a stable `code`.',
      },
      tags: TAGS.map((t) => ({ ...t })),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (`npm run keys -- create --tenant <name>`). The stream route also takes it as `?access_token=`.' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const own = (schema ?? {}) as FastifySchema & { response?: Record<string, unknown> };
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      const codes = [...(own.errors ?? []), ...commonErrors(url, own, method)];
      const documented: Record<string, unknown> & FastifySchema = {
        ...own,
        response: { ...problemResponses(codes), ...withMediaExamples(own.response ?? {}) },
      };
      if (url.startsWith('/v1/')) documented.security = [{ bearerAuth: [] }];
      if (own.documentedBody !== undefined) documented.body = own.documentedBody;
      delete documented.errors;
      delete documented.documentedBody;
      // `/v1/jobs/` (a prefix's root route) is documented as `/v1/jobs`.
      return { schema: documented, url: url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url };
    },
  });

  app.get(OPENAPI_PATH, {
    schema: {
      summary: 'This API as an OpenAPI 3.1 document',
      tags: ['meta'],
      response: {
        200: example(
          Type.Object({ openapi: Type.String(), info: Type.Object({ title: Type.String(), version: Type.String() }, { additionalProperties: true }) }, { additionalProperties: true }),
          { openapi: '3.1.0', info: { title: 'Trainyard', version: VERSION }, paths: {} },
        ),
      },
      errors: [],
    },
  }, async () => app.swagger());

  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { validatorUrl: null, persistAuthorization: true },
    staticCSP: false,
  });
}

/**
 * Responses declared per content type (`{ description, content: { 'text/plain': { schema } } }`): @fastify/swagger
 * copies them as they are, so the schema's `examples` (from `example()`) become the media type's `example` here.
 */
function withMediaExamples(responses: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(responses)) {
    const content = (response as { content?: Record<string, { schema?: { examples?: unknown[] } }> }).content;
    if (!content) {
      out[status] = response;
      continue;
    }
    const media: Record<string, unknown> = {};
    for (const [type, entry] of Object.entries(content)) {
      const examples = entry.schema?.examples;
      if (!Array.isArray(examples) || examples.length === 0) {
        media[type] = entry;
        continue;
      }
      const { examples: _dropped, ...schema } = entry.schema as Record<string, unknown>;
      media[type] = { ...entry, schema, example: examples[0] };
    }
    out[status] = { ...(response as object), content: media };
  }
  return out;
}
