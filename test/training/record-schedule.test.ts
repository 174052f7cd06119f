/**
 * Jobs whose epochs are much shorter than `metrics.everySteps` (a full batch: one step per epoch) record only every
 * k-th epoch end (src/training/record-schedule.ts), in the trainer in-process without Postgres: which epochs are
 * recorded; that thinning changes nothing that is trained or chosen (weights, best epoch, early stopping and the
 * learning-curve warnings see every epoch); forced records (early stop, a warning, ASHA rungs); live grids at recorded
 * epochs only; and exact resume from every checkpoint.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import { planJob } from '../../src/jobs/plan.js';
import { RecordSchedule, recordEveryEpochs } from '../../src/training/record-schedule.js';
import { runTrainer } from '../../src/training/run-trainer.js';
import { createControlBlock, type TrainerInput, type TrainerMessage } from '../../src/training/trainer-protocol.js';

const spiral = generateSynthetic('spiral', { n: 60, classes: 3, noise: 0.2 }, 5);
const DATASET = { id: '00000000-0000-4000-8000-000000000002', name: 'spiral', task: 'classification' as const, rows: 180, features: 2, classes: 3 };
const DEFAULTS = loadConfig({});

/** A full-batch spiral job: 162 training rows in one batch, so one step per epoch. */
const FULL_BATCH = {
  network: { layers: [{ units: 24, activation: 'relu' }] },
  optimizer: { type: 'sgd', learningRate: 1 },
  regularization: { l2: 1e-3 },
  training: { epochs: 60, batchSize: 162, seed: 3 },
  checkpoints: { everySteps: 7, everySeconds: 3600, keep: 3 },
  metrics: { everySteps: 10 },
};

function inputFor(body: object, overrides: Partial<TrainerInput> = {}): TrainerInput {
  const plan = planJob({ datasetId: DATASET.id, ...body }, DATASET, { parameters: 1e9, epochRows: 1e12 }, { randomSeed: () => 99 });
  return {
    jobId: 'job', attempt: 1, spec: plan.spec, network: plan.network,
    dataset: { rows: 180, features: 2, x: spiral.x.slice(), y: (spiral.y as Int32Array).slice() },
    resume: null, warmStart: null, engineThreads: 1, health: DEFAULTS.health, decisionGrid: DEFAULTS.decisionGrid, control: createControlBlock(), ...overrides,
  };
}

async function run(input: TrainerInput) {
  const messages: TrainerMessage[] = [];
  await runTrainer(input, (m) => {
    messages.push(m);
    if (m.type === 'metrics' || m.type === 'checkpoint') {
      Atomics.add(input.control, 1, 1);
      if (m.type === 'checkpoint') Atomics.add(input.control, 2, 1);
    }
  });
  const final = messages.at(-1)!;
  assert.equal(final.type, 'finished', JSON.stringify(final));
  return {
    records: messages.flatMap((m) => (m.type === 'metrics' ? [m.record] : [])),
    warnings: messages.flatMap((m) => (m.type === 'metrics' ? m.warnings : [])),
    decisions: messages.flatMap((m) => (m.type === 'metrics' && m.decision ? [{ step: m.record.step, ...m.decision }] : [])),
    checkpoints: messages.flatMap((m) => (m.type === 'checkpoint' ? [m] : [])),
    final: final as Extract<TrainerMessage, { type: 'finished' }>,
  };
}

const withoutClock = <T extends { samplesPerSec: number }>(records: T[]) => records.map(({ samplesPerSec: _s, ...rest }) => rest);
const curveWarnings = (warnings: { code: string; step: number }[]) => warnings.filter((w) => w.code === 'LOSS_FLAT' || w.code === 'OVERFITTING');

