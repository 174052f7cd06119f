/**
 * Spec paths (`regularization.l2`, `network.layers[0].units`) into a job spec body: parse, and set a value at one in a
 * copy. Objects on the way are created; an array index must exist already (the base spec, with its defaults filled,
 * has to have the layer a parameter talks about).
 */
export type PathPart = string | number;

/** Parts of a path matching SPEC_PATH_PATTERN: names and indices in order. */
export function parsePath(path: string): PathPart[] {
  const parts: PathPart[] = [];
  for (const segment of path.split('.')) {
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/.exec(segment);
    if (!m) throw new PathError(`"${segment}" is not a name or name[index]`);
    parts.push(m[1]!);
    if (m[2] !== undefined) parts.push(Number(m[2]));
  }
  return parts;
}

export class PathError extends Error {
  override name = 'PathError';
}

/** Sets `value` at `path` in `target` (mutated). Throws PathError where the path cannot go. */
export function setAtPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = parsePath(path);
  let node: unknown = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!, last = i === parts.length - 1;
    const where = describe(parts.slice(0, i));
    if (typeof part === 'number') {
      if (!Array.isArray(node)) throw new PathError(`${where} is not a list`);
      if (part >= node.length) throw new PathError(`${where} has ${node.length} item(s); there is no [${part}]`);
      if (last) node[part] = value;
      else node = node[part];
      continue;
    }
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new PathError(`${where || 'the spec'} is not an object`);
    const record = node as Record<string, unknown>;
    if (last) record[part] = value;
    else {
      const next = parts[i + 1]!;
      if (record[part] === undefined || record[part] === null) {
        if (typeof next === 'number') throw new PathError(`${describe(parts.slice(0, i + 1))} is not set in the base spec`);
        record[part] = {};
      }
      node = record[part];
    }
  }
}

function describe(parts: PathPart[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
