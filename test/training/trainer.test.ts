/**
 * The trainer in-process (runTrainer, as the trainer thread runs it, without Postgres): resuming from every checkpoint
 * reproduces the uninterrupted run exactly (records and weights, best-weights bookkeeping included, health warnings
 * and decision grids), results do not
 * depend on the engine's thread count, stop commands, early stopping, warm starts, and the seeded split and order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { generateSynthetic } from '../../src/datasets/synthetic/index.js';
import { planJob, type JobSpec } from '../../src/jobs/plan.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/training/checkpoint-state.js';
import { runTrainer } from '../../src/training/run-trainer.js';
import { startTrainer } from '../../src/training/trainer-host.js';
import { epochOrder, splitRows } from '../../src/training/split.js';
import {
  createControlBlock, requestStop, StopCommand, type TrainerInput, type TrainerMessage,
} from '../../src/training/trainer-protocol.js';

const spiral = generateSynthetic('spiral', { n: 60, classes: 3, noise: 0.2 }, 5);
const DATASET = { id: '00000000-0000-4000-8000-000000000001', name: 'spiral', task: 'classification' as const, rows: 180, features: 2, classes: 3 };
const LIMITS = { parameters: 1e9, epochRows: 1e12 };
const DEFAULTS = loadConfig({});

function inputFor(body: object, overrides: Partial<TrainerInput> = {}): TrainerInput {
  const plan = planJob({ datasetId: DATASET.id, ...body }, DATASET, LIMITS, { randomSeed: () => 99 });
  return {
    jobId: 'job', attempt: 1, spec: plan.spec, network: plan.network,
    dataset: { rows: 180, features: 2, x: spiral.x.slice(), y: (spiral.y as Int32Array).slice() },
    resume: null, warmStart: null, engineThreads: 1, health: DEFAULTS.health, decisionGrid: DEFAULTS.decisionGrid, control: createControlBlock(), ...overrides,
  };
}

type Final = Extract<TrainerMessage, { type: 'finished' | 'stopped' | 'diverged' | 'error' }>;
type Checkpoint = Extract<TrainerMessage, { type: 'checkpoint' }>;

async function run(input: TrainerInput, onMessage: (m: TrainerMessage) => void = () => {}) {
  const messages: TrainerMessage[] = [];
  await runTrainer(input, (m) => {
    messages.push(m);
    // Acknowledge every write at once, as a main thread with an instant database would.
    if (m.type === 'metrics' || m.type === 'checkpoint') {
      Atomics.add(input.control, 1, 1);
      if (m.type === 'checkpoint') Atomics.add(input.control, 2, 1);
    }
    onMessage(m);
  });
  const final = messages[messages.length - 1] as Final;
  return {
    records: messages.flatMap((m) => (m.type === 'metrics' ? [m.record] : [])),
    warnings: messages.flatMap((m) => (m.type === 'metrics' ? m.warnings : [])),
    decisions: messages.flatMap((m) => (m.type === 'metrics' && m.decision ? [{ step: m.record.step, ...m.decision }] : [])),
    checkpoints: messages.filter((m): m is Checkpoint => m.type === 'checkpoint'),
    final,
  };
}

const withoutClock = <T extends { samplesPerSec: number }>(records: T[]) => records.map(({ samplesPerSec: _s, ...rest }) => rest);

const BODY = {
  network: { layers: [{ units: 32, activation: 'relu', dropout: 0.2 }, { units: 16, activation: 'tanh' }], inputNoise: 0.05 },
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 12, batchSize: 16, seed: 11, earlyStopping: { patience: 100 } },
  checkpoints: { everySteps: 7, everySeconds: 3600, keep: 3 },
  metrics: { everySteps: 3 },
};

describe('trainer', () => {
  it('resuming from any checkpoint continues exactly: same records, same weights, same best model', async () => {
    const full = await run(inputFor(BODY));
    assert.equal(full.final.type, 'finished');
    if (full.final.type !== 'finished') return;
    assert.equal(full.final.weightsSource, 'best');
    assert.ok(full.checkpoints.length >= 12, 'a checkpoint every 7 steps (at the next record)');
    assert.ok(full.checkpoints.every((c) => c.trigger === 'steps' || c.trigger === 'end'), 'epoch ends checkpoint only when the step rule is due');
    assert.ok(full.checkpoints.every((c) => full.records.some((r) => r.step === c.step)), 'checkpoints only at metrics records');

    let best: Checkpoint | null = null; // the checkpoint marked best when `checkpoint` was the newest
    for (const checkpoint of full.checkpoints) {
      if (checkpoint.isBest) best = checkpoint;
      const resumed = await run(inputFor(BODY, { resume: { latest: checkpoint.state, best: best && best.step !== checkpoint.step ? best.state : null } }));
      assert.equal(resumed.final.type, 'finished');
      if (resumed.final.type !== 'finished') return;
      assert.deepEqual(withoutClock(resumed.records), withoutClock(full.records.filter((r) => r.step > checkpoint.step)), `records after step ${checkpoint.step}`);
      assert.deepEqual(resumed.final.weights, full.final.weights, `model weights after resuming at step ${checkpoint.step}`);
      assert.equal(resumed.final.weightsStep, full.final.weightsStep);
      assert.deepEqual(resumed.final.modelMetrics, full.final.modelMetrics);
    }
  });

  it('health warnings and decision grids continue exactly after resuming from any checkpoint: none lost, none repeated', async () => {
    // Thresholds that make this healthy little job raise warnings at several points of its run.
    const health = {
      ...DEFAULTS.health, updateRatioHigh: 0.012, sustainRecords: 2, saturatedFraction: 0.05, lossFlatEpochs: 2, lossFlatMinDecrease: 0.3, lossFlatAbove: 0,
      overfittingEpochs: 2, overfittingMinRise: 0,
    };
    const input = (overrides: Partial<TrainerInput> = {}) => inputFor(BODY, { health, decisionGrid: { resolution: 8, everyEpochs: 3 }, ...overrides });
    const full = await run(input());
    // (No OVERFITTING: its validation split of 18 rows is under the 50 it needs; test/training/overfitting.test.ts.)
    assert.deepEqual(full.warnings.map((w) => `${w.code}:${w.layer ?? ''}`).sort(), [
      'LOSS_FLAT:', 'SATURATED:dense2', 'UPDATE_RATIO:dense2', 'UPDATE_RATIO:output',
    ]);
    const steps = new Set(full.warnings.map((w) => w.step));
    assert.ok(steps.size >= 3, `raised at steps ${[...steps].join(', ')}`);
    assert.deepEqual(full.decisions.map((d) => d.epoch), [3, 6, 9, 12], 'every 3 epochs (1-based), and the last');
    for (const d of full.decisions) {
      assert.equal(d.classes.length, 64);
      assert.ok(d.classes.every((c) => c === 0 || c === 1 || c === 2));
    }
    assert.ok(new Set(full.decisions.at(-1)!.classes).size === 3, 'the trained network predicts all three arms somewhere');

    for (const checkpoint of full.checkpoints) {
      const resumed = await run(input({ resume: { latest: checkpoint.state, best: null } }));
      const after = (step: number) => step > checkpoint.step;
      assert.deepEqual(resumed.warnings, full.warnings.filter((w) => after(w.step)), `warnings after step ${checkpoint.step}`);
      assert.deepEqual(resumed.decisions, full.decisions.filter((d) => after(d.step)), `grids after step ${checkpoint.step}`);
    }
  });

  it('gives bit-identical results with 1 and 2 engine threads', async () => {
    const wide = { ...BODY, network: { layers: [{ units: 160, activation: 'relu' }] }, training: { ...BODY.training, epochs: 3, batchSize: 64 } };
    const one = await run(inputFor(wide));
    const two = await run(inputFor(wide, { engineThreads: 2 }));
    assert.deepEqual(withoutClock(two.records), withoutClock(one.records));
    assert.ok(one.final.type === 'finished' && two.final.type === 'finished');
    assert.deepEqual(two.final.weights, one.final.weights);
  });

  it('hand-back stops at a metrics-record boundary with a checkpoint there; cancel stops at once without one', async () => {
    const handBack = inputFor(BODY);
    const handed = await run(handBack, (m) => {
      if (m.type === 'metrics' && m.record.step === 12) requestStop(handBack.control, StopCommand.HAND_BACK);
    });
    assert.deepEqual(handed.final.type === 'stopped' && handed.final.reason, 'hand-back');
    const last = handed.checkpoints[handed.checkpoints.length - 1]!;
    assert.equal(last.trigger, 'hand-back');
    assert.equal(last.step, 12, 'checkpointed at the record boundary');
    assert.equal(handed.records[handed.records.length - 1]!.step, 12);

    const cancel = inputFor(BODY);
    const cancelled = await run(cancel, (m) => {
      if (m.type === 'metrics' && m.record.step === 6) requestStop(cancel.control, StopCommand.CANCEL);
    });
    assert.deepEqual(cancelled.final.type === 'stopped' && cancelled.final, { type: 'stopped', reason: 'cancel', step: 6, epoch: 1 }, 'step 6 is in the first epoch');
    assert.ok(cancelled.checkpoints.every((c) => c.step <= 6));
  });

  it('stops early when the monitored metric stops improving, and the model is the best epoch', async () => {
    const body = { ...BODY, training: { ...BODY.training, epochs: 400, earlyStopping: { patience: 3, minDelta: 0.001 } } };
    const result = await run(inputFor(body));
    assert.ok(result.final.type === 'finished');
    if (result.final.type !== 'finished') return;
    assert.equal(result.final.outcome, 'early-stopped');
    assert.ok(result.final.epoch < 400);
    const epochEnds = result.records.filter((r) => r.valLoss !== null);
    assert.equal(epochEnds.length, result.final.epoch);
    const best = result.final.modelMetrics!;
    assert.equal(best.valLoss, Math.min(...epochEnds.map((r) => r.valLoss!)));
    assert.equal(result.final.epoch - best.epoch, 3, 'patience epochs after the best (both 1-based: epochs completed)');
  });

  it('a warm start begins from the given weights', async () => {
    const first = await run(inputFor(BODY));
    assert.ok(first.final.type === 'finished');
    if (first.final.type !== 'finished') return;
    const cold = await run(inputFor({ ...BODY, training: { ...BODY.training, epochs: 1 } }));
    const warm = await run(inputFor({ ...BODY, training: { ...BODY.training, epochs: 1 } }, {
      warmStart: { weights: first.final.weights, preprocessing: first.final.preprocessing },
    }));
    const accuracy = (r: typeof cold) => r.records[r.records.length - 1]!.trainAccuracy!;
    const trained = first.final.modelMetrics!.trainAccuracy!;
    assert.ok(accuracy(warm) >= trained - 0.05, `warm ${accuracy(warm)} vs the model's ${trained}`);
    assert.ok(accuracy(cold) < trained - 0.1, `cold ${accuracy(cold)} vs the model's ${trained}`);
  });

  it('derives the split and each epoch order from the seed alone', () => {
    const a = splitRows(100, 0.2, 3);
    assert.deepEqual(splitRows(100, 0.2, 3), a);
    assert.equal(a.validation.length, 20);
    assert.deepEqual([...a.train, ...a.validation].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual(splitRows(100, 0.2, 4).validation, a.validation);
    assert.deepEqual(epochOrder(3, 5, 50), epochOrder(3, 5, 50));
    assert.notDeepEqual(epochOrder(3, 5, 50), epochOrder(3, 6, 50));
    assert.deepEqual([...epochOrder(3, 5, 50)].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  });

  it('encodes and decodes checkpoint state exactly, and rejects foreign bytes', async () => {
    const result = await run(inputFor({ ...BODY, training: { ...BODY.training, epochs: 1 } }));
    const state = decodeCheckpoint(result.checkpoints[0]!.state);
    const again = encodeCheckpoint(state);
    assert.deepEqual(again, result.checkpoints[0]!.state);
    assert.equal(state.loop.step, result.checkpoints[0]!.step);
    assert.throws(() => decodeCheckpoint(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])), /not a valid checkpoint/);
  });

  it('in a real trainer thread: messages arrive in order with one final message; an error in the thread is reported, not lost', async () => {
    const collect = (input: Omit<TrainerInput, 'control'>) => new Promise<TrainerMessage[]>((resolve) => {
      const messages: TrainerMessage[] = [];
      const host = startTrainer(input, (m) => {
        messages.push(m);
        if (m.type === 'metrics' || m.type === 'checkpoint') host.acknowledge(m.type === 'checkpoint');
      });
      void host.exited.then(() => resolve(messages));
    });
    const { control: _c, ...good } = inputFor({ ...BODY, training: { ...BODY.training, epochs: 2 } });
    const ok = await collect(good);
    assert.equal(ok[0]!.type, 'started');
    assert.equal(ok[ok.length - 1]!.type, 'finished');
    assert.equal(ok.filter((m) => ['finished', 'stopped', 'diverged', 'error'].includes(m.type)).length, 1);

    const { control: _d, ...fresh } = inputFor(BODY); // the first run's arrays were transferred to its thread
    const bad = { ...fresh, spec: { ...fresh.spec, preprocessing: { type: 'pca', components: 5 } } as JobSpec };
    const failed = await collect(bad);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.type, 'error');
    assert.match(failed[0]!.type === 'error' ? failed[0]!.message : '', /components/);
  });
});
