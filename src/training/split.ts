/**
 * Which rows train and which validate, and in which order each epoch visits the training rows — all derived from the
 * job's seed, so a resumed job recomputes them exactly instead of storing them.
 *
 * Every random stream of a job is an engine Rng seeded with streamSeed(seed, stream): the epoch e shuffle is stream e,
 * the split, the sample of training rows evaluated at epoch ends and the network (init, dropout, noise) have streams
 * of their own. seed < 2³¹ and stream < 2²¹ keep the
 * result a safe integer, and distinct (seed, stream) pairs give distinct Rng seeds.
 */
import { Rng } from '../engine/rng.js';

const STREAMS = 2 ** 21;
/** Epochs are streams 0 … MAX_EPOCHS − 1. */
export const MAX_EPOCHS = 2 ** 20;
export const NETWORK_STREAM = STREAMS - 1;
const SPLIT_STREAM = STREAMS - 2;
const TRAIN_EVAL_STREAM = STREAMS - 3;

export function streamSeed(seed: number, stream: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 31) throw new RangeError(`seed must be an integer in [0, 2^31), got ${seed}`);
  if (!Number.isInteger(stream) || stream < 0 || stream >= STREAMS) throw new RangeError(`stream must be an integer in [0, 2^21), got ${stream}`);
  return seed * STREAMS + stream;
}

export interface SplitSizes {
  trainRows: number;
  validationRows: number;
}

/** ⌊rows · fraction⌋ rows validate, the rest train. */
export function splitSizes(rows: number, validationFraction: number): SplitSizes {
  const validationRows = Math.floor(rows * validationFraction);
  return { trainRows: rows - validationRows, validationRows };
}

export interface RowSplit {
  /** Row indices of the training split, ascending. */
  train: Int32Array;
  /** Row indices of the validation split, ascending. */
  validation: Int32Array;
}

/** A seeded random split of rows 0 … rows − 1. */
export function splitRows(rows: number, validationFraction: number, seed: number): RowSplit {
  const { validationRows } = splitSizes(rows, validationFraction);
  const order = identity(rows);
  new Rng(streamSeed(seed, SPLIT_STREAM)).shuffle(order);
  const validation = order.slice(0, validationRows).sort();
  const train = order.slice(validationRows).sort();
  return { train, validation };
}

/** The order (positions 0 … n − 1 into the training split) in which epoch `epoch` visits the training rows. */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= MAX_EPOCHS) throw new RangeError(`epoch must be an integer in [0, 2^20), got ${epoch}`);
  const order = identity(n);
  new Rng(streamSeed(seed, epoch)).shuffle(order);
  return order;
}

/**
 * The training rows evaluated at every epoch end (trainLoss / trainAccuracy of the epoch's record): positions
 * 0 … n − 1 into the training split, ascending. All of them when n ≤ size; otherwise a uniform random sample of `size`
 * without replacement, drawn from the job's seed — one sample for the whole job (every epoch, and a resumed attempt,
 * evaluates the same rows), and unbiased whatever order the rows were uploaded in (e.g. sorted by label).
 */
export function trainEvalSample(seed: number, n: number, size: number): Int32Array {
  if (n <= size) return identity(n);
  const order = identity(n);
  new Rng(streamSeed(seed, TRAIN_EVAL_STREAM)).shuffle(order);
  return order.slice(0, size).sort();
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
