/**
 * The opaque `nextCursor` of the jobs and sweeps lists: the last row's creation time and id (the lists' order), as
 * base64url JSON. A cursor this API did not return is a 400 VALIDATION_FAILED on `querystring.cursor`.
 */
import { isUuid } from '../datasets/ids.js';
import { apiError } from '../errors.js';

export interface PageCursor {
  createdAt: Date;
  id: string;
}

export function encodePageCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

export function decodePageCursor(cursor: string): PageCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (typeof at === 'string' && typeof id === 'string' && isUuid(id) && !Number.isNaN(createdAt.getTime())) return { createdAt, id };
  } catch {
    // fall through
  }
  throw apiError('VALIDATION_FAILED', 'querystring.cursor is not a cursor this API returned', { errors: [{ path: 'querystring.cursor', message: 'is invalid' }] });
}
