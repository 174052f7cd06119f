/**
 * The model artifact: everything needed to run a trained network on raw feature rows. A training job writes one as a
 * Model row on success; inference (and export/import) read it back with the functions here.
 *
 * Format version 1 (Model row column → meaning):
 *   task          'classification' | 'regression'
 *   spec          the engine's ResolvedSpec (JSON: inputs, layers [{units, activation, alpha, pieces, dropout, init}],
 *                 outputs, loss, regularization, inputNoise, outputInit). {@link networkSpecOf} turns it back into the
 *                 NetworkSpec that builds the same network.
 *   weights       parameterCount little-endian float32 values, packed in the engine's parameter-table order: layer by
 *                 layer in forward order; within a layer W (inputs × outputs, row-major), then b, then PReLU α
 *                 (src/engine/params.ts). Maxout W is (inputs × units·pieces).
 *   preprocessing the engine's FittedPreprocessing (JSON), fitted on the job's training split: apply it to raw rows
 *                 (featureNames order) before the network.
 *   featureNames  the raw input columns, in order (width = preprocessing.inputs).
 *   classNames    classification: class index → name; [] for regression.
 *   metrics       {@link ModelMetrics}: the evaluation of the epoch the weights come from.
 *   inputRange    per raw feature {min, max} over the whole dataset (bounding box for decision grids).
 *
 * Reading the outputs (Network.predict on preprocessed rows), by spec.loss:
 *   softmax   outputs = classes ≥ 2: class probabilities; the class is the argmax.
 *   logistic  outputs = 1 (two classes): P(classNames[1]); outputs = classes > 2: one-vs-all probabilities, argmax.
 *   svm       outputs = 1 (two classes): a score, classNames[1] when > 0; outputs = classes > 2: scores, argmax.
 *   l2        outputs = 1: the predicted value.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Backend, Real } from '../engine/backend.js';
import { createNetwork, type Network } from '../engine/network.js';
import { layoutParams } from '../engine/params.js';
import { Preprocessor, type FittedPreprocessing } from '../engine/preprocessing.js';
import { planLayers, resolveSpec, validateSpec, type HiddenLayerSpec, type NetworkSpec, type ResolvedSpec } from '../engine/spec.js';

export const ARTIFACT_FORMAT = 'trainyard-model';
export const ARTIFACT_VERSION = 1;

export interface FeatureRange {
  min: number;
  max: number;
}

/** Metrics of one evaluation (null where they do not apply), as in Job.bestMetrics / finalMetrics and Model.metrics. */
export interface EvalSummary {
  epoch: number;
  step: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  valRmse: number | null;
  valR2: number | null;
}

/** Evaluation of the weights a model holds. */
export interface ModelMetrics extends EvalSummary {
  /** 'best' (the best epoch by the job's monitored metric) or 'final' (the last epoch). */
  source: 'best' | 'final';
  monitor: string;
}

export interface ModelArtifact {
  task: 'classification' | 'regression';
  spec: ResolvedSpec;
  parameterCount: number;
  /** Packed parameters (see the format above). */
  weights: Float32Array;
  preprocessing: FittedPreprocessing;
  featureNames: string[];
  classNames: string[];
  metrics: ModelMetrics;
  inputRange: FeatureRange[];
}

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** The NetworkSpec that builds the network a ResolvedSpec describes (resolveSpec of it gives the same ResolvedSpec). */
export function networkSpecOf(r: ResolvedSpec): NetworkSpec {
  return {
    inputs: r.inputs,
    layers: r.layers.map((l): HiddenLayerSpec => {
      const layer: HiddenLayerSpec = { units: l.units, activation: l.activation, dropout: l.dropout, init: l.init };
      if (l.activation === 'leaky-relu' || l.activation === 'prelu') layer.alpha = l.alpha;
      if (l.activation === 'maxout') layer.pieces = l.pieces;
      return layer;
    }),
    outputs: r.outputs,
    loss: r.loss,
    regularization: { l2: r.regularization.l2, l1: r.regularization.l1 },
    inputNoise: r.inputNoise,
    init: r.outputInit,
  };
}

