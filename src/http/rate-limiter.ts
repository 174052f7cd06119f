/**
 * The API's rate limit: RATE_LIMIT_PER_MINUTE requests per minute and bucket (an API key's prefix, or a client IP),
 * through @fastify/rate-limit with our coalescing Redis store (./coalescing-rate-store.ts; one command per bucket at
 * a time), a fixed window per bucket. Every counted answer carries RateLimit-Limit/-Remaining/-Reset (IETF draft);
 * over the limit it is 429 RATE_LIMITED with Retry-After. With Redis unavailable, or when the store fails, the request
 * is let through without those headers (fail open: the API stays usable).
 *
 * The plugin is used through `createRateLimit` (not as a global hook): the auth hook decides the bucket once it knows
 * whether the key is valid (src/auth/plugin.ts), so one root hook (src/http/protection.ts) and the auth hook call
 * {@link RateLimiter.count} in callback form.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { apiError } from '../errors.js';
import { coalescingRedisStore } from './coalescing-rate-store.js';

/** A rate-limit bucket: an API key's prefix, or a client IP. */
export type RateBucket = { key: string } | { ip: string };

/** Called once the request is counted: with the 429 problem when it is over the limit. */
export type Counted = (error?: Error) => void;

export interface RateLimiter {
  readonly perMinute: number;
  /**
   * Counts one request in `bucket` (once per request: later calls do nothing), sets the RateLimit headers and calls
   * `done`, with the 429 RATE_LIMITED problem when over the limit.
   */
  count(request: FastifyRequest, reply: FastifyReply, bucket: RateBucket, done: Counted): void;
  /** {@link count} as a promise. */
  check(request: FastifyRequest, reply: FastifyReply, bucket: RateBucket): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request has been counted (or is exempt). */
    rateCounted: boolean;
  }
}

const WINDOW_MS = 60_000;
const BUCKET = Symbol('rate bucket');
type Bucketed = FastifyRequest & { [BUCKET]?: string };

export interface RateLimiterOptions {
  redis: Redis;
  /** Redis keys of the counts start with this. */
  nameSpace: string;
  perMinute: number;
  /** RATE_LIMIT_SYNC_MS (./coalescing-rate-store.ts: freshMs). */
  syncMs: number;
}

/** Registers @fastify/rate-limit on `app` (not globally) and returns the limiter the hooks call. */
export async function createRateLimiter(app: FastifyInstance, { redis, nameSpace, perMinute, syncMs }: RateLimiterOptions): Promise<RateLimiter> {
  await app.register(rateLimit, { global: false, store: coalescingRedisStore(redis, nameSpace, { freshMs: syncMs }), skipOnError: true });
  const limit = app.createRateLimit({
    max: perMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => (request as Bucketed)[BUCKET] ?? `ip:${request.ip}`,
  });

  const check = async (request: FastifyRequest, reply: FastifyReply, bucket: RateBucket): Promise<void> => {
    if (request.rateCounted) return;
    request.rateCounted = true;
    // Fail open and fast: with Redis away, a command would wait for its retries; the limit is skipped instead.
    if (redis.status !== 'ready') return;
    (request as Bucketed)[BUCKET] = 'key' in bucket ? `key:${bucket.key}` : `ip:${bucket.ip}`;
    const result = await limit(request);
    if (result.isAllowed || result.ttl <= 0) return; // allow-listed, or the store failed (skipOnError)
    const reset = Math.max(1, result.ttlInSeconds);
    reply.header('ratelimit-limit', String(result.max));
    reply.header('ratelimit-remaining', String(result.remaining));
    reply.header('ratelimit-reset', String(reset));
    if (!result.isExceeded) return;
    reply.header('retry-after', String(reset));
    throw apiError('RATE_LIMITED', `More than ${result.max} requests in a minute; retry in ${reset} s`, { limit: result.max, retryAfterSeconds: reset });
  };

  return {
    perMinute,
    check,
    count: (request, reply, bucket, done) => {
      if (request.rateCounted) {
        done();
        return;
      }
      check(request, reply, bucket).then(() => done(), done);
    },
  };
}
