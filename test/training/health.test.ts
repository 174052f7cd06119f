/**
 * The training-health detectors as pure functions, on synthetic metric sequences: each rule fires when its condition
 * starts (and only when it holds long enough), each warning is raised once per job, and the state survives a JSON
 * round trip (a checkpoint) mid-sequence without changing what is raised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { LayerStats } from '../../src/engine/stats.js';
import type { JobWarning } from '../../src/queue/job-events.js';
import { observeRecord, type RecordObservation } from '../../src/training/health/monitor.js';
import { freshHealthState, type HealthState } from '../../src/training/health/state.js';

const T = loadConfig({}).health;

function layer(name: string, stats: Partial<LayerStats> = {}): LayerStats {
  return {
    name, kind: 'dense', activation: 'relu', gradNorm: 1, weightNorm: 1, updateRatio: 1e-3, activationMean: 0.3, activationStd: 0.5,
    deadFraction: 0, saturatedFraction: null, ...stats,
  };
}

/** One record per element of `records`, at steps 10, 20, … (the first being record number `from`); returns every warning raised. */
function feed(state: HealthState, records: Partial<RecordObservation>[], from = 0): JobWarning[] {
  const defaults: RecordObservation = { step: 0, trainLoss: 1, learningRate: 0.01, startLearningRate: 0.01, windowRows: 32, layers: [], epochEnd: null };
  return records.flatMap((r, i) => observeRecord(state, { ...defaults, step: 10 * (from + i + 1), ...r }, T));
}

const dead = (fractions: number[], windowRows = 32) => fractions.map((f) => ({ windowRows, layers: [layer('dense1', { deadFraction: f })] }));

/**
 * Epoch-end records of a curve: [train, val, validation accuracy] per epoch (the accuracy defaults to one that falls
 * as the validation loss rises); the first record's loss is `first`; a validation split of `validationRows`.
 */
function curve(points: [number, number | null, number?][], first = points[0]![0], validationRows = 100): Partial<RecordObservation>[] {
  return points.map(([train, val, accuracy], epoch) => ({
    trainLoss: epoch === 0 ? first : train,
    epochEnd: {
      epoch: epoch + 1, trainLoss: train, valLoss: val, validationRows,
      quality: val === null ? null : { metric: 'valAccuracy' as const, higherIsBetter: true }, qualityValue: val === null ? null : accuracy ?? 1 - val / 2,
    },
  }));
}

