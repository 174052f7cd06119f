/**
 * The Model row a finished job writes: its artifact (src/models/artifact.ts) plus name and dataset. A checkpoint
 * promoted to a model (src/models/promote.ts) is written by the same {@link modelRow}.
 */
import type { DatasetMeta } from '../datasets/types.js';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import type { ResolvedSpec } from '../engine/spec.js';
import type { JobSpec } from '../jobs/plan.js';
import { artifactColumns, type ModelArtifact } from '../models/artifact.js';
import type { ModelWrite } from './lease.js';
import type { EvalSummary, TrainerMessage } from './trainer-protocol.js';

type Finished = Extract<TrainerMessage, { type: 'finished' }>;

/** What becomes a model besides the dataset's names and ranges. */
export interface ModelSource {
  name: string;
  monitor: string;
  resolvedSpec: ResolvedSpec;
  weights: Float32Array;
  preprocessing: FittedPreprocessing;
  source: 'best' | 'final';
  metrics: EvalSummary;
}

export function modelRow(s: ModelSource, meta: DatasetMeta): ModelWrite {
  const artifact: ModelArtifact = {
    task: meta.task,
    spec: s.resolvedSpec,
    parameterCount: s.weights.length,
    weights: s.weights,
    preprocessing: s.preprocessing,
    featureNames: meta.featureNames,
    classNames: meta.classNames,
    metrics: { source: s.source, monitor: s.monitor, ...s.metrics },
    inputRange: meta.stats.map((st) => ({ min: st.min, max: st.max })),
  };
  // The dataset's encoding travels with the model: predict takes the raw (text) columns and encodes them the same way.
  const inputEncoding = meta.encoding ? (JSON.parse(JSON.stringify(meta.encoding)) as object) : {};
  return { name: s.name, datasetId: meta.id, ...artifactColumns(artifact), inputEncoding };
}

export function modelWrite(finished: Finished, spec: JobSpec, meta: DatasetMeta): ModelWrite {
  const m: EvalSummary = finished.modelMetrics ?? {
    epoch: finished.epoch, step: finished.step, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: null, valRmse: null, valR2: null,
  };
  return modelRow({
    name: spec.name, monitor: spec.training.monitor, resolvedSpec: finished.resolvedSpec, weights: finished.weights, preprocessing: finished.preprocessing,
    source: finished.weightsSource, metrics: m,
  }, meta);
}
