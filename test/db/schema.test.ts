/** schema.prisma and the SQL migrations agree: every model round-trips through the generated client, and every scalar field is a column. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { toBytes } from '../../src/db/bytes.js';
import { createDb, type Db } from '../../src/db/client.js';
import { testConfig, uniqueName } from '../helpers/app.js';

/** model name → scalar field names, read from schema.prisma (relation fields are the ones typed with a model name). */
async function scalarFieldsBySchema(): Promise<Map<string, string[]>> {
  const schema = await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
  const blocks = [...schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
  const models = new Set(blocks.map((b) => b[1]!));
  const result = new Map<string, string[]>();
  for (const [, name, body] of blocks) {
    const fields = body!
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^\w+\s+\w/.test(line) && !line.startsWith('@@'))
      .map((line) => line.split(/\s+/) as [string, string])
      .filter(([, type]) => !models.has(type.replace(/[?[\]]/g, '')))
      .map(([field]) => field);
    result.set(name!, fields.sort());
  }
  return result;
}

describe('schema.prisma ↔ migrations', () => {
  let db: Db;
  before(() => {
    db = createDb(testConfig(), { poolSize: 2 });
  });
  after(() => db.$disconnect());

  it('every scalar field of every model is a column of its table, and nothing else is', async () => {
    const expected = await scalarFieldsBySchema();
    assert.ok(expected.size >= 8);
    for (const [model, fields] of expected) {
      const rows = await db.$queryRaw<{ column_name: string }[]>`
        SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${model}`;
      assert.deepEqual(rows.map((r) => r.column_name).sort(), fields, model);
    }
  });

  it('creates, reads, updates and deletes every model through the generated client', async () => {
    const tenant = await db.tenant.create({ data: { name: uniqueName('crud') } });
    const key = await db.apiKey.create({ data: { tenantId: tenant.id, prefix: uniqueName('p'), hash: toBytes(new Uint8Array(32).fill(7)), label: 'l' } });
    assert.equal((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).hash.length, 32);

    const dataset = await db.dataset.create({
      data: {
        tenantId: tenant.id, name: 'iris', source: 'csv', sourceParams: { delimiter: ',' }, task: 'classification',
        rows: 2, features: 2, featureNames: ['a', 'b'], targetName: 'y', classNames: ['x', 'z'], classCounts: [1, 1],
        stats: [{ mean: 0, std: 1, min: -1, max: 1 }], byteSize: 5_000_000_000n, contentHash: 'abc', chunkCount: 1,
      },
    });
    const features = toBytes(new Float32Array([1.5, -2, 3, 4]));
    await db.datasetChunk.create({ data: { datasetId: dataset.id, index: 0, rowStart: 0, rowCount: 2, features, targets: toBytes(new Int32Array([0, 1])) } });
    const chunk = await db.datasetChunk.findUniqueOrThrow({ where: { datasetId_index: { datasetId: dataset.id, index: 0 } } });
    assert.deepEqual(new Float32Array(toBytes(chunk.features).buffer), new Float32Array([1.5, -2, 3, 4]));
    assert.equal((await db.dataset.findUniqueOrThrow({ where: { id: dataset.id } })).byteSize, 5_000_000_000n);

    const job = await db.job.create({ data: { tenantId: tenant.id, datasetId: dataset.id, spec: { layers: [100] }, parameterCount: 26, totalSteps: 10 } });
    assert.equal(job.status, 'queued');
    assert.equal(job.attempt, 0);
    assert.deepEqual(job.warnings, []);
    const running = await db.job.update({ where: { id: job.id }, data: { status: 'running', attempt: { increment: 1 }, startedAt: new Date(), bestMetric: 0.5 } });
    assert.equal(running.attempt, 1);

    await db.metric.create({ data: { jobId: job.id, step: 1, epoch: 0, trainLoss: 1, dataLoss: 0.9, regLoss: 0.1, learningRate: 0.01, samplesPerSec: 100, layers: [{ gradNorm: 1 }] } });
    await assert.rejects(db.metric.create({ data: { jobId: job.id, step: 1, epoch: 0, trainLoss: 1, dataLoss: 1, regLoss: 0, learningRate: 0.01, samplesPerSec: 1 } }));
    await db.metric.upsert({
      where: { jobId_step: { jobId: job.id, step: 1 } },
      update: { trainLoss: 0.5 },
      create: { jobId: job.id, step: 1, epoch: 0, trainLoss: 0.5, dataLoss: 0.5, regLoss: 0, learningRate: 0.01, samplesPerSec: 1 },
    });
    assert.equal((await db.metric.findUniqueOrThrow({ where: { jobId_step: { jobId: job.id, step: 1 } } })).trainLoss, 0.5);

    const checkpoint = await db.checkpoint.create({ data: { jobId: job.id, attempt: 1, step: 1, epoch: 0, state: toBytes(new Uint8Array([1, 2, 3])), isBest: true } });
    assert.equal(checkpoint.isFinal, false);

    const model = await db.model.create({
      data: {
        tenantId: tenant.id, jobId: job.id, datasetId: dataset.id, name: 'm', task: 'classification', spec: {}, parameterCount: 26,
        featureNames: ['a', 'b'], classNames: ['x', 'z'], preprocessing: { kind: 'none' }, weights: toBytes(new Float32Array(26)),
      },
    });
    await assert.rejects(db.model.create({ data: { ...model, id: undefined, spec: {}, preprocessing: {}, metrics: {}, inputRange: [], inputEncoding: {} } }), 'one model per job');
    const warm = await db.job.create({ data: { tenantId: tenant.id, datasetId: dataset.id, warmStartId: model.id, spec: {}, parameterCount: 26, totalSteps: 1 } });
    assert.equal((await db.job.findUniqueOrThrow({ where: { id: warm.id }, include: { warmStart: true } })).warmStart?.id, model.id);

    // Deleting the dataset keeps jobs and models (their dataset reference becomes null); deleting the tenant removes everything.
    await db.dataset.delete({ where: { id: dataset.id } });
    assert.equal((await db.job.findUniqueOrThrow({ where: { id: job.id } })).datasetId, null);
    assert.equal((await db.model.findUniqueOrThrow({ where: { id: model.id } })).datasetId, null);
    assert.equal(await db.datasetChunk.count({ where: { datasetId: dataset.id } }), 0);
    await db.tenant.delete({ where: { id: tenant.id } });
    for (const count of [db.apiKey.count({ where: { tenantId: tenant.id } }), db.job.count({ where: { tenantId: tenant.id } }), db.metric.count({ where: { jobId: job.id } }), db.checkpoint.count({ where: { jobId: job.id } }), db.model.count({ where: { tenantId: tenant.id } })]) {
      assert.equal(await count, 0);
    }
  });
});
