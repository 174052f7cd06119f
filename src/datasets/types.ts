/**
 * The shapes the rest of Trainyard sees of a dataset: its metadata (`DatasetMeta`), the matrix the training worker
 * loads (`LoadedDataset`, see load.ts) and the in-memory input that `saveDataset` stores (see store.ts).
 *
 * Letters used in comments: R = rows, F = features (input columns, the target excluded), K = classes.
 */

import type { DatasetEncoding } from './encoding.js';

export type DatasetTask = 'classification' | 'regression';

/** How a dataset arrived. */
export type DatasetSource = 'csv' | 'json' | 'synthetic' | 'example';

/** Statistics of one column over the stored (float32) values. `std` is the population standard deviation. */
export interface ColumnStats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** JSON-compatible values, for `sourceParams`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface DatasetMeta {
  id: string;
  name: string;
  source: DatasetSource;
  /** Upload options, generator parameters (with the seed actually used) or the example's name. */
  sourceParams: { [key: string]: JsonValue };
  task: DatasetTask;
  /** R */
  rows: number;
  /** F */
  features: number;
  /** F names, in column order. */
  featureNames: string[];
  targetName: string;
  /** K class names in index order (the int32 targets index this list); empty for regression. */
  classNames: string[];
  /** Rows per class, same order as classNames; empty for regression. */
  classCounts: number[];
  /** Per feature, F entries. */
  stats: ColumnStats[];
  /** The target's statistics (regression only; null for classification). */
  targetStats: ColumnStats | null;
  /** Stored bytes: R·F·4 (features) + R·4 (targets). */
  byteSize: number;
  /** Hex SHA-256 of the stored bytes; see codec.ts for the exact byte order. */
  contentHash: string;
  chunkCount: number;
  /** Uploads: text columns one-hot encoded and missing values handled (../datasets/encoding.ts); null: all numeric, nothing imputed. */
  encoding: DatasetEncoding | null;
  createdAt: Date;
}

/** What the training worker trains on. */
export interface LoadedDataset {
  meta: DatasetMeta;
  /** R×F, row-major: x[r*F + f]. */
  x: Float32Array;
  /** R targets: a class index into meta.classNames (classification) or the value (regression). */
  y: Int32Array | Float32Array;
}

/** A whole dataset in memory before it is stored: what synthetic generators and example loaders return. */
export interface LabelledMatrix {
  task: DatasetTask;
  /** R×F row-major. */
  x: Float32Array;
  /** Class indices into classNames (classification) or values (regression). */
  y: Int32Array | Float32Array;
  featureNames: string[];
  targetName: string;
  /** Class names in index order; [] for regression. */
  classNames: string[];
}

interface DatasetInputBase {
  name: string;
  /** How it arrived (no default: say where the data came from). */
  source: DatasetSource;
  sourceParams?: { [key: string]: JsonValue };
  /** F */
  features: number;
  /** Default x0…x{F-1}. */
  featureNames?: string[];
  /** Default 'y'. */
  targetName?: string;
  /** R×F, row-major. Every value must be finite. */
  x: Float32Array;
}

/** An in-memory matrix for `saveDataset`. R is x.length / F and must equal y.length. */
export type DatasetInput =
  | (DatasetInputBase & {
      task: 'classification';
      /** R class indices into classNames. */
      y: Int32Array;
      /** K ≥ 2 names; the order is kept as given (index i is classNames[i]). */
      classNames: string[];
    })
  | (DatasetInputBase & {
      task: 'regression';
      /** R finite values. */
      y: Float32Array;
    });
