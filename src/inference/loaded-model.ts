/**
 * A model ready to predict in the API process: its artifact's network and preprocessor, built once and kept in the
 * model cache (./model-cache.ts).
 *
 * Compute context: each loaded model gets its own fast context with `threads: 1` — the WebAssembly SIMD kernel run on
 * the calling (main) thread, no pool. Why:
 *   - no thread pool per model or per request: the API process serves many small requests, and parallelizing a
 *     single-row forward pass would cost more in synchronization than it saves; workers own the cores;
 *   - the SIMD kernel is an order of magnitude faster than the reference loops for the same bits-per-row semantics
 *     (results do not depend on how rows are split into chunks);
 *   - a context's memory is one WebAssembly.Memory that is never freed piecemeal: giving each model its own makes an
 *     evicted model's memory collectable as a whole, instead of growing one shared memory forever.
 * The main thread stays responsive because a request has at most limits.predictRows rows and ./predict.ts runs them
 * in chunks of `chunkRows` (≈ CHUNK_FLOPS of work each), yielding to the event loop between chunks.
 */
import { readEncoding, type DatasetEncoding } from '../datasets/encoding.js';
import { createFastContext, type FastContext } from '../engine/fast-context.js';
import type { LossKind } from '../engine/spec.js';
import { columnPlans, type ColumnPlan } from './input/columns.js';
import { ArtifactError, artifactFromRow, networkFromArtifact, type FeatureRange, type ModelRowLike, type ModelRunner } from '../models/artifact.js';

/** Floating-point operations per chunk of a prediction (≈ 1–2 ms of single-threaded SIMD work). */
const CHUNK_FLOPS = 4_000_000;
/** Most rows per chunk. */
const MAX_CHUNK_ROWS = 256;

export interface LoadedModel {
  id: string;
  tenantId: string;
  task: 'classification' | 'regression';
  loss: LossKind;
  /** Width of the network's output. */
  outputs: number;
  featureNames: readonly string[];
  /** The columns predict takes (the dataset's raw columns when it had text columns; else featureNames). */
  inputColumns: readonly ColumnPlan[];
  /** The training dataset's encoding (text columns, missing values), or null. */
  encoding: DatasetEncoding | null;
  classNames: readonly string[];
  inputRange: readonly FeatureRange[];
  runner: ModelRunner<Float32Array>;
  /** Rows per forward-pass chunk (also the network's maxBatch). */
  chunkRows: number;
  /** Engine memory it holds (parameters, buffers, kernel scratch), for the cache's byte budget. */
  bytes: number;
  context: FastContext;
}

export interface ModelRowWithIds extends ModelRowLike {
  id: string;
  tenantId: string;
  /** Model.inputEncoding (src/datasets/encoding.ts); {} or absent: none. */
  inputEncoding?: unknown;
}

/** Builds the model's network. Throws ArtifactError when the row is inconsistent. */
export async function loadModel(row: ModelRowWithIds): Promise<LoadedModel> {
  const artifact = artifactFromRow(row);
  const { spec } = artifact;
  let encoding: DatasetEncoding | null;
  try {
    encoding = readEncoding(row.inputEncoding, artifact.featureNames);
  } catch (error) {
    throw new ArtifactError((error as Error).message);
  }
  if (artifact.task === 'regression' && spec.outputs !== 1) throw new ArtifactError(`a regression model has 1 output, not ${spec.outputs}`);
  const chunkRows = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(CHUNK_FLOPS / (2 * artifact.parameterCount))));
  const context = await createFastContext({ threads: 1, initialMemoryMiB: 1, maxMemoryMiB: 4096 });
  const runner = networkFromArtifact(context, artifact, { maxBatch: chunkRows });
  runner.network.predict(new Float32Array(spec.inputs), 1); // allocates the inference buffers now, so `bytes` counts them
  return {
    id: row.id,
    tenantId: row.tenantId,
    task: artifact.task,
    loss: spec.loss,
    outputs: spec.outputs,
    featureNames: artifact.featureNames,
    inputColumns: columnPlans(artifact.featureNames, encoding),
    encoding,
    classNames: artifact.classNames,
    inputRange: artifact.inputRange,
    runner,
    chunkRows,
    bytes: context.memoryUsed,
    context,
  };
}
