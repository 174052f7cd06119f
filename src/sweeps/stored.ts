/** A Sweep row's JSON columns, typed: what src/sweeps writes at creation and reads everywhere else. */
import type { Sweep } from '../generated/prisma/client.js';
import type { JobSpecBody, MonitorMetric } from '../jobs/spec-schema.js';
import type { Direction, SweepMethod } from './body-schema.js';
import type { TrialParameters } from './expand.js';

export interface StoredTrial {
  index: number;
  parameters: TrialParameters;
}

export interface MethodOptions {
  sampling: 'grid' | 'random';
  /** The seed of random sampling (null for grid). */
  seed: number | null;
  /** ASHA only (null otherwise). */
  asha: { minEpochs: number; maxEpochs: number; reductionFactor: number; rungs: number[] } | null;
}

export interface SweepFacts {
  id: string;
  tenantId: string;
  name: string;
  datasetId: string;
  baseSpec: JobSpecBody;
  method: SweepMethod;
  options: MethodOptions;
  metric: MonitorMetric;
  direction: Direction;
  maxConcurrent: number;
  trials: StoredTrial[];
  /** Trials [0, releasedTrials) have been released (their jobs exist, unless deleted since). */
  releasedTrials: number;
}

export function sweepFacts(row: Sweep): SweepFacts {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    datasetId: row.datasetId,
    baseSpec: row.baseSpec as unknown as JobSpecBody,
    method: row.method as SweepMethod,
    options: row.methodOptions as unknown as MethodOptions,
    metric: row.metric as MonitorMetric,
    direction: row.direction as Direction,
    maxConcurrent: row.maxConcurrent,
    trials: row.trials as unknown as StoredTrial[],
    releasedTrials: row.releasedTrials,
  };
}

/** The options planTrial needs for this sweep's trial `index`. */
export function trialOptions(s: Pick<SweepFacts, 'name' | 'options' | 'metric'>, index: number) {
  return { epochs: s.options.asha?.maxEpochs ?? null, metric: s.metric, name: `${s.name} #${index}` };
}
