/**
 * The rate limit's Redis store (src/http/coalescing-rate-store.ts) against the real Redis, over generated request
 * patterns: one replica counts its requests exactly (every count is the request's place, however they overlap, and
 * Redis ends at the total); replicas sharing a key never count a request above the truth (no request is refused
 * before the limit) and count exactly once their knowledge is older than `freshMs`; a window that ends starts
 * again at 1; a Redis error reaches the caller (the plugin then fails open).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { coalescingRedisStore, type CoalescingOptions, type CoalescingRateStore } from '../../src/http/coalescing-rate-store.js';
import { createRedis } from '../../src/queue/redis.js';
import { testConfig, uniqueName } from '../helpers/app.js';
import { waitUntil } from '../training/helpers.js';
import { rng } from '../engine/seeded-random.js';

interface Count {
  current: number;
  ttl: number;
}

const count = (store: CoalescingRateStore, key: string, windowMs = 60_000): Promise<Count> =>
  new Promise((resolve, reject) => store.incr(key, (error, result) => (error ? reject(error) : resolve(result!)), windowMs, 1_000_000));


describe('the coalescing rate-limit store (real Redis)', () => {
  const clients: Redis[] = [];
  const nameSpace = `${uniqueName('ty-ratestore')}:`;
  const client = (): Redis => {
    const redis = createRedis(testConfig().redisUrl, { name: 'test-rate-store' });
    clients.push(redis);
    return redis;
  };
  const storeOf = (options: CoalescingOptions = {}): CoalescingRateStore => {
    const Store = coalescingRedisStore(client(), nameSpace, options);
    return new Store({});
  };
  const stored = async (key: string): Promise<number> => Number((await clients[0]!.get(nameSpace + key)) ?? 0);

  before(() => {
    client();
  });
  after(async () => {
    const keys = await clients[0]!.keys(`${nameSpace}*`);
    if (keys.length > 0) await clients[0]!.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('one replica: every count is the request\'s place, in bursts of up to 200 overlapping requests, and Redis ends at the total', async () => {
    for (const seed of [1, 2, 3]) {
      const next = rng(seed);
      const store = storeOf();
      const key = `key:one-${seed}`;
      const counts: number[] = [];
      const unanswered: Promise<unknown>[] = [];
      let issued = 0;
      for (let round = 0; round < 40; round++) {
        const burst = 1 + Math.floor(next() * (next() < 0.3 ? 200 : 5));
        const pending = Array.from({ length: burst }, () => count(store, key));
        issued += burst;
        // Sometimes the next burst comes before this one is answered.
        if (next() < 0.4) counts.push(...(await Promise.all(pending)).map((c) => c.current));
        else unanswered.push(Promise.all(pending).then((cs) => counts.push(...cs.map((c) => c.current))));
        // Sometimes a pause, so that bursts also come while the previous ones' count is in flight (sent after 10 ms).
        if (next() < 0.5) await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 15)));
      }
      await Promise.all(unanswered); // an error of the store fails the test here
      assert.equal(counts.length, issued);
      assert.deepEqual([...counts].sort((a, b) => a - b), Array.from({ length: issued }, (_, i) => i + 1), `seed ${seed}`);
      await waitUntil(`Redis counted ${issued}`, async () => ((await stored(key)) === issued ? true : undefined), 60_000, 10);
    }
  });

  it('two replicas: no count above the truth, exact once a replica\'s knowledge is older than freshMs, Redis ends at the total', async () => {
    const freshMs = 100;
    for (const seed of [11, 12, 13]) {
      const next = rng(seed);
      let clock = 1_000_000;
      const replicas = [storeOf({ freshMs, now: () => clock }), storeOf({ freshMs, now: () => clock })];
      const key = `key:two-${seed}`;
      let issued = 0;
      for (let round = 0; round < 40; round++) {
        const replica = replicas[Math.floor(next() * 2)]!;
        const stale = next() < 0.3;
        if (stale) {
          // Every request has reached Redis and been answered, and this replica's last answer is now freshMs old.
          await Promise.all(replicas.map((r) => r.settle()));
          clock += freshMs;
        }
        const burst = 1 + Math.floor(next() * 20);
        const before = issued;
        issued += burst;
        const counts = (await Promise.all(Array.from({ length: burst }, () => count(replica, key)))).map((c) => c.current);
        for (const c of counts) assert.ok(c >= 1 && c <= issued, `seed ${seed} round ${round}: count ${c} above the ${issued} requests made`);
        if (stale) assert.deepEqual([...counts].sort((a, b) => a - b), Array.from({ length: burst }, (_, i) => before + i + 1), `seed ${seed} round ${round}: stale knowledge, so exact`);
        clock += Math.floor(next() * 30);
      }
      await waitUntil(`Redis counted ${issued}`, async () => ((await stored(key)) === issued ? true : undefined), 60_000, 10);
    }
  });

  it('a window that ends starts again at 1, with a TTL within the window', async () => {
    const store = storeOf({ freshMs: 0 });
    const key = 'key:window';
    // A window of 3 s: the three counts take two commands, and a busy machine must not let it end between them.
    const WINDOW = 3000;
    const first = await Promise.all([count(store, key, WINDOW), count(store, key, WINDOW), count(store, key, WINDOW)]);
    assert.deepEqual(first.map((c) => c.current).sort(), [1, 2, 3]);
    for (const c of first) assert.ok(c.ttl > 0 && c.ttl <= WINDOW, `ttl ${c.ttl}`);
    await waitUntil('the window expired in Redis', async () => ((await clients[0]!.exists(nameSpace + key)) === 0 ? true : undefined), 60_000, 20);
    const again = await count(store, key, WINDOW);
    assert.equal(again.current, 1);
  });

  it('a Redis error reaches the caller', async () => {
    const offline = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    try {
      const Store = coalescingRedisStore(offline, nameSpace);
      await assert.rejects(count(new Store({}), 'key:offline'));
    } finally {
      offline.disconnect();
    }
  });
});
