/**
 * The matrices a job trains on: the dataset split into training and validation rows (seeded, ./split.ts), the
 * preprocessing fitted on the training rows (or restored from a checkpoint / warm-start model), and both splits
 * transformed by it; plus the rows of the training split evaluated at every epoch end (at most TRAIN_EVAL_ROWS, a
 * seeded sample: ./split.ts trainEvalSample). Targets keep their type: class indices (Int32Array) or values
 * (Float32Array, one per row).
 *
 * Letters: R rows of the dataset, F raw features, D preprocessed inputs (the network's input width).
 */
import { Preprocessor, type FittedPreprocessing, type PreprocessingSpec } from '../engine/preprocessing.js';
import { splitRows, trainEvalSample } from './split.js';
import type { TrainerDataset } from './trainer-protocol.js';

export interface Split {
  rows: number;
  /** (rows, D) row-major, preprocessed. */
  x: Float32Array;
  y: Int32Array | Float32Array;
}

/** Most training rows evaluated at each epoch end (trainLoss / trainAccuracy): a larger split is sampled. */
export const TRAIN_EVAL_ROWS = 10_000;

export interface PreparedData {
  train: Split;
  validation: Split;
  /**
   * The training rows evaluated at each epoch end: `train` itself when it has at most TRAIN_EVAL_ROWS rows, else a
   * seeded sample of TRAIN_EVAL_ROWS of them (a copy, in split order), the same for the whole job.
   */
  trainEval: Split;
  /** D */
  inputs: number;
  preprocessor: Preprocessor;
}

/**
 * Splits and preprocesses. `fitted` (from a checkpoint or a warm-start model) is used as is; otherwise the spec is
 * fitted on the training rows.
 */
export function prepareData(
  data: TrainerDataset, validationFraction: number, seed: number, preprocessing: PreprocessingSpec, fitted: FittedPreprocessing | null,
): PreparedData {
  const F = data.features;
  const split = splitRows(data.rows, validationFraction, seed);
  const rawTrain = gatherRows(data.x, F, split.train);
  const preprocessor = fitted ? Preprocessor.fromJSON(fitted) : Preprocessor.fit(preprocessing, rawTrain, split.train.length, F);
  if (preprocessor.inputs !== F) throw new RangeError(`the preprocessing takes ${preprocessor.inputs} features, the dataset has ${F}`);
  const transform = (raw: Float32Array, rows: number) => (rows === 0 ? new Float32Array(0) : (preprocessor.apply(raw, rows) as Float32Array));
  const train: Split = { rows: split.train.length, x: transform(rawTrain, split.train.length), y: gatherTargets(data.y, split.train) };
  const sample = trainEvalSample(seed, train.rows, TRAIN_EVAL_ROWS);
  const trainEval: Split = sample.length === train.rows
    ? train
    : { rows: sample.length, x: gatherRows(train.x, preprocessor.outputs, sample), y: gatherTargets(train.y, sample) };
  return {
    train,
    trainEval,
    validation: {
      rows: split.validation.length,
      x: transform(gatherRows(data.x, F, split.validation), split.validation.length),
      y: gatherTargets(data.y, split.validation),
    },
    inputs: preprocessor.outputs,
    preprocessor,
  };
}

/** Rows `indices` of x (·, width) into a new (indices.length, width) matrix. */
export function gatherRows(x: Float32Array, width: number, indices: ArrayLike<number>, out: Float32Array = new Float32Array(indices.length * width)): Float32Array {
  if (width <= NARROW_ROW) {
    // Narrow rows (a 2-feature spiral): element by element; a subarray per row would cost more than the copy.
    for (let i = 0, o = 0; i < indices.length; i++) {
      const from = indices[i]! * width;
      for (let k = 0; k < width; k++) out[o++] = x[from + k]!;
    }
    return out;
  }
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i]! * width;
    out.set(x.subarray(from, from + width), i * width);
  }
  return out;
}

/** Rows of at most this many values are gathered element by element. */
const NARROW_ROW = 32;

export function gatherTargets<T extends Int32Array | Float32Array>(y: T, indices: ArrayLike<number>): T {
  const out = (y instanceof Int32Array ? new Int32Array(indices.length) : new Float32Array(indices.length)) as T;
  for (let i = 0; i < indices.length; i++) out[i] = y[indices[i]!]!;
  return out;
}
