const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Dataset ids are UUIDs; anything else names no dataset (and must not reach a uuid column, which would throw). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
