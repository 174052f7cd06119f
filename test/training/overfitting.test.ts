/**
 * OVERFITTING (issue 12 item 6): raised only when the validation loss rises AND the validation accuracy (or the
 * monitored RMSE / R²) worsens over the same windows, and never on a validation split of fewer than 50 rows. The
 * detector on synthetic curves, then Iris trained for real in the trainer (its 15-row validation split: the loss went
 * 0.0546 → 0.0737 at accuracy 1.0 and the warning was raised; now it is not).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { planJob } from '../../src/jobs/plan.js';
import type { JobWarning } from '../../src/queue/job-events.js';
import { OVERFITTING_MIN_VALIDATION_ROWS, type QualityMetric } from '../../src/training/health/curve-rules.js';
import { observeRecord, type RecordObservation } from '../../src/training/health/monitor.js';
import { freshHealthState, type HealthState } from '../../src/training/health/state.js';
import { runTrainer } from '../../src/training/run-trainer.js';
import { createControlBlock, type TrainerMessage } from '../../src/training/trainer-protocol.js';
import { irisData } from '../helpers/models.js';

const CONFIG = loadConfig({});
const T = CONFIG.health;
const ACCURACY: QualityMetric = { metric: 'valAccuracy', higherIsBetter: true };

/** Epoch ends of [train loss, validation loss, quality] over a split of `rows`; returns the OVERFITTING warnings. */
function judge(points: [number, number, number][], rows: number, quality: QualityMetric = ACCURACY, state: HealthState = freshHealthState()): JobWarning[] {
  return points.flatMap(([train, val, q], i): JobWarning[] => {
    const obs: RecordObservation = {
      step: 10 * (i + 1), trainLoss: train, learningRate: 0.01, startLearningRate: 0.01, windowRows: 32, layers: [],
      epochEnd: { epoch: i + 1, trainLoss: train, valLoss: val, quality, qualityValue: q, validationRows: rows },
    };
    return observeRecord(state, obs, T).filter((w) => w.code === 'OVERFITTING');
  });
}

/** 30 epochs: the training loss falls; the validation loss turns up at epoch 10; the quality as `quality(epoch)` says. */
const turning = (quality: (epoch: number) => number): [number, number, number][] =>
  Array.from({ length: 30 }, (_, e) => [1 / (1 + e), e < 10 ? 1 - 0.05 * e : 0.5 + 0.05 * (e - 10), quality(e)]);

describe('OVERFITTING', () => {
  it('is raised when the validation loss rises and the validation accuracy falls, on a split of ≥ 50 rows', () => {
    const warnings = judge(turning((e) => (e < 10 ? 0.6 + 0.03 * e : 0.9 - 0.02 * (e - 10))), 60);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /valAccuracy worsened from 0\.\d+ to 0\.\d+/);
    assert.match(warnings[0]!.advice, /add regularization/);
  });

  it('is not raised while the accuracy holds (Iris: loss 0.0546 → 0.0737 at accuracy 1.0), even on a large split', () => {
    assert.deepEqual(judge(turning(() => 1), 1000), []);
    // The Iris numbers themselves: a rising validation loss, a falling training loss, the accuracy at 1.0 all along.
    const iris = Array.from({ length: 20 }, (_, e): [number, number, number] => [0.2 - 0.005 * e, e < 10 ? 0.0546 : 0.0737, 1]);
    assert.deepEqual(judge(iris, 1000), []);
    assert.deepEqual(judge(turning((e) => 0.5 + 0.01 * e), 1000), [], 'the accuracy improves while the loss rises');
  });

  it(`is never raised on a validation split of fewer than ${OVERFITTING_MIN_VALIDATION_ROWS} rows`, () => {
    const falling = turning((e) => (e < 10 ? 0.6 + 0.03 * e : 0.9 - 0.02 * (e - 10)));
    assert.deepEqual(judge(falling, OVERFITTING_MIN_VALIDATION_ROWS - 1), []);
    assert.deepEqual(judge(falling, 15), []);
    assert.equal(judge(falling, OVERFITTING_MIN_VALIDATION_ROWS).length, 1);
  });

  it('follows the monitored metric\'s direction: RMSE rising is worse, R² rising is better', () => {
    const rmse: QualityMetric = { metric: 'valRmse', higherIsBetter: false };
    const r2: QualityMetric = { metric: 'valR2', higherIsBetter: true };
    assert.equal(judge(turning((e) => (e < 10 ? 1 : 1 + 0.1 * (e - 10))), 100, rmse).length, 1);
    assert.deepEqual(judge(turning((e) => (e < 10 ? 1 : 1 - 0.01 * (e - 10))), 100, rmse), []);
    assert.deepEqual(judge(turning((e) => (e < 10 ? 0.5 : 0.5 + 0.01 * (e - 10))), 100, r2), []);
    assert.equal(judge(turning((e) => (e < 10 ? 0.9 : 0.9 - 0.02 * (e - 10))), 100, r2).length, 1);
  });

  it('a detector state from before the quality metric (an older checkpoint) does not raise from points without it', () => {
    const state = freshHealthState();
    const old = turning(() => 0).slice(0, 15);
    for (const [i, [train, val]] of old.entries()) state.recent.push({ epoch: i + 1, train, val });
    state.recent = state.recent.slice(-10);
    state.firstLoss = 1;
    assert.deepEqual(judge([[0.01, 2, 0.1]], 100, ACCURACY, state), [], 'the window still holds points without the metric');
  });

  it('Iris trained for 200 epochs in the trainer: no OVERFITTING (15 validation rows)', async () => {
    const iris = irisData();
    const rows = iris.y.length;
    const dataset = { id: '00000000-0000-4000-8000-0000000000aa', name: 'iris', task: 'classification' as const, rows, features: 4, classes: 3 };
    const plan = planJob({ datasetId: dataset.id, training: { epochs: 200, seed: 5 } }, dataset, { parameters: 1e9, epochRows: 1e12 });
    const control = createControlBlock();
    const messages: TrainerMessage[] = [];
    await runTrainer({
      jobId: 'iris', attempt: 1, spec: plan.spec, network: plan.network, dataset: { rows, features: 4, x: iris.x.slice(), y: Int32Array.from(iris.y) },
      resume: null, warmStart: null, engineThreads: 1, health: T, decisionGrid: CONFIG.decisionGrid, control,
    }, (m) => {
      messages.push(m);
      if (m.type === 'metrics' || m.type === 'checkpoint') {
        Atomics.add(control, 1, 1);
        if (m.type === 'checkpoint') Atomics.add(control, 2, 1);
      }
    });
    // 135 training rows in batches of 32: 5-step epochs, so with metrics.everySteps 10 every 2nd epoch end is recorded
    // (and the first); the curve rules judge every epoch end all the same (src/training/record-schedule.ts).
    const ends = messages.flatMap((m) => (m.type === 'metrics' && m.record.valLoss !== null ? [m.record] : []));
    assert.deepEqual(ends.map((r) => r.epoch), [1, ...Array.from({ length: 100 }, (_, i) => 2 * (i + 1))]);
    assert.equal(plan.validationRows, 15);
    const warnings = messages.flatMap((m) => (m.type === 'metrics' ? m.warnings : []));
    assert.deepEqual(warnings.filter((w) => w.code === 'OVERFITTING'), []);
  });
});
