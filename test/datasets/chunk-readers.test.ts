/**
 * Reading stored chunks back: the binary COPY reader (the way loadDataset takes) gives exactly the bytes the Prisma
 * reader gives and that were stored, over generated datasets of several shapes and chunk counts, and both still refuse
 * torn chunks and content that does not match its hash, leaving the pool's connections usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readChunksWithCopy } from '../../src/datasets/chunk-reader-copy.js';
import { readChunksWithPrisma } from '../../src/datasets/chunk-reader-prisma.js';
import { rowsPerChunk } from '../../src/datasets/codec.js';
import { DatasetCache } from '../../src/datasets/dataset-cache.js';
import { loadDataset } from '../../src/datasets/load.js';
import { MatrixAssembly } from '../../src/datasets/matrix-assembly.js';
import { saveDataset } from '../../src/datasets/store.js';
import { Rng } from '../../src/datasets/synthetic/rng.js';
import type { DatasetInput, DatasetMeta } from '../../src/datasets/types.js';
import { underlyingPool } from '../../src/db/pool-stats.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';

function bytesOf(view: Float32Array | Int32Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Values whose bits a lossy path would change: signed zeros, subnormals, the extremes, and ordinary noise. */
const SPECIAL = [0, -0, 1.401298464324817e-45, -1.1754942106924411e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1, -1];

function generated(task: 'classification' | 'regression', rows: number, features: number, seed: number): DatasetInput {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: rows * features }, (_, i) => (i % 97 === 0 ? SPECIAL[(i / 97) % SPECIAL.length]! : rng.normal() * 10));
  const name = `${task} ${rows}×${features}`;
  if (task === 'regression') return { name, source: 'synthetic', task, features, x, y: Float32Array.from({ length: rows }, (_, i) => (i === 0 ? -0 : rng.normal())) };
  return { name, source: 'synthetic', task, features, x, y: Int32Array.from({ length: rows }, (_, i) => i % 7), classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] };
}

async function viaPrisma(t: TestApp, meta: DatasetMeta): Promise<MatrixAssembly> {
  const assembly = new MatrixAssembly(meta, 'own');
  await readChunksWithPrisma(t.services.db, meta, assembly);
  assembly.finish();
  return assembly;
}

async function viaCopy(t: TestApp, meta: DatasetMeta, chunksPerCopy?: number): Promise<MatrixAssembly> {
  const pool = underlyingPool(t.services.db);
  assert.ok(pool, 'the test app’s client has a node-postgres pool to borrow');
  const assembly = new MatrixAssembly(meta, 'own');
  await readChunksWithCopy(pool, meta, assembly, chunksPerCopy);
  assembly.finish();
  return assembly;
}

/** Connections of the shared pool checked out and not returned. */
function checkedOut(t: TestApp): number {
  const pool = underlyingPool(t.services.db)!;
  return pool.totalCount - pool.idleCount;
}

