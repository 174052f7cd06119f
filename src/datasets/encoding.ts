/**
 * How an upload's feature columns became the stored feature matrix, and how a model turns raw input rows into it again.
 *
 *   columns   the upload's feature columns (the target excluded), in upload order. A `numeric` column is one stored
 *             feature; a `categorical` column (text values) is one-hot encoded into one feature per category, named
 *             `column=category`, in the order of `categories`. Expanding the columns in order gives the dataset's
 *             featureNames (and a model's).
 *   missing   the upload's `missing` option and what it did: rows dropped, cells imputed per column with the value used.
 *
 * Categories are learned at upload, from every row of the dataset (not from a job's training split): the encoding is
 * fixed with the dataset, so every job on it, its validation split and every prediction of its models use the same
 * feature columns. They are ordered like class names (class-order.ts: numbers ascending, otherwise natural order), so
 * the encoding does not depend on the order rows arrived in.
 *
 * A dataset without an encoding (synthetic, example, and uploads stored before encodings existed) is all-numeric.
 */
import { orderClassNames } from './class-order.js';

export type MissingStrategy = 'error' | 'mean' | 'median' | 'drop-row';
export const MISSING_STRATEGIES: readonly MissingStrategy[] = ['error', 'mean', 'median', 'drop-row'];

export type InputColumn = { name: string; kind: 'numeric' } | { name: string; kind: 'categorical'; categories: string[] };

export interface ImputedColumn {
  column: string;
  /** Cells that were missing and got `value`. */
  cells: number;
  /** The column's mean or median over its present values (numeric), or its most frequent category (categorical). */
  value: number | string;
}

export interface MissingSummary {
  strategy: MissingStrategy;
  droppedRows: number;
  /** Only columns with at least one imputed cell. */
  imputed: ImputedColumn[];
}

export interface DatasetEncoding {
  columns: InputColumn[];
  missing: MissingSummary;
}

/** The JSON form of a categorical column in dataset and model metadata. */
export interface CategoricalSummary {
  column: string;
  categories: string[];
  /** The stored feature names it expands to, `column=category`. */
  features: string[];
}

export function categoryFeatureName(column: string, category: string): string {
  return `${column}=${category}`;
}

/** The stored feature names the columns expand to. */
export function expandedFeatureNames(columns: readonly InputColumn[]): string[] {
  return columns.flatMap((c) => (c.kind === 'numeric' ? [c.name] : c.categories.map((k) => categoryFeatureName(c.name, k))));
}

export function categoricalSummary(encoding: DatasetEncoding | null): CategoricalSummary[] {
  if (!encoding) return [];
  return encoding.columns.flatMap((c) =>
    c.kind === 'categorical' ? [{ column: c.name, categories: [...c.categories], features: c.categories.map((k) => categoryFeatureName(c.name, k)) }] : [],
  );
}

/** The stable order of a categorical column's categories (the order of class names). */
export function orderCategories(labels: readonly string[]): string[] {
  return orderClassNames(labels);
}

export function hasCategorical(encoding: DatasetEncoding | null): boolean {
  return encoding !== null && encoding.columns.some((c) => c.kind === 'categorical');
}

/** A stored encoding (Dataset.encoding, Model.inputEncoding) checked against the feature names it must expand to; null when absent (null or {}). */
export function readEncoding(json: unknown, featureNames: readonly string[]): DatasetEncoding | null {
  if (json === null || json === undefined) return null;
  if (typeof json === 'object' && !Array.isArray(json) && Object.keys(json).length === 0) return null; // Model.inputEncoding's "none"
  const e = json as DatasetEncoding;
  if (typeof e !== 'object' || !Array.isArray(e.columns) || typeof e.missing !== 'object' || e.missing === null) throw new Error('encoding: not an encoding');
  for (const c of e.columns) {
    if (typeof c?.name !== 'string' || (c.kind !== 'numeric' && c.kind !== 'categorical')) throw new Error('encoding: a column is malformed');
    if (c.kind === 'categorical' && (!Array.isArray(c.categories) || !c.categories.every((k) => typeof k === 'string'))) throw new Error(`encoding: column ${c.name} has no categories`);
  }
  const expanded = expandedFeatureNames(e.columns);
  if (expanded.length !== featureNames.length || expanded.some((n, i) => n !== featureNames[i])) throw new Error('encoding: its columns do not expand to the feature names');
  return e;
}
