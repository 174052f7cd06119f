/**
 * The export document of a model (GET /v1/models/:id/export, POST /v1/models/import): one self-contained JSON object
 * with everything needed to predict — the model artifact of ./artifact.ts — plus its name and where it came from.
 *
 * Format "trainyard-model", version 1 or 2:
 *   format, version     "trainyard-model"; 1, or 2 when the document has an input encoding
 *   name, task          the model's name; "classification" | "regression"
 *   spec                the engine's resolved network spec (every default filled in)
 *   parameterCount      number of weights
 *   weights             {encoding: "float32-le-base64", sha256, data}: parameterCount little-endian float32 in the
 *                       engine's packed parameter order (./artifact.ts), base64; sha256 (hex) of those bytes
 *   preprocessing       the fitted preprocessing (means, scales, PCA basis …), applied to raw rows first
 *   featureNames        raw input columns in order; classNames: class index → name ([] for regression)
 *   metrics             evaluation of the weights' epoch; inputRange: per feature {min, max} of the training data
 *   inputEncoding       version 2 only: how the raw input columns become featureNames (src/datasets/encoding.ts),
 *                       {columns: [{name, kind: "numeric"} | {name, kind: "categorical", categories}], missing:
 *                       {strategy, droppedRows, imputed: [{column, cells, value}]}}; null for none
 *   source              {modelId, jobId, datasetId, createdAt} of the exported model (informational)
 *   exportedAt          ISO time
 * Weights travel as bytes, not decimal numbers, so an imported model has exactly the exported weights.
 *
 * Versions: a model trained on a table with text columns predicts from the raw columns (a text column by its category,
 * one-hot encoded with the dataset's categories), so its document carries the encoding and is version 2. A model
 * without one exports as version 1, exactly as before: older installations still import it, and refuse (at `version`)
 * a document whose encoding they could not apply, rather than importing a model that takes other inputs. Import reads
 * both; a version 1 document is a model without an encoding (it takes featureNames as numbers).
 */
import { createHash } from 'node:crypto';
import type { DatasetEncoding, InputColumn } from '../datasets/encoding.js';
import type { FittedPreprocessing } from '../engine/preprocessing.js';
import type { ResolvedSpec } from '../engine/spec.js';
import { ARTIFACT_FORMAT, type FeatureRange, type ModelArtifact, type ModelMetrics } from './artifact.js';

export const WEIGHTS_ENCODING = 'float32-le-base64';

/** Document versions: 1 without an input encoding, 2 with `inputEncoding`. */
export const DOCUMENT_VERSION_PLAIN = 1;
export const DOCUMENT_VERSION_ENCODED = 2;
export type DocumentVersion = typeof DOCUMENT_VERSION_PLAIN | typeof DOCUMENT_VERSION_ENCODED;

export interface ModelDocument {
  format: typeof ARTIFACT_FORMAT;
  version: DocumentVersion;
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
  /** Version 2 only. */
  inputEncoding?: DatasetEncoding;
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
  /** The model's input encoding (Model.inputEncoding read with readEncoding), or null. */
  encoding: DatasetEncoding | null;
}

/** The encoding with exactly the documented members (nothing else a stored JSON value may hold). */
export function encodingDocument(e: DatasetEncoding): DatasetEncoding {
  return {
    columns: e.columns.map((c): InputColumn => (c.kind === 'numeric' ? { name: c.name, kind: 'numeric' } : { name: c.name, kind: 'categorical', categories: [...c.categories] })),
    missing: {
      strategy: e.missing.strategy,
      droppedRows: e.missing.droppedRows,
      imputed: e.missing.imputed.map((i) => ({ column: i.column, cells: i.cells, value: i.value })),
    },
  };
}

export function exportDocument(artifact: ModelArtifact, source: DocumentSource, now = new Date()): ModelDocument {
  const bytes = source.weightBytes;
  return {
    format: ARTIFACT_FORMAT,
    version: source.encoding ? DOCUMENT_VERSION_ENCODED : DOCUMENT_VERSION_PLAIN,
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
    ...(source.encoding && { inputEncoding: encodingDocument(source.encoding) }),
    source: { modelId: source.id, jobId: source.jobId, datasetId: source.datasetId, createdAt: source.createdAt.toISOString() },
    exportedAt: now.toISOString(),
  };
}
