/**
 * What a route declares so that /openapi.json documents it (conventions: README, "API documentation"):
 *   schema: { summary, tags: [TAG], params/querystring/body, response: { 2xx: example(Schema, value) }, errors: [CODE…] }
 * `errors` is documentation only (never a serializer): the route-specific codes of src/errors.ts; the codes every
 * route of its kind can answer (validation, auth, rate limit, outages…) are added by {@link commonErrors}.
 */
import { Type, type TSchema } from 'typebox';
import { ERRORS, type ErrorCode } from '../errors.js';

declare module 'fastify' {
  interface FastifySchema {
    /** Route-specific problem codes this route can answer (documentation only; see src/http/openapi-docs.ts). */
    errors?: readonly ErrorCode[];
    /** Accepted request content types, when not only application/json (shown in the docs and in 415 answers). */
    consumes?: readonly string[];
    /**
     * The request body as documented, for routes whose body is streamed rather than validated (uploads): it goes into
     * the OpenAPI document only, never into validation.
     */
    documentedBody?: unknown;
  }
}

/** Operation groups of the document, in the order Swagger UI shows them. */
export const TAGS = [
  { name: 'meta', description: 'Health, readiness, the caller, this document' },
  { name: 'datasets', description: 'Upload, generate and read datasets' },
  { name: 'jobs', description: 'Training jobs: submit, follow, cancel' },
  { name: 'sweeps', description: 'Hyper-parameter sweeps' },
  { name: 'models', description: 'Trained models: read, predict, export and import' },
  { name: 'streams', description: 'Live progress over WebSockets' },
] as const;

/**
 * A copy of `schema` carrying `examples: [value]` (OpenAPI 3.1 media example); the original is left untouched.
 * `value` may leave out members: they are filled from the schema ({@link sample}), so the example keeps fitting when a
 * field is added to the schema later.
 */
export function example<S extends TSchema>(schema: S, value: unknown): S {
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(schema)) as S & { examples?: unknown[] };
  copy.examples = [fill(schema, value)];
  return copy;
}

type JsonSchema = Record<string, unknown>;

/** A value that fits a (JSON) schema: defaults, consts and first enum members, minimal numbers, empty collections. */
export function sample(schema: unknown): unknown {
  const s = (schema ?? {}) as JsonSchema;
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = s[key];
    if (Array.isArray(branches)) return sample(branches.find((b) => (b as JsonSchema).type !== 'null') ?? branches[0]);
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return sample(s.allOf[0]);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      for (const name of (s.required as string[] | undefined) ?? []) out[name] = sample(properties[name]);
      return out;
    }
    case 'array':
      return Array.from({ length: typeof s.minItems === 'number' ? s.minItems : 0 }, () => sample(s.items));
    case 'string':
      if (s.format === 'uuid') return '3f0b9a52-8c1e-4a57-9d6f-2b7e0c4d1a93';
      if (s.format === 'date-time') return '2026-01-01T12:00:00.000Z';
      return 'x'.repeat(typeof s.minLength === 'number' ? s.minLength : 1);
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return null;
  }
}

/** `value` with what the schema requires and it lacks filled in from {@link sample}, through objects, arrays and unions. */
function fill(schema: unknown, value: unknown): unknown {
  const s = (schema ?? {}) as JsonSchema;
  if (value === undefined) return sample(s);
  const branches = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(branches) && value !== null) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : null;
    const branch = kind && branches.find((b) => (b as JsonSchema).type === kind);
    return branch ? fill(branch, value) : value;
  }
  if (Array.isArray(value)) return s.items ? value.map((v) => fill(s.items, v)) : value;
  if (value !== null && typeof value === 'object' && s.type === 'object') {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const name of (s.required as string[] | undefined) ?? []) if (!(name in value)) out[name] = sample(properties[name]);
    for (const [name, v] of Object.entries(value)) out[name] = name in properties ? fill(properties[name], v) : v;
    return out;
  }
  return value;
}

/** A response without a body (204). */
export const NoContent = Type.Null({ description: 'No content' });

/** The problem+json body of every error (src/errors.ts `problemOf`). */
export const Problem = Type.Object({
  type: Type.String({ description: 'urn:trainyard:problem:<code in kebab case>' }),
  code: Type.String({ description: 'Stable error code (src/errors.ts)' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  requestId: Type.String(),
}, { additionalProperties: true, description: 'RFC 9457 problem details; some problems add fields (errors, row, column, limit, …)' });

/** The codes a route answers because of what it is, beside its own. */
export function commonErrors(url: string, schema: { params?: unknown; querystring?: unknown; body?: unknown } | undefined, method: string): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (schema?.params || schema?.querystring || schema?.body) codes.push('VALIDATION_FAILED');
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') codes.push('INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE');
  if (url.startsWith('/v1/')) codes.push('UNAUTHENTICATED', 'RATE_LIMITED', 'DATABASE_UNAVAILABLE');
  codes.push('NOT_ACCEPTABLE', 'INTERNAL', 'OVERLOADED');
  return codes;
}

/** OpenAPI response objects (problem+json) for `codes`, grouped by status; each lists its codes and has an example. */
export function problemResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const problem = JSON.parse(JSON.stringify(Problem)) as { properties: Record<string, unknown> } & Record<string, unknown>;
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const first = list[0]!;
    responses[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${ERRORS[c].title}`).join('; '),
      content: {
        'application/problem+json': {
          schema: { ...problem, properties: { ...problem.properties, code: { type: 'string', enum: list } } },
          example: {
            type: `urn:trainyard:problem:${first.toLowerCase().replaceAll('_', '-')}`,
            code: first,
            title: ERRORS[first].title,
            status,
            detail: ERRORS[first].title,
            requestId: '5f0c6a0e-2b1d-4e4f-9a53-0c1d2e3f4a5b',
          },
        },
      },
    };
  }
  return responses;
}
