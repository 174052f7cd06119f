/** A worker's dataset cache: LRU by bytes, keyed by content hash, and loadDataset through it against real Postgres. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DatasetCache, type CachedMatrix } from '../../src/datasets/dataset-cache.js';
import { loadDataset } from '../../src/datasets/load.js';
import { saveDataset } from '../../src/datasets/store.js';
import { Rng } from '../../src/datasets/synthetic/rng.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';

function matrixOf(bytes: number): CachedMatrix {
  return { x: new Float32Array(bytes / 4 - 1), y: new Int32Array(1) };
}

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

describe('DatasetCache', () => {
  it('never holds more than maxBytes and evicts the least recently used first (generated access sequences)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 64 }),
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 7 }), size: fc.integer({ min: 1, max: 24 }) }), { maxLength: 60 }),
      async (maxWords, accesses) => {
        const cache = new DatasetCache(maxWords * 4);
        const sizes = new Map<number, number>();
        const model: number[] = []; // keys kept, least recently used first
        for (const { key, size } of accesses) {
          const words = sizes.get(key) ?? size; // a key's content never changes (it is a content hash)
          sizes.set(key, words);
          let loaded = false;
          const got = await cache.get(String(key), async () => {
            loaded = true;
            return matrixOf(words * 4);
          });
          assert.equal(got.x.byteLength + got.y.byteLength, words * 4);
          assert.equal(loaded, !model.includes(key), `key ${key}: loaded only when not cached`);
          const at = model.indexOf(key);
          if (at >= 0) model.splice(at, 1);
          if (words <= maxWords) {
            model.push(key);
            let total = model.reduce((sum, k) => sum + sizes.get(k)!, 0);
            while (total > maxWords) total -= sizes.get(model.shift()!)!;
          }
          const stats = cache.stats();
          assert.ok(stats.bytes <= stats.maxBytes);
          assert.equal(stats.entries, model.length);
          assert.equal(stats.bytes, model.reduce((sum, k) => sum + sizes.get(k)! * 4, 0));
        }
      },
    ), { seed: 20261203, numRuns: 200 });
  });

  it('shares one read between concurrent loads of one key, and does not cache a failed load', async () => {
    const cache = new DatasetCache(1 << 20);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const load = async () => {
      loads++;
      await gate;
      return matrixOf(64);
    };
    const both = Promise.all([cache.get('k', load), cache.get('k', load)]);
    release();
    const [a, b] = await both;
    assert.equal(loads, 1);
    assert.equal(a, b);
    await assert.rejects(cache.get('bad', async () => { throw new Error('torn'); }), /torn/);
    assert.equal((await cache.get('bad', async () => matrixOf(8))).x.length, 1);
  });
});

describe('loadDataset through a cache', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let other: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
    other = await createTenant(t.services);
  });
  after(() => t.close());

  it('gives the same bits as an uncached load, in shared memory, reads the chunks once, and still checks the tenant', async () => {
    const features = 300;
    const rows = 2500; // 3 chunks
    const rng = new Rng(11);
    const x = Float32Array.from({ length: rows * features }, () => rng.normal());
    const y = Int32Array.from({ length: rows }, (_, i) => i % 4);
    const input = { source: 'synthetic' as const, task: 'classification' as const, features, x, y, classNames: ['a', 'b', 'c', 'd'] };
    const first = await saveDataset(t.services.db, tenant.id, { ...input, name: 'one' });
    const twin = await saveDataset(t.services.db, tenant.id, { ...input, name: 'same content' });
    assert.equal(first.contentHash, twin.contentHash);

    const cache = new DatasetCache(64 << 20);
    const plain = (await loadDataset(t.services.db, tenant.id, first.id))!;
    const cached = (await loadDataset(t.services.db, tenant.id, first.id, cache))!;
    assert.ok(sameBits(plain.x, cached.x) && sameBits(plain.y, cached.y));
    assert.ok(cached.x.buffer instanceof SharedArrayBuffer, 'cached arrays are shared with trainer threads, not copied');
    assert.deepEqual(cached.meta, plain.meta);

    const again = (await loadDataset(t.services.db, tenant.id, twin.id, cache))!;
    assert.equal(again.x, cached.x, 'a dataset with the same content is served from the cache');
    assert.equal(again.meta.name, 'same content', 'with its own metadata');
    assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 1, misses: 1 });

    assert.equal(await loadDataset(t.services.db, other.id, first.id, cache), null, "another tenant's id is not found, cached or not");
    await t.services.db.dataset.delete({ where: { id: first.id } });
    assert.equal(await loadDataset(t.services.db, tenant.id, first.id, cache), null, 'a deleted dataset is gone even while its content is cached');
  });
});
