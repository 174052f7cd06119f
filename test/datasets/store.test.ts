/** saveDataset / loadDataset (the contract other parts rely on), the codec, statistics and class order. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { orderClassNames } from '../../src/datasets/class-order.js';
import { CHUNK_FEATURE_BYTES, rowsPerChunk } from '../../src/datasets/codec.js';
import { loadDataset } from '../../src/datasets/load.js';
import { ColumnStatsAccumulator } from '../../src/datasets/stats.js';
import { saveDataset } from '../../src/datasets/store.js';
import { Rng } from '../../src/datasets/synthetic/rng.js';
import { ApiError } from '../../src/errors.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';
import { stored } from './helpers.js';

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

describe('saveDataset and loadDataset', () => {
  let t: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  it('round-trip a multi-chunk classification matrix bit for bit, keeping the class order as given', async () => {
    const features = 100;
    const rows = rowsPerChunk(features) * 2 + 3;
    const rng = new Rng(7);
    const x = Float32Array.from({ length: rows * features }, () => (rng.normal() * 10) ** 3);
    x[5] = -0;
    x[6] = 1.401298464324817e-45; // the smallest float32 subnormal
    const y = Int32Array.from({ length: rows }, (_, i) => i % 3);
    const meta = await saveDataset(t.services.db, tenant.id, { name: 'm', source: 'synthetic', task: 'classification', features, x, y, classNames: ['zebra', 'ant', 'moth'] });
    assert.equal(meta.chunkCount, 3);
    assert.deepEqual(meta.classNames, ['zebra', 'ant', 'moth']);
    assert.deepEqual(meta.classCounts, [Math.ceil(rows / 3), Math.ceil((rows - 1) / 3), Math.ceil((rows - 2) / 3)]);
    assert.deepEqual(meta.featureNames.slice(0, 2), ['x0', 'x1']);
    assert.equal(meta.byteSize, rows * features * 4 + rows * 4);
    assert.equal(meta.contentHash, createHash('sha256').update(new Uint8Array(x.buffer)).update(new Uint8Array(y.buffer)).digest('hex'));
    const loaded = (await loadDataset(t.services.db, tenant.id, meta.id))!;
    assert.ok(sameBits(loaded.x, x));
    assert.ok(loaded.y instanceof Int32Array && sameBits(loaded.y, y));
    assert.deepEqual({ ...loaded.meta }, { ...meta });
    const chunks = await t.services.db.datasetChunk.findMany({ where: { datasetId: meta.id }, orderBy: { index: 'asc' } });
    assert.deepEqual(chunks.map((c) => [c.index, c.rowStart, c.rowCount]), [[0, 0, rowsPerChunk(features)], [1, rowsPerChunk(features), rowsPerChunk(features)], [2, 2 * rowsPerChunk(features), 3]]);
    assert.ok(chunks.every((c) => c.features.byteLength <= CHUNK_FEATURE_BYTES));
  });

  it('round-trip a regression set with its target statistics', async () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const y = new Float32Array([0.5, -1.25]);
    const meta = await saveDataset(t.services.db, tenant.id, { name: 'r', source: 'synthetic', task: 'regression', features: 2, featureNames: ['a', 'b'], targetName: 't', x, y });
    assert.deepEqual([meta.task, meta.classNames, meta.targetName, meta.targetStats], ['regression', [], 't', { mean: -0.375, std: 0.875, min: -1.25, max: 0.5 }]);
    assert.deepEqual(meta.stats, [{ mean: 2, std: 1, min: 1, max: 3 }, { mean: 3, std: 1, min: 2, max: 4 }]);
    const loaded = (await loadDataset(t.services.db, tenant.id, meta.id))!;
    assert.ok(loaded.y instanceof Float32Array && sameBits(loaded.y, y));
  });

  it('refuses inconsistent input with an ApiError and stores nothing', async () => {
    const owner = await createTenant(t.services, 'refused');
    const base = { name: 'bad', source: 'synthetic' as const, features: 2 };
    const cases: [Parameters<typeof saveDataset>[2], string][] = [
      [{ ...base, task: 'regression', x: new Float32Array(3), y: new Float32Array(1) }, 'VALIDATION_FAILED'],
      [{ ...base, task: 'regression', x: new Float32Array(4), y: new Float32Array(3) }, 'VALIDATION_FAILED'],
      [{ ...base, task: 'regression', x: new Float32Array(0), y: new Float32Array(0) }, 'DATASET_EMPTY'],
      [{ ...base, task: 'regression', x: new Float32Array([1, NaN]), y: new Float32Array(1) }, 'DATASET_MISSING_VALUE'],
      [{ ...base, task: 'regression', x: new Float32Array(2), y: new Float32Array([Infinity]) }, 'DATASET_MISSING_VALUE'],
      [{ ...base, task: 'classification', x: new Float32Array(2), y: new Int32Array([0]), classNames: ['only'] }, 'DATASET_SINGLE_CLASS'],
      [{ ...base, task: 'classification', x: new Float32Array(2), y: new Int32Array([2]), classNames: ['a', 'b'] }, 'VALIDATION_FAILED'],
      [{ ...base, task: 'classification', x: new Float32Array(2), y: new Int32Array([0]), classNames: ['a', 'a'] }, 'VALIDATION_FAILED'],
      [{ ...base, task: 'classification', x: new Float32Array(2), y: new Int32Array([0]), classNames: ['a', 'b'], featureNames: ['one'] }, 'VALIDATION_FAILED'],
    ];
    for (const [input, code] of cases) {
      await assert.rejects(saveDataset(t.services.db, owner.id, input), (e: unknown) => e instanceof ApiError && e.code === code, code);
    }
    assert.deepEqual(await stored(t.services.db, owner.id), { datasets: 0, chunks: 0 });
  });

  it('loadDataset refuses torn or altered chunks rather than train on them', async () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const meta = await saveDataset(t.services.db, tenant.id, { name: 't', source: 'synthetic', task: 'classification', features: 2, x, y: new Int32Array([0, 1]), classNames: ['a', 'b'] });
    const db = t.services.db;
    await db.datasetChunk.update({ where: { datasetId_index: { datasetId: meta.id, index: 0 } }, data: { features: new Uint8Array(new Float32Array([1, 2, 3, 5]).buffer) } });
    await assert.rejects(loadDataset(db, tenant.id, meta.id), /content hash mismatch/);
    await db.datasetChunk.update({ where: { datasetId_index: { datasetId: meta.id, index: 0 } }, data: { features: new Uint8Array(12) } });
    await assert.rejects(loadDataset(db, tenant.id, meta.id), /does not continue row 0 with the declared shape/);
  });
});

describe('codec, statistics and class order', () => {
  it('sizes chunks to at most 1 MiB of features, and at least one row', () => {
    assert.equal(rowsPerChunk(1), 262_144);
    assert.equal(rowsPerChunk(784), 334);
    assert.equal(rowsPerChunk(4096), 64);
    assert.equal(rowsPerChunk(300_000), 1);
    for (const f of [1, 3, 784, 4096]) assert.ok(rowsPerChunk(f) * f * 4 <= CHUNK_FEATURE_BYTES);
  });

  it("Welford's statistics agree with a two-pass computation", () => {
    const rng = new Rng(3);
    const rows = 5000;
    const data = Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? 1e6 : 0) + rng.normal() * 3);
    const acc = new ColumnStatsAccumulator(2);
    acc.pushRows(data, rows);
    const result = acc.result();
    for (let c = 0; c < 2; c++) {
      const column = Array.from({ length: rows }, (_, r) => data[r * 2 + c]!);
      const mean = column.reduce((a, b) => a + b, 0) / rows;
      const std = Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / rows);
      assert.ok(Math.abs(result[c]!.mean - mean) < 1e-9 * Math.max(1, Math.abs(mean)));
      assert.ok(Math.abs(result[c]!.std - std) < 1e-9);
      assert.equal(result[c]!.min, Math.min(...column));
      assert.equal(result[c]!.max, Math.max(...column));
    }
  });

  it('orders numeric classes by value and others naturally, whatever order they arrive in', () => {
    assert.deepEqual(orderClassNames(['10', '-1', '2', '1.5']), ['-1', '1.5', '2', '10']);
    assert.deepEqual(orderClassNames(['class10', 'class2', 'Class1', 'class1']), ['Class1', 'class1', 'class2', 'class10']);
    assert.deepEqual(orderClassNames(['b', 'a10', 'a9', 'a09', 'A']), ['A', 'a09', 'a9', 'a10', 'b']);
    assert.deepEqual(orderClassNames(['x', '2', '10']), ['2', '10', 'x']);
    assert.deepEqual(orderClassNames(['n99999999999999999999', 'n100000000000000000000']), ['n99999999999999999999', 'n100000000000000000000']);
  });
});