describe('chunk readers', () => {
  let t: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  const shapes: { task: 'classification' | 'regression'; rows: number; features: number; chunks: number }[] = [
    { task: 'classification', rows: 10_000, features: 784, chunks: Math.ceil(10_000 / rowsPerChunk(784)) }, // MNIST's shape: 30 chunks
    { task: 'regression', rows: 50_000, features: 13, chunks: Math.ceil(50_000 / rowsPerChunk(13)) }, // 3 chunks, the last partial
    { task: 'regression', rows: 2 * rowsPerChunk(1000), features: 1000, chunks: 2 }, // whole chunks only
    { task: 'classification', rows: 9, features: 100_000, chunks: Math.ceil(9 / rowsPerChunk(100_000)) }, // wide rows: 5 chunks of 2 rows or fewer
    { task: 'classification', rows: 1, features: 3, chunks: 1 },
  ];
  for (const [n, shape] of shapes.entries()) {
    it(`${shape.task}, ${shape.rows} rows × ${shape.features} features (${shape.chunks} chunks): COPY gives the stored bytes, as Prisma does`, async () => {
      const input = generated(shape.task, shape.rows, shape.features, 100 + n);
      const meta = await saveDataset(t.services.db, tenant.id, input);
      assert.equal(meta.chunkCount, shape.chunks);
      const reference = await viaPrisma(t, meta);
      assert.ok(bytesOf(reference.x).equals(bytesOf(input.x)) && bytesOf(reference.y).equals(bytesOf(input.y)), 'the Prisma reader gives what was stored');
      for (const chunksPerCopy of [undefined, 1, 2, 7]) {
        const copied = await viaCopy(t, meta, chunksPerCopy);
        assert.ok(bytesOf(copied.x).equals(bytesOf(reference.x)), `features: same bytes (${chunksPerCopy ?? 'default'} chunks per COPY)`);
        assert.ok(bytesOf(copied.y).equals(bytesOf(reference.y)), `targets: same bytes (${chunksPerCopy ?? 'default'} chunks per COPY)`);
        assert.equal(copied.y.constructor, reference.y.constructor);
      }
      const loaded = (await loadDataset(t.services.db, tenant.id, meta.id))!;
      assert.ok(bytesOf(loaded.x).equals(bytesOf(input.x)) && bytesOf(loaded.y).equals(bytesOf(input.y)), 'loadDataset gives what was stored');
      const cache = new DatasetCache(1 << 30);
      const [cached, twice] = await Promise.all([loadDataset(t.services.db, tenant.id, meta.id, cache), loadDataset(t.services.db, tenant.id, meta.id, cache)]);
      assert.ok(cached!.x.buffer instanceof SharedArrayBuffer && cached!.y.buffer instanceof SharedArrayBuffer);
      assert.ok(bytesOf(cached!.x).equals(bytesOf(input.x)) && bytesOf(cached!.y).equals(bytesOf(input.y)), 'and so does a cache miss, into shared memory');
      assert.ok(twice!.x === cached!.x && twice!.y === cached!.y, 'concurrent loads through one cache get the same arrays');
      assert.equal(cache.stats().misses, 1, 'from one read');
      assert.equal(checkedOut(t), 0, 'every borrowed connection went back to the pool');
    });
  }

  describe('refuses damaged chunks, by either reader, and the connection stays usable', () => {
    const F = 500;
    const perChunk = rowsPerChunk(F);
    const damages: { what: string; sql: string; error: RegExp }[] = [
      { what: 'a chunk whose rowStart skips rows', sql: `UPDATE "DatasetChunk" SET "rowStart" = "rowStart" + 1 WHERE index = 1`, error: /chunk 1 does not continue row \d+ with the declared shape/ },
      { what: 'a chunk with its features cut short', sql: `UPDATE "DatasetChunk" SET features = substring(features from 1 for 4 * ${F} * 3) WHERE index = 2`, error: /chunk 2 does not continue row \d+ with the declared shape/ },
      { what: 'a chunk with its targets cut short', sql: `UPDATE "DatasetChunk" SET targets = substring(targets from 5) WHERE index = 0`, error: /chunk 0 does not continue row 0 with the declared shape/ },
      { what: 'a chunk missing in the middle', sql: `DELETE FROM "DatasetChunk" WHERE index = 1`, error: /chunk 2 does not continue row \d+ with the declared shape/ },
      { what: 'the last chunk missing', sql: `DELETE FROM "DatasetChunk" WHERE index = 3`, error: /chunks hold \d+ rows, metadata says \d+/ },
      { what: 'a chunk more than the metadata declares', sql: `INSERT INTO "DatasetChunk" ("datasetId", index, "rowStart", "rowCount", features, targets) SELECT "datasetId", 4, "rowStart" + "rowCount", 1, substring(features from 1 for ${4 * F}), substring(targets from 1 for 4) FROM "DatasetChunk" WHERE index = 3`, error: /chunk 4 does not continue row \d+ with the declared shape/ },
      { what: 'one feature byte changed (same shape)', sql: `UPDATE "DatasetChunk" SET features = set_byte(features, 1000, (get_byte(features, 1000) + 1) % 256) WHERE index = 2`, error: /content hash mismatch/ },
      { what: 'one target changed (same shape)', sql: `UPDATE "DatasetChunk" SET targets = set_byte(targets, 0, (get_byte(targets, 0) + 1) % 3) WHERE index = 3`, error: /content hash mismatch/ },
    ];
    for (const [n, damage] of damages.entries()) {
      it(damage.what, async () => {
        const input = generated('classification', 3 * perChunk + 17, F, 200 + n); // 4 chunks, the last partial
        const meta = await saveDataset(t.services.db, tenant.id, input);
        const intact = await saveDataset(t.services.db, tenant.id, generated('regression', 2 * perChunk + 1, F, 300 + n));
        const changed = await t.services.db.$executeRawUnsafe(damage.sql.replace('WHERE index', `WHERE "datasetId" = '${meta.id}'::uuid AND index`));
        assert.equal(changed, 1, 'the damage was done');

        await assert.rejects(viaPrisma(t, meta), damage.error, 'the Prisma reader refuses it');
        for (const chunksPerCopy of [undefined, 1, 3]) await assert.rejects(viaCopy(t, meta, chunksPerCopy), damage.error, `the COPY reader refuses it (${chunksPerCopy ?? 'default'} per COPY)`);
        await assert.rejects(loadDataset(t.services.db, tenant.id, meta.id), damage.error, 'loadDataset refuses it');

        const cache = new DatasetCache(1 << 30);
        const both = await Promise.allSettled([loadDataset(t.services.db, tenant.id, meta.id, cache), loadDataset(t.services.db, tenant.id, meta.id, cache)]);
        for (const outcome of both) assert.ok(outcome.status === 'rejected' && damage.error.test(String(outcome.reason)), 'concurrent loads through a cache are both refused');
        assert.equal(cache.stats().entries, 0, 'nothing refused is cached');

        assert.equal(checkedOut(t), 0, 'no connection was kept after the refusals');
        const good = (await loadDataset(t.services.db, tenant.id, intact.id))!;
        assert.equal(good.meta.rows, intact.rows, 'the pool still reads an intact dataset');
      });
    }
  });
});