describe('record schedule of short epochs', () => {
  it('k is everySteps / steps per epoch, rounded; k = 1 keeps every epoch end and every N-th step', () => {
    assert.equal(recordEveryEpochs(1, 10), 10);
    assert.equal(recordEveryEpochs(3, 10), 3);
    assert.equal(recordEveryEpochs(5, 10), 2);
    assert.equal(recordEveryEpochs(9, 10), 1);
    assert.equal(recordEveryEpochs(40, 10), 1);
    const usual = new RecordSchedule(9, 10, 100);
    assert.equal(usual.thinned, false);
    assert.deepEqual([9, 10, 11, 18, 20].map((step) => usual.due(step, Math.ceil(step / 9), step % 9 === 0)), [true, true, false, true, true]);
    const short = new RecordSchedule(1, 10, 35, [3]);
    const recorded = Array.from({ length: 35 }, (_, i) => i + 1).filter((e) => short.due(e, e, true));
    assert.deepEqual(recorded, [1, 3, 10, 20, 30, 35], 'the first, every 10th, the rungs and the last');
  });

  it('a full-batch job records epochs 1, 10, 20, … and the last, each with its evaluation; what is trained and chosen is the same as recording every epoch', async () => {
    const thinned = await run(inputFor(FULL_BATCH));
    assert.deepEqual(thinned.records.map((r) => r.epoch), [1, 10, 20, 30, 40, 50, 60]);
    assert.deepEqual(thinned.records.map((r) => r.step), [1, 10, 20, 30, 40, 50, 60]);
    assert.ok(thinned.records.every((r) => r.trainAccuracy !== null && r.valLoss !== null && r.layers.length === 2), 'epoch-end records with layer statistics');
    assert.ok(thinned.records.slice(1).every((r) => r.layers.every((l) => l.updateRatio !== null)), 'scheduled records measure the update ratio');

    const every = await run(inputFor({ ...FULL_BATCH, metrics: { everySteps: 1 } }));
    assert.equal(every.records.length, 60, 'everySteps 1: every epoch end');
    assert.deepEqual(thinned.final.weights, every.final.weights, 'the same weights become the model');
    assert.equal(thinned.final.weightsStep, every.final.weightsStep);
    assert.deepEqual(thinned.final.modelMetrics, every.final.modelMetrics, 'the best epoch is chosen among all epochs');
    assert.deepEqual(thinned.final.finalMetrics, every.final.finalMetrics);
    assert.deepEqual(thinned.records.map((r) => r.valLoss), every.records.filter((r) => thinned.records.some((t) => t.step === r.step)).map((r) => r.valLoss));
  });

  it('the learning-curve warnings judge every epoch; one raised at an epoch end the schedule skips is recorded there', async () => {
    const health = { ...DEFAULTS.health, lossFlatEpochs: 2, lossFlatMinDecrease: 0.5, lossFlatAbove: 0 };
    const body = { ...FULL_BATCH, metrics: { everySteps: 25 } };
    const thinned = await run(inputFor(body, { health }));
    const every = await run(inputFor({ ...body, metrics: { everySteps: 1 } }, { health }));
    const flat = curveWarnings(every.warnings);
    assert.equal(flat.length, 1, 'LOSS_FLAT is raised');
    assert.notEqual(flat[0]!.step % 25, 0, `raised at step ${flat[0]!.step}, an epoch end the schedule skips`);
    assert.deepEqual(curveWarnings(thinned.warnings), flat, 'raised at the same epoch end');
    const forced = thinned.records.find((r) => r.step === flat[0]!.step);
    assert.ok(forced, 'its epoch end is recorded');
    assert.ok(forced.layers.length === 2 && forced.layers.every((l) => l.updateRatio === null), 'with layer statistics, the update ratio unmeasured');
  });

  it('early stopping sees every epoch, and its last epoch is recorded', async () => {
    const body = { ...FULL_BATCH, training: { ...FULL_BATCH.training, epochs: 2000, earlyStopping: { patience: 7, minDelta: 0.01 } } };
    const thinned = await run(inputFor(body));
    const every = await run(inputFor({ ...body, metrics: { everySteps: 1 } }));
    assert.equal(thinned.final.outcome, 'early-stopped');
    assert.equal(thinned.final.epoch, every.final.epoch);
    assert.equal(thinned.records.at(-1)!.epoch, thinned.final.epoch, 'the epoch that stopped the job is recorded');
    assert.equal(thinned.final.epoch - thinned.final.modelMetrics!.epoch, 7);
    assert.deepEqual(thinned.final.weights, every.final.weights);
  });

  it('epochs a sweep judges (ASHA rungs) are recorded; live grids come at recorded epochs, at most about 50 per job', async () => {
    const rungs = await run(inputFor(FULL_BATCH, { recordEpochs: [3, 9, 27] }));
    assert.deepEqual(rungs.records.map((r) => r.epoch), [1, 3, 9, 10, 20, 27, 30, 40, 50, 60]);

    const grids = await run(inputFor(FULL_BATCH, { decisionGrid: { resolution: 6, everyEpochs: 5 } }));
    assert.deepEqual(grids.decisions.map((d) => d.epoch), [10, 20, 30, 40, 50, 60], 'every 5 epochs rounded up to the record schedule');
    assert.ok(grids.decisions.every((d) => grids.records.some((r) => r.step === d.step)));
    const long = await run(inputFor({ ...FULL_BATCH, training: { ...FULL_BATCH.training, epochs: 1000 } }, { decisionGrid: { resolution: 4, everyEpochs: 5 } }));
    assert.equal(long.decisions.length, 50, 'one every 20 epochs');
  });

  it('resuming from any checkpoint continues exactly: records, warnings, grids, weights', async () => {
    const health = { ...DEFAULTS.health, lossFlatEpochs: 2, lossFlatMinDecrease: 0.5, lossFlatAbove: 0 };
    const settings = { health, decisionGrid: { resolution: 6, everyEpochs: 5 } };
    const full = await run(inputFor(FULL_BATCH, settings));
    assert.ok(full.checkpoints.length >= 5);
    assert.ok(full.checkpoints.every((c) => full.records.some((r) => r.step === c.step)), 'checkpoints only at records');
    let best: (typeof full.checkpoints)[number] | null = null;
    for (const checkpoint of full.checkpoints) {
      if (checkpoint.isBest) best = checkpoint;
      const resumed = await run(inputFor(FULL_BATCH, { ...settings, resume: { latest: checkpoint.state, best: best && best.step !== checkpoint.step ? best.state : null } }));
      const after = (step: number) => step > checkpoint.step;
      assert.deepEqual(withoutClock(resumed.records), withoutClock(full.records.filter((r) => after(r.step))), `records after step ${checkpoint.step}`);
      assert.deepEqual(resumed.warnings, full.warnings.filter((w) => after(w.step)));
      assert.deepEqual(resumed.decisions, full.decisions.filter((d) => after(d.step)));
      assert.deepEqual(resumed.final.weights, full.final.weights, `weights after resuming at step ${checkpoint.step}`);
      assert.deepEqual(resumed.final.modelMetrics, full.final.modelMetrics);
    }
  });
});
