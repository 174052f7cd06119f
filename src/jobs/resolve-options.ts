/**
 * The option groups of a job spec whose fields depend on a `type` (optimizer, schedule, preprocessing): a field that
 * does not apply to the chosen type is an error (never silently ignored), a required one is reported when missing,
 * and the rest get their documented defaults. Problems go to `bad(path, message)`.
 */
import type { OptimizerConfig, OptimizerType, ScheduleConfig } from '../engine/optimizers.js';
import type { PreprocessingSpec } from '../engine/preprocessing.js';
import type { JobSpecBody, ScheduleBody } from './spec-schema.js';

type Report = (path: string, message: string) => void;

const DEFAULT_RATE: Record<OptimizerType, number> = { adam: 0.001, rmsprop: 0.001, sgd: 0.01, momentum: 0.01, nesterov: 0.01, adagrad: 0.01 };
const OPTIMIZER_FIELDS: Record<OptimizerType, readonly string[]> = {
  sgd: [], momentum: ['momentum'], nesterov: ['momentum'], adagrad: ['epsilon'], rmsprop: ['decay', 'epsilon'], adam: ['beta1', 'beta2', 'epsilon'],
};
const SCHEDULE_FIELDS: Record<ScheduleBody['type'], readonly string[]> = {
  constant: [], step: ['every', 'factor'], exponential: ['decay'], cosine: ['steps', 'minLearningRate'],
};

const PREPROCESSING_FIELDS: Record<PreprocessingSpec['type'], readonly string[]> = {
  none: [], center: [], standardize: [], pca: ['components', 'standardize'], whiten: ['components', 'standardize', 'epsilon'],
};

export function resolvePreprocessing(p: NonNullable<JobSpecBody['preprocessing']>, bad: Report): PreprocessingSpec {
  const type = p.type!;
  for (const key of ['components', 'standardize', 'epsilon'] as const) {
    if (p[key] !== undefined && !PREPROCESSING_FIELDS[type].includes(key)) bad(`preprocessing.${key}`, `does not apply to ${type}`);
  }
  switch (type) {
    case 'pca':
      if (p.components === undefined) bad('preprocessing.components', 'is required for pca');
      return { type, components: p.components ?? 1, standardize: p.standardize ?? false };
    case 'whiten': {
      const spec: PreprocessingSpec = { type, standardize: p.standardize ?? false, epsilon: p.epsilon ?? 1e-5 };
      if (p.components !== undefined) spec.components = p.components;
      return spec;
    }
    default:
      return { type };
  }
}

/** The engine's optimizer config; a cosine schedule without `steps` spans the job's `totalSteps`. */
export function resolveOptimizer(o: NonNullable<JobSpecBody['optimizer']>, totalSteps: number, bad: Report): OptimizerConfig {
  const type = o.type!;
  for (const key of ['momentum', 'decay', 'beta1', 'beta2', 'epsilon'] as const) {
    if (o[key] !== undefined && !OPTIMIZER_FIELDS[type].includes(key)) bad(`optimizer.${key}`, `does not apply to ${type}`);
  }
  const s = o.schedule!;
  for (const key of ['every', 'factor', 'decay', 'steps', 'minLearningRate'] as const) {
    if (s[key] !== undefined && !SCHEDULE_FIELDS[s.type].includes(key)) bad(`optimizer.schedule.${key}`, `does not apply to a ${s.type} schedule`);
  }
  let schedule: ScheduleConfig = { type: 'constant' };
  if (s.type === 'step') {
    if (s.every === undefined) bad('optimizer.schedule.every', 'is required for a step schedule');
    if (s.factor === undefined) bad('optimizer.schedule.factor', 'is required for a step schedule');
    schedule = { type: 'step', every: s.every ?? 1, factor: s.factor ?? 1 };
  } else if (s.type === 'exponential') {
    if (s.decay === undefined) bad('optimizer.schedule.decay', 'is required for an exponential schedule');
    schedule = { type: 'exponential', decay: s.decay ?? 0 };
  } else if (s.type === 'cosine') {
    schedule = { type: 'cosine', steps: s.steps ?? totalSteps, minLearningRate: s.minLearningRate ?? 0 };
  }
  const learningRate = o.learningRate ?? DEFAULT_RATE[type];
  const extra: Record<string, number> = {};
  for (const key of OPTIMIZER_FIELDS[type]) {
    const value = o[key as 'momentum' | 'decay' | 'beta1' | 'beta2' | 'epsilon'];
    if (value !== undefined) extra[key] = value;
  }
  return { type, learningRate, schedule, ...extra } as OptimizerConfig;
}
