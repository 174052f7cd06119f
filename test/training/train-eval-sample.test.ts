/**
 * Issue 9 (6a): the training split's epoch-end evaluation (trainLoss / trainAccuracy of the record) uses a seeded
 * sample of the training rows, fixed per job — not the first rows in upload order, which are biased when the upload
 * is sorted (here by label).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createFastContext } from '../../src/engine/fast-context.js';
import { createNetwork } from '../../src/engine/network.js';
import { Rng } from '../../src/engine/rng.js';
import { planJob } from '../../src/jobs/plan.js';
import { prepareData, TRAIN_EVAL_ROWS } from '../../src/training/prepare-data.js';
import { runTrainer } from '../../src/training/run-trainer.js';
import { trainEvalSample } from '../../src/training/split.js';
import { createControlBlock, type TrainerInput, type TrainerMessage } from '../../src/training/trainer-protocol.js';

const ROWS = 30_000;

/**
 * 30,000 rows sorted by label, 10,000 per class: class 0 around (3, 0), far from the others; classes 1 and 2 drawn
 * from one distribution around (−3, 0), so no network tells them apart. A trained network gets class 0 right and
 * half of the rest: about 2/3 over the whole split — but nearly 1 on the first 10,000 rows (almost all class 0).
 */
function sortedByLabel() {
  const rng = new Rng(31);
  const x = new Float32Array(ROWS * 2), y = new Int32Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    const c = Math.floor(r / (ROWS / 3));
    y[r] = c;
    x[2 * r] = (c === 0 ? 3 : -3) + rng.normal();
    x[2 * r + 1] = rng.normal();
  }
  return { rows: ROWS, features: 2, x, y };
}

function classShares(y: Int32Array | Float32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]!++;
  return counts.map((n) => n / y.length);
}

describe('training metrics on a seeded sample of the training split', () => {
  it('trainEvalSample: every row when there are few; else a seeded, ascending sample without repeats', () => {
    assert.deepEqual(Array.from(trainEvalSample(5, 4, 10)), [0, 1, 2, 3]);
    const a = trainEvalSample(5, 50_000, 10_000);
    assert.equal(a.length, 10_000);
    assert.ok(a.every((v, i) => v >= 0 && v < 50_000 && (i === 0 || v > a[i - 1]!)), 'ascending, distinct, in range');
    assert.deepEqual(trainEvalSample(5, 50_000, 10_000), a, 'the same for the same seed (a resumed job evaluates the same rows)');
    assert.notDeepEqual(trainEvalSample(6, 50_000, 10_000), a, 'another seed, another sample');
    assert.ok(a[a.length - 1]! > 40_000 && a[0]! < 100, 'spread over the whole split');
  });

  it('prepareData: on a label-sorted upload the sample has the split’s class proportions, and holds its rows', () => {
    const data = sortedByLabel();
    const prepared = prepareData(data, 0.1, 7, { type: 'standardize' }, null);
    const { train, trainEval } = prepared;
    assert.equal(train.rows, 27_000);
    assert.equal(trainEval.rows, TRAIN_EVAL_ROWS);
    const whole = classShares(train.y, 3), sample = classShares(trainEval.y, 3), first = classShares(train.y.subarray(0, TRAIN_EVAL_ROWS), 3);
    assert.ok(first[0]! > 0.85, `the first rows are biased (class 0: ${first[0]})`);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(sample[c]! - whole[c]!) < 0.02, `class ${c}: ${sample[c]} in the sample, ${whole[c]} in the split`);
    const positions = trainEvalSample(7, train.rows, TRAIN_EVAL_ROWS);
    for (const i of [0, 1234, TRAIN_EVAL_ROWS - 1]) {
      const p = positions[i]!;
      assert.deepEqual(trainEval.x.subarray(2 * i, 2 * i + 2), train.x.subarray(2 * p, 2 * p + 2), `sample row ${i} is training row ${p}`);
      assert.equal(trainEval.y[i], train.y[p]);
    }
    const small = prepareData({ ...data, rows: 9_000 }, 0.1, 7, { type: 'standardize' }, null);
    assert.equal(small.trainEval, small.train, 'a split of at most 10,000 rows is evaluated whole');
  });

  it('a job on a label-sorted upload reports the training accuracy of the whole split, not of its first rows', async () => {
    const dataset = sortedByLabel();
    const facts = { id: '00000000-0000-4000-8000-000000000002', name: 'sorted', task: 'classification' as const, rows: ROWS, features: 2, classes: 3 };
    const plan = planJob({
      datasetId: facts.id, network: { layers: [{ units: 16 }] }, optimizer: { type: 'adam', learningRate: 0.01 },
      training: { epochs: 1, batchSize: 256, seed: 3, keep: 'final' },
    }, facts, { parameters: 1e9, epochRows: 1e12 });
    const config = loadConfig({});
    const input: TrainerInput = {
      jobId: 'sorted', attempt: 1, spec: plan.spec, network: plan.network, dataset: { ...dataset, x: dataset.x.slice(), y: dataset.y.slice() },
      resume: null, warmStart: null, engineThreads: 1, health: config.health, decisionGrid: config.decisionGrid, control: createControlBlock(),
    };
    const messages: TrainerMessage[] = [];
    await runTrainer(input, (m) => {
      messages.push(m);
      if (m.type === 'metrics' || m.type === 'checkpoint') Atomics.add(input.control, 1, 1);
      if (m.type === 'checkpoint') Atomics.add(input.control, 2, 1);
    });
    const final = messages.at(-1)!;
    assert.equal(final.type, 'finished', JSON.stringify(final).slice(0, 300));
    if (final.type !== 'finished') return;
    const reported = final.finalMetrics!.trainAccuracy!;

    // The final network over the whole training split (the same preprocessing), and over its first 10,000 rows.
    const { train } = prepareData(dataset, plan.spec.training.validationFraction, plan.spec.training.seed, plan.spec.preprocessing, final.preprocessing);
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 4 });
    try {
      const network = createNetwork(plan.network, { ctx, maxBatch: 1024, seed: 0, optimizer: { type: 'sgd', learningRate: 1 } });
      const layout = network.layout.entries.map((e) => ({ name: e.name, rows: e.rows, cols: e.cols, offset: e.packedOffset }));
      network.importWeights({ layout, values: final.weights });
      const whole = network.evaluate(train.x, train.y, train.rows).accuracy!;
      const first = network.evaluate(train.x, train.y, TRAIN_EVAL_ROWS).accuracy!;
      assert.ok(whole > 0.6 && whole < 0.75, `whole split accuracy ${whole} (class 0 right, 1 and 2 a coin toss)`);
      assert.ok(first > 0.9, `the first rows would report ${first}`);
      assert.ok(Math.abs(reported - whole) < 0.02, `reported training accuracy ${reported}, whole split ${whole}`);
    } finally {
      await ctx.close();
    }
  });
});
