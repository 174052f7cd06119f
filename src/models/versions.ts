/**
 * Model versions: a tenant's models of one name are numbered 1, 2, … in the order they got the name (creation, import,
 * promotion, rename). The database assigns the number (a BEFORE INSERT / UPDATE OF name trigger, migration
 * 20261203120000_model_lifecycle), whatever writes the row, under a transaction-scoped advisory lock on (tenant,
 * name): two models named at once never get the same number, and the unique index (tenantId, name, version) backs it
 * up. Numbers are not reused while a higher one exists (deleting version 2 of 3 leaves 1 and 3; the next is 4).
 */

/**
 * A reference to a version in a URL segment: `name@alias`, `name@3` (a version number), or `name` alone (the latest
 * version). The last `@` separates, so a name may contain `@`.
 */
export type VersionRef = { name: string; version: number } | { name: string; alias: string } | { name: string; latest: true };

export function parseVersionRef(ref: string): VersionRef {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return { name: ref, latest: true };
  const name = ref.slice(0, at), tail = ref.slice(at + 1);
  if (/^[1-9][0-9]{0,8}$/.test(tail)) return { name, version: Number(tail) };
  return { name, alias: tail };
}

/** Alias names: a letter, then letters, digits, `-`, `_`, `.` (at most 64); not a number, so `name@3` stays a version. */
export const ALIAS_PATTERN = '^[A-Za-z][A-Za-z0-9._-]{0,63}$';