/** Validates a stored spec (Model.spec) and returns it as a ResolvedSpec. */
export function readArtifactSpec(json: unknown): ResolvedSpec {
  const r = json as ResolvedSpec | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.layers) || typeof r.regularization !== 'object') throw new ArtifactError('model spec: not a resolved network spec');
  const spec = networkSpecOf(r);
  const issues = validateSpec(spec);
  if (issues.length) throw new ArtifactError(`model spec: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  const resolved = resolveSpec(spec);
  if (!isDeepStrictEqual(resolved, r)) throw new ArtifactError('model spec: not in resolved form');
  return resolved;
}

export function parameterCountOf(spec: ResolvedSpec): number {
  return layoutParams(planLayers(spec)).parameterCount;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Weights as stored: little-endian float32 bytes (a plain copy on little-endian machines). */
export function encodeWeights(values: Float32Array): Uint8Array<ArrayBuffer> {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}

export function decodeWeights(bytes: Uint8Array, parameterCount: number): Float32Array {
  if (bytes.byteLength !== parameterCount * 4) throw new ArtifactError(`weights: expected ${parameterCount * 4} bytes, got ${bytes.byteLength}`);
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice().buffer);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(parameterCount);
  for (let i = 0; i < parameterCount; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** The columns of a Model row (besides ids, name and tenant) holding this artifact. */
export function artifactColumns(a: ModelArtifact) {
  return {
    task: a.task,
    spec: JSON.parse(JSON.stringify(a.spec)) as object,
    parameterCount: a.parameterCount,
    weights: encodeWeights(a.weights),
    preprocessing: JSON.parse(JSON.stringify(a.preprocessing)) as object,
    featureNames: [...a.featureNames],
    classNames: [...a.classNames],
    metrics: JSON.parse(JSON.stringify(a.metrics)) as object,
    inputRange: a.inputRange.map((r) => ({ min: r.min, max: r.max })),
  };
}

/** What a Model row holds (the Prisma row satisfies this). */
export interface ModelRowLike {
  task: 'classification' | 'regression';
  spec: unknown;
  parameterCount: number;
  weights: Uint8Array;
  preprocessing: unknown;
  featureNames: string[];
  classNames: string[];
  metrics: unknown;
  inputRange: unknown;
}

/** Reads and checks a Model row: the spec, weights, preprocessing and names must agree with each other. */
export function artifactFromRow(row: ModelRowLike): ModelArtifact {
  const spec = readArtifactSpec(row.spec);
  const parameterCount = parameterCountOf(spec);
  if (row.parameterCount !== parameterCount) throw new ArtifactError(`parameterCount ${row.parameterCount} does not match the spec's ${parameterCount}`);
  let pre: Preprocessor;
  try {
    pre = Preprocessor.fromJSON(row.preprocessing);
  } catch (error) {
    throw new ArtifactError((error as Error).message);
  }
  if (pre.outputs !== spec.inputs) throw new ArtifactError(`preprocessing gives ${pre.outputs} values, the network takes ${spec.inputs}`);
  if (row.featureNames.length !== pre.inputs) throw new ArtifactError(`${row.featureNames.length} feature names for ${pre.inputs} inputs`);
  const classes = row.classNames.length;
  if (row.task === 'classification' && !(classes >= 2 && (spec.outputs === classes || (spec.outputs === 1 && classes === 2)))) {
    throw new ArtifactError(`${classes} class names do not fit ${spec.outputs} outputs`);
  }
  if (row.task === 'regression' && (classes !== 0 || spec.loss !== 'l2')) throw new ArtifactError('a regression model has an l2 loss and no classes');
  const inputRange = row.inputRange as FeatureRange[];
  if (!Array.isArray(inputRange) || inputRange.length !== pre.inputs || !inputRange.every((r) => typeof r?.min === 'number' && typeof r?.max === 'number')) {
    throw new ArtifactError('inputRange must have one {min, max} per feature');
  }
  return {
    task: row.task,
    spec,
    parameterCount,
    weights: decodeWeights(row.weights, parameterCount),
    preprocessing: pre.toJSON(),
    featureNames: [...row.featureNames],
    classNames: [...row.classNames],
    metrics: row.metrics as ModelMetrics,
    inputRange,
  };
}

export interface ModelRunner<T extends Real> {
  network: Network<T>;
  preprocessor: Preprocessor;
}

/**
 * The artifact's network (weights loaded) on `ctx`, and its preprocessor. Predict raw rows x (n × features) with
 * `network.predict(preprocessor.apply(x, n), n)`. maxBatch is the chunk size of predict/evaluate (default 256).
 */
export function networkFromArtifact<T extends Real>(ctx: Backend<T>, artifact: ModelArtifact, options: { maxBatch?: number } = {}): ModelRunner<T> {
  const network = createNetwork(networkSpecOf(artifact.spec), {
    ctx, maxBatch: options.maxBatch ?? 256, seed: 0, optimizer: { type: 'sgd', learningRate: 1 },
  });
  const layout = network.layout.entries.map((e) => ({ name: e.name, rows: e.rows, cols: e.cols, offset: e.packedOffset }));
  network.importWeights({ layout, values: artifact.weights });
  return { network, preprocessor: Preprocessor.fromJSON(artifact.preprocessing) };
}
