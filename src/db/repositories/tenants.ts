/** Tenants and their API keys. */
import { generateApiKey, keyMatches, prefixOf } from '../../auth/api-keys.js';
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

/** The tenant a key belongs to, or null when the key is unknown, malformed or revoked. */
export async function authenticate(db: Db, key: string): Promise<TenantRef | null> {
  const prefix = prefixOf(key);
  if (!prefix) return null;
  const found = await db.apiKey.findUnique({ where: { prefix }, include: { tenant: true } });
  if (!found || found.revokedAt || !keyMatches(key, found.hash)) return null;
  return { id: found.tenant.id, name: found.tenant.name };
}

/** Marks a key revoked. Returns false when no active key has that prefix. */
export async function revokeKey(db: Db, prefix: string): Promise<boolean> {
  const cleaned = prefix.replace(/^ty_/, '').replace(/_.*$/, '');
  const { count } = await db.apiKey.updateMany({ where: { prefix: cleaned, revokedAt: null }, data: { revokedAt: new Date() } });
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
