/**
 * API key format: `ty_<prefix>_<secret>`, where prefix is 10 random base32 characters (visible, unique, used to find
 * the key) and secret is 32 random bytes in base64url (256 bits). Only SHA-256 of the whole key is stored; a fast
 * hash is right here because the key is high-entropy random, not a password. Comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const KEY_PATTERN = /^ty_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

export function generateApiKey(): NewApiKey {
  const prefix = Array.from(randomBytes(10), (b) => BASE32[b & 31]).join('');
  const key = `ty_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The prefix of a well-formed key, or null. */
export function prefixOf(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

export function keyMatches(key: string, storedHash: Uint8Array): boolean {
  const actual = hashApiKey(key);
  return storedHash.length === actual.length && timingSafeEqual(actual, storedHash);
}

/** The `Bearer` token of an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
