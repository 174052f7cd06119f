/**
 * The export document of a model (GET /v1/models/:id/export, POST /v1/models/import): one self-contained JSON object
 * with everything needed to predict — the model artifact of ./artifact.ts — plus its name and where it came from.
 *
 * Format "trainyard-model", version 1:
 *   format, version     "trainyard-model", 1
 *   name, task          the model's name; "classification" | "regression"
 *   spec                the engine's resolved network spec (every default filled in)
 *   parameterCount      number of weights
 *   weights             {encoding: "float32-le-base64", sha256, data}: parameterCount little-endian float32 in the
 *                       engine's packed parameter order (./artifact.ts), base64; sha256 (hex) of those bytes
 *   preprocessing       the fitted preprocessing (means, scales, PCA basis …), applied to raw rows first
 *   featureNames        raw input columns in order; classNames: class index → name ([] for regression)
 *   metrics             evaluation of the weights' epoch; inputRange: per feature {min, max} of the training data
 *   source              {modelId, jobId, datasetId, createdAt} of the exported model (informational)
 *   exportedAt          ISO time
 * Weights travel as bytes, not decimal numbers, so an imported model has exactly the exported weights.
 */
import { createHash } from 'node:crypto';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import type { ResolvedSpec } from '../engine/spec.js';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, type FeatureRange, type ModelArtifact, type ModelMetrics } from './artifact.js';

export const WEIGHTS_ENCODING = 'float32-le-base64';

export interface ModelDocument {
  format: typeof ARTIFACT_FORMAT;
  version: typeof ARTIFACT_VERSION;
  name: string;
  task: 'classification' | 'regression';
  spec: ResolvedSpec;
  parameterCount: number;
  weights: { encoding: typeof WEIGHTS_ENCODING; sha256: string; data: string };
  preprocessing: FittedPreprocessing;
  featureNames: string[];
  classNames: string[];
  metrics: ModelMetrics;
  inputRange: FeatureRange[];
  source: { modelId: string; jobId: string | null; datasetId: string | null; createdAt: string };
  exportedAt: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface DocumentSource {
  id: string;
  name: string;
  jobId: string | null;
  datasetId: string | null;
  createdAt: Date;
  /** The stored weights (little-endian float32, as in a Model row). */
  weightBytes: Uint8Array;
}

export function exportDocument(artifact: ModelArtifact, source: DocumentSource, now = new Date()): ModelDocument {
  const bytes = source.weightBytes;
  return {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    name: source.name,
    task: artifact.task,
    spec: artifact.spec,
    parameterCount: artifact.parameterCount,
    weights: { encoding: WEIGHTS_ENCODING, sha256: sha256Hex(bytes), data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') },
    preprocessing: artifact.preprocessing,
    featureNames: artifact.featureNames,
    classNames: artifact.classNames,
    metrics: artifact.metrics,
    inputRange: artifact.inputRange,
    source: { modelId: source.id, jobId: source.jobId, datasetId: source.datasetId, createdAt: source.createdAt.toISOString() },
    exportedAt: now.toISOString(),
  };
}