describe('training-health detectors', () => {
  it('DEAD_RELU: raised once, at the third record in a row above the threshold, with the CS231n advice', () => {
    const state = freshHealthState();
    const warnings = feed(state, dead([0.1, 0.5, 0.6, 0.7, 0.9, 0.95]));
    assert.equal(warnings.length, 1);
    const [w] = warnings;
    assert.deepEqual([w!.code, w!.layer, w!.step], ['DEAD_RELU', 'dense1', 40]);
    assert.match(w!.message, /^70% of the relu units of layer dense1 were never active/);
    assert.match(w!.advice, /learning rate is likely too high/);
    assert.deepEqual(feed(state, dead([0.9, 0.9, 0.9, 0.9])), [], 'raised once: it stays raised');
  });

  it('DEAD_RELU: a record below the threshold breaks the streak; windows with too few rows are skipped, not counted', () => {
    assert.deepEqual(feed(freshHealthState(), dead([0.5, 0.5, 0.1, 0.5, 0.5])), []);
    assert.deepEqual(feed(freshHealthState(), dead([0.9, 0.9, 0.9, 0.9], T.deadReluMinRows - 1)), [], 'one row leaves half a healthy layer inactive');
    const mixed = [...dead([0.9]), ...dead([0.9], 1), ...dead([0.9, 0.9])];
    assert.deepEqual(feed(freshHealthState(), mixed).map((w) => w.step), [40]);
  });

  it('SATURATED: per sigmoid/tanh layer, with advice against large initial weights and for ReLU', () => {
    const sat = (a: 'sigmoid' | 'tanh', f: number) => layer(`${a}1`, { activation: a, deadFraction: null, saturatedFraction: f });
    const records = [0.5, 0.6, 0.7].map((f) => ({ layers: [sat('sigmoid', f), sat('tanh', f), layer('relu1')] }));
    const warnings = feed(freshHealthState(), records);
    assert.deepEqual(warnings.map((w) => [w.code, w.layer, w.step]), [['SATURATED', 'sigmoid1', 30], ['SATURATED', 'tanh1', 30]]);
    for (const w of warnings) assert.match(w.advice, /initial weights are likely too large.*Prefer ReLU/s);
    assert.match(warnings[0]!.advice, /tanh is better than sigmoid/);
    assert.deepEqual(feed(freshHealthState(), [0.5, 0.3, 0.5, 0.5].map((f) => ({ layers: [sat('tanh', f)] }))), []);
  });

  it('UPDATE_RATIO: sustained outside the band only; the low side waits while the schedule has lowered the rate', () => {
    const ratio = (r: number, learningRate = 0.01) => ({ learningRate, layers: [layer('dense1', { updateRatio: r }), layer('output', { activation: null, deadFraction: null })] });
    const high = feed(freshHealthState(), [ratio(0.5), ratio(0.3), ratio(0.2)]);
    assert.deepEqual(high.map((w) => [w.code, w.layer, w.step]), [['UPDATE_RATIO', 'dense1', 30]]);
    assert.match(high[0]!.message, /is 2\.0e-1, above 1\.0e-1/);
    assert.match(high[0]!.advice, /too high/);
    assert.deepEqual(feed(freshHealthState(), [ratio(0.5), ratio(1e-3), ratio(0.5), ratio(1e-3), ratio(0.5)]), [], 'one noisy record does not fire');

    const low = feed(freshHealthState(), [ratio(1e-7), ratio(1e-7), ratio(1e-7)]);
    assert.deepEqual(low.map((w) => w.step), [30]);
    assert.match(low[0]!.advice, /too low\. Raise it/);
    assert.deepEqual(feed(freshHealthState(), [ratio(1e-7, 0.004), ratio(1e-7, 0.001), ratio(1e-7, 0)]), [], 'a decayed learning rate makes small updates on purpose');
  });

  it('LOSS_FLAT: a loss stuck near its start is raised once; a decreasing or a converged loss is not', () => {
    const stuck = curve(Array.from({ length: 12 }, (_, e) => [1.09 - 0.0001 * e, null]), 1.1);
    const warnings = feed(freshHealthState(), stuck);
    assert.deepEqual(warnings.map((w) => [w.code, w.layer, w.step]), [['LOSS_FLAT', null, 10 * (T.lossFlatEpochs + 1)]]);
    assert.match(warnings[0]!.advice, /learning rate is likely too low .* or too high/);

    const decreasing = curve(Array.from({ length: 30 }, (_, e) => [1.1 * 0.97 ** e, null]));
    assert.deepEqual(feed(freshHealthState(), decreasing), []);
    const converged = curve(Array.from({ length: 30 }, (_, e) => [e < 10 ? 1.1 - 0.1 * e : 0.05, null]));
    assert.deepEqual(feed(freshHealthState(), converged), [], 'flat, but far below where it started');
  });

  it('OVERFITTING: validation loss rising while the training loss falls; not on a noisy plateau nor without validation', () => {
    const points: [number, number | null][] = Array.from({ length: 30 }, (_, e) => [1 / (1 + e), e < 10 ? 1 - 0.05 * e : 0.5 + 0.05 * (e - 10)]);
    const warnings = feed(freshHealthState(), curve(points));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'OVERFITTING');
    assert.equal(warnings[0]!.layer, null);
    assert.match(warnings[0]!.advice, /add regularization/);
    const at = warnings[0]!.step / 10 - 1; // the epoch it was raised at
    assert.ok(at > 10 && at < 20, `raised at epoch ${at}, after the validation loss turned at epoch 10`);

    const plateau = Array.from({ length: 40 }, (_, e): [number, number] => [0.3 - 0.001 * e, 0.25 + (e % 3 === 0 ? 0.04 : 0)]);
    assert.deepEqual(feed(freshHealthState(), curve(plateau)), [], 'only noisy');
    const drifting = Array.from({ length: 40 }, (_, e): [number, number] => [0.09 - 0.0005 * e, 0.02 + 0.0005 * e]);
    assert.deepEqual(feed(freshHealthState(), curve(drifting)), [], 'a validation loss drifting up, but still below the training loss, is no gap');
    assert.deepEqual(feed(freshHealthState(), curve(points.map(([t]) => [t, null]))), []);
  });

  it('each code and layer is raised once; a JSON round trip of the state (a checkpoint) mid-sequence changes nothing', () => {
    const records = [
      ...dead([0.9, 0.9]),
      { layers: [layer('dense1', { deadFraction: 0.9, updateRatio: 0.5 }), layer('dense2', { deadFraction: 0.8, updateRatio: 0.5 })] },
      { layers: [layer('dense1', { deadFraction: 0.9, updateRatio: 0.5 }), layer('dense2', { deadFraction: 0.8, updateRatio: 0.5 })] },
      { layers: [layer('dense1', { deadFraction: 0.9, updateRatio: 0.5 }), layer('dense2', { deadFraction: 0.8, updateRatio: 0.5 })] },
      ...dead([0.9, 0.9]),
    ];
    const all = feed(freshHealthState(), records);
    assert.deepEqual(all.map((w) => `${w.code}:${w.layer}@${w.step}`), ['DEAD_RELU:dense1@30', 'UPDATE_RATIO:dense1@50', 'DEAD_RELU:dense2@50', 'UPDATE_RATIO:dense2@50']);
    for (let cut = 0; cut <= records.length; cut++) {
      const state = freshHealthState();
      const first = feed(state, records.slice(0, cut));
      const resumed = JSON.parse(JSON.stringify(state)) as HealthState;
      const rest = feed(resumed, records.slice(cut), cut);
      assert.deepEqual([...first, ...rest], all, `cut after record ${cut}`);
    }
  });
});
