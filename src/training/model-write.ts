/** The Model row a finished job writes: its artifact (src/models/artifact.ts) plus name and dataset. */
import type { DatasetMeta } from '../datasets/types.js';
import type { JobSpec } from '../jobs/plan.js';
import { artifactColumns, type ModelArtifact } from '../models/artifact.js';
import type { ModelWrite } from './lease.js';
import type { EvalSummary, TrainerMessage } from './trainer-protocol.js';

type Finished = Extract<TrainerMessage, { type: 'finished' }>;

export function modelWrite(finished: Finished, spec: JobSpec, meta: DatasetMeta): ModelWrite {
  const m: EvalSummary = finished.modelMetrics ?? {
    epoch: finished.epoch, step: finished.step, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null,
  };
  const artifact: ModelArtifact = {
    task: meta.task,
    spec: finished.resolvedSpec,
    parameterCount: finished.weights.length,
    weights: finished.weights,
    preprocessing: finished.preprocessing,
    featureNames: meta.featureNames,
    classNames: meta.classNames,
    metrics: { source: finished.weightsSource, monitor: spec.training.monitor, ...m },
    inputRange: meta.stats.map((s) => ({ min: s.min, max: s.max })),
  };
  return { name: spec.name, datasetId: meta.id, ...artifactColumns(artifact) };
}
