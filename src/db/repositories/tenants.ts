/** Tenants and their API keys. */
import { generateApiKey } from '../../auth/api-keys.js';
import { toBytes } from '../bytes.js';
import type { Db } from '../client.js';

export interface TenantRef {
  id: string;
  name: string;
}

export interface CreatedKey {
  tenant: TenantRef;
  key: string;
  prefix: string;
}

export interface KeySummary {
  prefix: string;
  tenant: string;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Creates a key for the tenant of that name, creating the tenant when it does not exist. */
export async function createKey(db: Db, tenantName: string, label?: string): Promise<CreatedKey> {
  const tenant = await db.tenant.upsert({ where: { name: tenantName }, update: {}, create: { name: tenantName } });
  const { key, prefix, hash } = generateApiKey();
  await db.apiKey.create({ data: { tenantId: tenant.id, prefix, hash: toBytes(hash), label: label ?? null } });
  return { tenant: { id: tenant.id, name: tenant.name }, key, prefix };
}

export interface StoredKey {
  hash: Uint8Array;
  revokedAt: Date | null;
  tenant: TenantRef;
}

/** The stored key of that prefix (hash, revocation, tenant), or null. */
export async function findKeyByPrefix(db: Db, prefix: string): Promise<StoredKey | null> {
  const found = await db.apiKey.findUnique({ where: { prefix }, include: { tenant: true } });
  return found && { hash: found.hash, revokedAt: found.revokedAt, tenant: { id: found.tenant.id, name: found.tenant.name } };
}

/** Records that a key was just used (the cache calls it once per fill, so at most once per TTL per replica). */
export async function markKeyUsed(db: Db, prefix: string): Promise<void> {
  await db.apiKey.update({ where: { prefix }, data: { lastUsedAt: new Date() } });
}

/** The bare prefix of what a user typed: `abcdefghij`, `ty_abcdefghij` or a whole key. */
export function normalizePrefix(input: string): string {
  return input.replace(/^ty_/, '').replace(/_.*$/, '');
}

/**
 * Marks a key revoked in Postgres. Returns false when no active key has that prefix. API replicas cache keys:
 * tell them with `publishKeyRevoked` (src/auth/key-cache.ts) — `npm run keys -- revoke` does.
 */
export async function revokeKey(db: Db, prefix: string): Promise<boolean> {
  const { count } = await db.apiKey.updateMany({ where: { prefix: normalizePrefix(prefix), revokedAt: null }, data: { revokedAt: new Date() } });
  return count > 0;
}

export async function listKeys(db: Db): Promise<KeySummary[]> {
  const keys = await db.apiKey.findMany({ include: { tenant: true }, orderBy: { createdAt: 'asc' } });
  return keys.map((k) => ({
    prefix: k.prefix,
    tenant: k.tenant.name,
    label: k.label,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  }));
}

/**
 * On a database without any tenant, creates `default` with one key and returns it (to be printed once).
 * Serialized with a transaction-scoped advisory lock so replicas starting together create it once.
 */
export async function bootstrapDefaultTenant(db: Db): Promise<CreatedKey | null> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7270001)`;
    if ((await tx.tenant.count()) > 0) return null;
    const tenant = await tx.tenant.create({ data: { name: 'default' } });
    const { key, prefix, hash } = generateApiKey();
    await tx.apiKey.create({ data: { tenantId: tenant.id, prefix, hash: toBytes(hash), label: 'created at first start' } });
    return { tenant: { id: tenant.id, name: tenant.name }, key, prefix };
  });
}
