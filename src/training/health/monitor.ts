/**
 * Training-health warnings (issue 6), with the thresholds of the configuration: the per-layer rules are judged at every
 * metrics record of the training loop, from the engine's per-layer statistics; the learning-curve rules at every epoch
 * end (recorded or not: a job with very short epochs records only some of them, ../record-schedule.ts).
 *
 *   DEAD_RELU     per ReLU-family layer: share of units never active since the previous record > deadReluFraction,
 *                 on sustainRecords records in a row (records whose window had < deadReluMinRows rows are skipped)
 *   SATURATED     per sigmoid/tanh layer: share of saturated units > saturatedFraction, sustainRecords records in a row
 *   UPDATE_RATIO  per layer: update/weight ratio outside [updateRatioLow, updateRatioHigh], sustainRecords records in a row
 *   LOSS_FLAT     at an epoch end: see ./curve-rules.ts (lossFlatEpochs window)
 *   OVERFITTING   at an epoch end: see ./curve-rules.ts (overfittingEpochs window)
 *
 * Each warning (a code, and a layer for the per-layer ones) is raised at most once per job: when its condition starts.
 * It then stays raised — it is not re-judged, cleared or raised again, since the event contract has no "cleared" event
 * and a warning repeated every time a noisy condition flickers would be noise. The state is plain JSON kept in the
 * loop state (so in checkpoints): the judgement is deterministic, and a resumed job continues it exactly.
 */
import type { LayerStats } from '../../engine/stats.js';
import type { JobWarning, WarningCode } from '../../queue/job-events.js';
import type { WarningText } from './advice.js';
import { lossFlat, overfitting, pushEpoch, recentEpochs, type QualityMetric } from './curve-rules.js';
import { LAYER_RULES } from './layer-rules.js';
import { warningKey, type HealthState, type HealthThresholds } from './state.js';

/** What the monitor sees of one metrics record. */
export interface RecordObservation {
  step: number;
  /** The record's training loss (mean over the steps since the previous record). */
  trainLoss: number;
  learningRate: number;
  /** The job's starting learning rate (before any schedule). */
  startLearningRate: number;
  /** Training rows since the previous record. */
  windowRows: number;
  layers: readonly LayerStats[];
  /**
   * At an epoch end: the evaluation of the training split, the validation loss and quality metric (null without a
   * validation split: `quality` names which metric and its direction, `qualityValue` its value), and the size of the
   * validation split.
   */
  epochEnd: {
    epoch: number; trainLoss: number | null; valLoss: number | null;
    quality: QualityMetric | null; qualityValue: number | null; validationRows: number;
  } | null;
}

/** Judges one record; returns the warnings it raises (and updates the state). */
export function observeRecord(state: HealthState, obs: RecordObservation, t: HealthThresholds): JobWarning[] {
  const raised: JobWarning[] = [];
  const raise = raiser(state, obs.step, raised);
  if (state.firstLoss === null && Number.isFinite(obs.trainLoss)) state.firstLoss = obs.trainLoss;

  const context = { windowRows: obs.windowRows, learningRate: obs.learningRate, startLearningRate: obs.startLearningRate, records: t.sustainRecords };
  for (const layer of obs.layers) {
    for (const rule of LAYER_RULES) {
      const key = warningKey(rule.code, layer.name);
      if (state.raised.includes(key)) continue;
      const judgement = rule.judge(layer, context, t);
      if (judgement === 'skip') continue;
      if (judgement === 'clear') {
        delete state.streaks[key];
        continue;
      }
      const streak = (state.streaks[key] ?? 0) + 1;
      if (streak < t.sustainRecords) {
        state.streaks[key] = streak;
        continue;
      }
      delete state.streaks[key];
      raise(rule.code, layer.name, judgement);
    }
  }

  if (obs.epochEnd) raised.push(...observeEpochEnd(state, obs.step, obs.epochEnd, t));
  return raised;
}

/**
 * Judges the learning curve at one epoch end (LOSS_FLAT, OVERFITTING); returns the warnings it raises. Part of
 * {@link observeRecord} at a recorded epoch end, and called alone at the epoch ends a job does not record (short
 * epochs: ../record-schedule.ts), so the curve rules see every epoch whatever `metrics.everySteps` is.
 */
export function observeEpochEnd(state: HealthState, step: number, end: NonNullable<RecordObservation['epochEnd']>, t: HealthThresholds): JobWarning[] {
  const raised: JobWarning[] = [];
  if (end.trainLoss === null || !Number.isFinite(end.trainLoss)) return raised;
  const raise = raiser(state, step, raised);
  const val = end.valLoss !== null && Number.isFinite(end.valLoss) ? end.valLoss : null;
  const quality = end.qualityValue !== null && Number.isFinite(end.qualityValue) ? end.qualityValue : null;
  pushEpoch(state, { epoch: end.epoch, train: end.trainLoss, val, quality }, recentEpochs(t));
  const context = { validationRows: end.validationRows, quality: end.quality };
  const curveRules = [['LOSS_FLAT', lossFlat], ['OVERFITTING', overfitting]] as const;
  for (const [code, rule] of curveRules) {
    if (state.raised.includes(code)) continue;
    const text = rule(state, t, context);
    if (text) raise(code, null, text);
  }
  return raised;
}

function raiser(state: HealthState, step: number, raised: JobWarning[]): (code: WarningCode, layer: string | null, text: WarningText) => void {
  return (code, layer, text) => {
    state.raised.push(warningKey(code, layer));
    raised.push({ code, layer, step, ...text });
  };
}
