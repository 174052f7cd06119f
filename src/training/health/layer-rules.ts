/**
 * The per-layer rules, judged at every metrics record from the engine's layer statistics (src/engine/stats.ts). Each
 * says whether its condition holds at this record (with the text a warning would carry), does not hold, or cannot be
 * judged ('skip': the statistic is missing or not meaningful here; the streak of records neither grows nor breaks).
 * Pure functions.
 */
import type { LayerStats } from '../../engine/stats.js';
import type { WarningCode } from '../../queue/job-events.js';
import { deadReluText, saturatedText, updateRatioText, type WarningText } from './advice.js';
import type { HealthThresholds } from './state.js';

/** What a record tells about a layer, beyond its statistics. */
export interface RecordContext {
  /** Training rows since the previous record: the window of the dead-unit statistic. */
  windowRows: number;
  /** This step's learning rate, and the job's starting one. */
  learningRate: number;
  startLearningRate: number;
  /** Records in a row the condition must hold (the warning's text names it). */
  records: number;
}

export type Judgement = WarningText | 'clear' | 'skip';

export interface LayerRule {
  code: Extract<WarningCode, 'DEAD_RELU' | 'SATURATED' | 'UPDATE_RATIO'>;
  judge(layer: LayerStats, context: RecordContext, t: HealthThresholds): Judgement;
}

/** ReLU-family layers: the share of units never active since the previous record, when that window had enough rows. */
export const deadRelu: LayerRule = {
  code: 'DEAD_RELU',
  judge(layer, context, t) {
    const f = layer.deadFraction;
    if (f === null || context.windowRows < t.deadReluMinRows) return 'skip';
    return f > t.deadReluFraction ? deadReluText(layer.name, layer.activation, f, t.deadReluFraction, context.records) : 'clear';
  },
};

/** Sigmoid and tanh layers: the share of units saturated on most rows of the last batch. */
export const saturated: LayerRule = {
  code: 'SATURATED',
  judge(layer, context, t) {
    const f = layer.saturatedFraction, a = layer.activation;
    if (f === null || (a !== 'sigmoid' && a !== 'tanh')) return 'skip';
    return f > t.saturatedFraction ? saturatedText(layer.name, a, f, t.saturatedFraction, context.records) : 'clear';
  },
};

/**
 * Every layer with weights: ‖ΔW‖/‖W‖ outside [low, high]. The low side is judged only while the schedule has not
 * lowered the learning rate below half its start: a decayed rate makes small updates on purpose.
 */
export const updateRatio: LayerRule = {
  code: 'UPDATE_RATIO',
  judge(layer, context, t) {
    const r = layer.updateRatio;
    if (r === null || !Number.isFinite(r)) return 'skip';
    if (r > t.updateRatioHigh) return updateRatioText(layer.name, r, 'high', t.updateRatioHigh, context.records);
    if (r < t.updateRatioLow) {
      if (context.learningRate < context.startLearningRate / 2) return 'skip';
      return updateRatioText(layer.name, r, 'low', t.updateRatioLow, context.records);
    }
    return 'clear';
  },
};

export const LAYER_RULES: readonly LayerRule[] = [deadRelu, saturated, updateRatio];
