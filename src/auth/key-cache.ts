/**
 * Authenticating every /v1 request against Postgres costs a query per request (measured: ~1,300 req/s ceiling on
 * 2 cores). This cache keeps what a key resolved to, by prefix, for `ttlMs`, and still compares the presented key's
 * hash in constant time on every request; only the database round-trip is skipped.
 *
 * Revocation is immediate on every replica: revoking publishes the key's prefix on `${QUEUE_PREFIX}:keys:revoked`
 * (see {@link publishKeyRevoked}); each cache subscribes before its first Postgres read, so no revocation can fall
 * between a read and the subscription, and it empties itself after a Redis reconnect (messages may have been lost).
 * If Redis is down when a key is revoked, `ttlMs` bounds how long a replica may still accept it.
 * Unknown keys are never cached (a flood of bad keys cannot fill memory); the map is bounded (oldest entries go first).
 *
 * A key that matched is also remembered by its exact text ({@link ApiKeyCache.verified}), in a smaller bounded map,
 * for as long as its prefix's entry stands: a request repeating it is answered synchronously, without SHA-256 (the
 * hash and its Hash object cost more than the rest of authentication). Revocation, reconnect and expiry remove or
 * replace the prefix's entry, and a remembered key counts only while its entry is the one it was verified against,
 * so they take effect on it at once. The lookup hashes the presented string, not the secret, and compares the texts
 * only when V8's string hashes agree: its timing tells nothing usable about a stored key.
 */
import { keyMatches, prefixOf } from './api-keys.js';
import type { Db } from '../db/client.js';
import { findKeyByPrefix, markKeyUsed, type TenantRef } from '../db/repositories/tenants.js';
import type { RedisSubscriber } from '../queue/redis-subscriber.js';

/** How long a cache miss waits for the revocation channel's subscription before it authenticates without caching. */
const SUBSCRIBE_WAIT_MS = 1000;

export function keysRevokedChannel(queuePrefix: string): string {
  return `${queuePrefix}:keys:revoked`;
}

/** Tells every API replica to forget a key at once. */
export async function publishKeyRevoked(redis: { publish(channel: string, message: string): Promise<number> }, queuePrefix: string, prefix: string): Promise<void> {
  await redis.publish(keysRevokedChannel(queuePrefix), prefix);
}

interface Entry {
  prefix: string;
  hash: Uint8Array;
  tenant: TenantRef;
  expiresAt: number;
}

/** A key verified against the cache: its tenant and its prefix (the rate-limit bucket). */
export interface VerifiedKey {
  readonly tenant: TenantRef;
  readonly prefix: string;
}

/** Default bound of the keys remembered by their text (one per client in use, usually few). */
const MAX_VERIFIED = 1000;

export interface ApiKeyCacheOptions {
  db: Db;
  subscriber: RedisSubscriber;
  queuePrefix: string;
  /** How long a resolved key is trusted without asking Postgres; 0 disables the cache. */
  ttlMs: number;
  /** Entries kept at most. Default 10,000 */
  maxEntries?: number;
  /** Keys remembered by their text at most. Default 1,000 */
  maxVerified?: number;
}

export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Keys that matched, by their text, with the entry they matched (valid while it is still `entries`' entry). */
  private readonly verifiedKeys = new Map<string, Entry>();
  private subscribed: Promise<void> | null = null;
  private readonly maxEntries: number;
  private readonly maxVerified: number;
  /** Bumped by every revocation and reconnect: a load that started before one is answered but not kept. */
  private generation = 0;

  constructor(private readonly options: ApiKeyCacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxVerified = options.maxVerified ?? MAX_VERIFIED;
  }

  /**
   * The tenant and prefix of `key` when this exact key matched its cached entry and that entry still stands (not
   * revoked, not expired); undefined otherwise (then {@link authenticate} decides). Synchronous: no hash, no promise.
   */
  verified(key: string): VerifiedKey | undefined {
    const entry = this.verifiedKeys.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now() && this.entries.get(entry.prefix) === entry) return entry;
    this.verifiedKeys.delete(key);
    return undefined;
  }

  /** The tenant of a valid, unrevoked key, or null. */
  async authenticate(key: string): Promise<TenantRef | null> {
    const prefix = prefixOf(key);
    if (!prefix) return null;
    const cached = this.entries.get(prefix);
    if (cached && cached.expiresAt > Date.now()) {
      if (!keyMatches(key, cached.hash)) return null;
      this.remember(key, cached);
      return cached.tenant;
    }
    if (cached) this.entries.delete(prefix);

    const caching = this.options.ttlMs > 0 && (await this.subscribedWithin(SUBSCRIBE_WAIT_MS));
    const generation = this.generation;
    const found = await findKeyByPrefix(this.options.db, prefix);
    if (!found || found.revokedAt || !keyMatches(key, found.hash)) return null;
    void markKeyUsed(this.options.db, prefix).catch(() => undefined);
    if (caching && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      const entry: Entry = { prefix, hash: found.hash, tenant: found.tenant, expiresAt: Date.now() + this.options.ttlMs };
      this.entries.set(prefix, entry);
      this.remember(key, entry);
    }
    return found.tenant;
  }

  /** Remembers a key that matched `entry` (oldest first out). */
  private remember(key: string, entry: Entry): void {
    if (this.verifiedKeys.size >= this.maxVerified && !this.verifiedKeys.has(key)) this.verifiedKeys.delete(this.verifiedKeys.keys().next().value!);
    this.verifiedKeys.set(key, entry);
  }

  /**
   * Whether revocations are being received, waiting at most `ms` for the subscription: while Redis is away the
   * subscriber waits for it indefinitely, and authentication must not (it goes on without caching).
   */
  private async subscribedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.subscribe(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves true once revocations are being received; false (no caching) when Redis cannot be subscribed. */
  private async subscribe(): Promise<boolean> {
    this.subscribed ??= (async () => {
      const { subscriber, queuePrefix } = this.options;
      subscriber.onReconnect(() => this.forgetAll());
      await subscriber.listen(keysRevokedChannel(queuePrefix), (prefix) => {
        this.generation++;
        this.entries.delete(prefix); // and with it every key remembered by its text under this prefix (verified())
      });
    })();
    return this.subscribed.then(
      () => true,
      () => {
        this.subscribed = null;
        return false;
      },
    );
  }

  private forgetAll(): void {
    this.generation++;
    this.entries.clear();
    this.verifiedKeys.clear();
  }
}
