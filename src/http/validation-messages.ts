/**
 * Schema-validation errors (TypeBox's and Ajv's, same shape) as messages a person can act on, one per field:
 *   - an unknown field names the fields allowed there and suggests the nearest ("did you mean `learningRate`?"),
 *     instead of "schema is false" / "must NOT have additional properties";
 *   - an enum (or a union of literals) lists its allowed values;
 *   - the noise of a union (anyOf/oneOf: one error per branch, then "must match a schema in anyOf") becomes one message:
 *     the errors inside the branch the value was meant for when there is one (an object that failed inside), otherwise
 *     what the union accepts ("must be a string (uuid) or null").
 */

/** One error of a validator (Ajv's ErrorObject; TypeBox's Errors() have the same members). */
export interface RawValidationError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** One field's problem, in the problem's `errors` array. */
export interface ValidationIssue {
  /** Where: `body.optimizer.learning_rate`, `querystring.limit`. */
  path: string;
  message: string;
  /** Unknown fields: the fields allowed there, and the nearest to the one given. */
  allowed?: string[];
  suggestion?: string;
  /** Enums: the allowed values. */
  allowedValues?: unknown[];
}

type Schema = Record<string, unknown>;

/** The sub-schema at a JSON pointer (`#/properties/a/anyOf/0`) of `root`, or undefined. */
function at(root: unknown, pointer: string): Schema | undefined {
  let node: unknown = root;
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node !== null && typeof node === 'object' ? (node as Schema) : undefined;
}

function fieldPath(where: string, instancePath: string): string {
  return `${where}${instancePath.replaceAll('/', '.')}`;
}

/** Edit distance (Damerau: a swap of neighbours is one edit) of two short strings. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The allowed name nearest to `given` (case, `_` and `-` ignored), when it is near enough to be a typo. */
export function nearest(given: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll(/[_\-\s]/g, '');
  const g = norm(given);
  let best: { name: string; d: number } | undefined;
  for (const name of allowed) {
    const d = distance(g, norm(name));
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(2, Math.floor(Math.max(g.length, 1) / 3)) ? best.name : undefined;
}

function list(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/** What a schema accepts, in a few words: `a string (uuid)`, `null`, `one of: a, b`. */
function describe(schema: Schema | undefined): string {
  if (!schema) return 'a valid value';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of: ${list(schema.enum)}`;
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches)) return describeUnion(branches);
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : String(schema.type ?? 'a value');
  if (type === 'null') return 'null';
  const article = /^[aeiou]/.test(type) ? 'an' : 'a';
  return `${article} ${type}${typeof schema.format === 'string' ? ` (${schema.format})` : ''}`;
}

function describeUnion(branches: readonly Schema[]): string {
  const literals = branches.filter((b) => 'const' in b).map((b) => b.const);
  if (literals.length === branches.length) return `one of: ${list(literals)}`;
  return branches.map(describe).join(' or ');
}

/**
 * The issues of one validation failure of `where` (body, querystring, params, headers) against `schema`, one per
 * field, in the order the validator reported them.
 */
export function friendlyIssues(errors: readonly RawValidationError[], where: string, schema: unknown): ValidationIssue[] {
  let remaining = [...errors];
  const issues: ValidationIssue[] = [];

  // Unions, innermost first: their branch errors collapse into the meant branch's errors, or into one message.
  const unions = remaining.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  const replaced = new Map<RawValidationError, ValidationIssue>();
  for (const union of unions) {
    if (!remaining.includes(union)) continue;
    const prefix = union.schemaPath.endsWith(`/${union.keyword}`) ? union.schemaPath : `${union.schemaPath}/${union.keyword}`;
    const inBranch = remaining.filter((e) => e !== union && e.schemaPath.startsWith(`${prefix}/`));
    const branchOf = (e: RawValidationError) => e.schemaPath.slice(prefix.length + 1).split('/')[0];
    const deeper = inBranch.filter((e) => e.instancePath.length > union.instancePath.length);
    if (deeper.length > 0) {
      // The value has the shape of one branch and failed inside it: that branch's errors say what is wrong.
      const meant = branchOf(deeper[0]!);
      remaining = remaining.filter((e) => e !== union && (!inBranch.includes(e) || (branchOf(e) === meant && e.instancePath.length > union.instancePath.length)));
      continue;
    }
    remaining = remaining.filter((e) => !inBranch.includes(e));
    const owner = at(schema, prefix.slice(0, -(union.keyword.length + 1)));
    const branches = (owner?.[union.keyword] as Schema[] | undefined) ?? [];
    const literals = branches.every((b) => 'const' in b) ? branches.map((b) => b.const) : undefined;
    replaced.set(union, {
      path: fieldPath(where, union.instancePath),
      message: `must be ${describeUnion(branches)}`,
      ...(literals && { allowedValues: literals }),
    });
  }

  const seen = new Set<string>();
  const push = (issue: ValidationIssue) => {
    if (seen.has(issue.path)) return;
    seen.add(issue.path);
    issues.push(issue);
  };

  for (const e of remaining) {
    const union = replaced.get(e);
    if (union) {
      push(union);
      continue;
    }
    const unknown = unknownFields(e);
    if (unknown) {
      const owner = at(schema, unknown.ownerSchemaPath);
      const allowed = Object.keys((owner?.properties as Record<string, unknown> | undefined) ?? {});
      for (const field of unknown.fields) {
        const suggestion = nearest(field, allowed);
        const hint = suggestion ? `did you mean \`${suggestion}\`? ` : '';
        const allowedText = allowed.length > 0 ? `allowed fields: ${allowed.join(', ')}` : 'no fields are allowed here';
        push({
          path: fieldPath(where, `${unknown.ownerInstancePath}/${field}`),
          message: `is not a known field; ${hint}${allowedText}`,
          allowed,
          ...(suggestion && { suggestion }),
        });
      }
      continue;
    }
    if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
      push({ path: fieldPath(where, e.instancePath), message: `must be one of: ${list(e.params.allowedValues)}`, allowedValues: e.params.allowedValues });
      continue;
    }
    push({ path: fieldPath(where, e.instancePath), message: e.message ?? 'is invalid' });
  }
  return issues;
}

/** The unknown fields an error is about (additionalProperties false, `Never`, or a `false` schema), if it is one. */
function unknownFields(e: RawValidationError): { ownerInstancePath: string; ownerSchemaPath: string; fields: string[] } | null {
  if (e.keyword === 'additionalProperties') {
    const p = e.params.additionalProperties ?? e.params.additionalProperty;
    const fields = Array.isArray(p) ? p.map(String) : p === undefined ? [] : [String(p)];
    return { ownerInstancePath: e.instancePath, ownerSchemaPath: e.schemaPath.replace(/\/additionalProperties$/, ''), fields };
  }
  const at = e.schemaPath.lastIndexOf('/additionalProperties');
  if (at < 0 || e.schemaPath.slice(at + '/additionalProperties'.length).includes('/properties')) return null;
  const cut = e.instancePath.lastIndexOf('/');
  if (cut < 0) return null;
  const field = e.instancePath.slice(cut + 1).replaceAll('~1', '/').replaceAll('~0', '~');
  return { ownerInstancePath: e.instancePath.slice(0, cut), ownerSchemaPath: e.schemaPath.slice(0, at), fields: [field] };
}
