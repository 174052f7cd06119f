/**
 * The input columns a model takes, and how one value of each lands in the (n, d) feature matrix:
 *   - a model without an encoding takes its featureNames, each a number;
 *   - a model trained on a dataset with text columns (src/datasets/encoding.ts) takes the dataset's raw columns: a
 *     numeric column is one feature; a categorical column takes a category (text; a number is taken as its canonical
 *     text, "1.0" → "1", as at upload) and sets its one-hot feature to 1. A category the model never saw sets none of
 *     them (all zeros) by default, or is a 400 (problem `unknown-category`) with `unknownCategory=error`.
 * Evaluation also reads a target column (`target`): class names or values.
 */
import type { DatasetEncoding } from '../../datasets/encoding.js';
import { apiError, type ApiError } from '../../errors.js';
import { DECIMAL, FLOAT32_MAX } from './decimal.js';

/** Largest finite float32. */

export type UnknownCategory = 'zeros' | 'error';

export type ColumnPlan =
  | { name: string; kind: 'numeric'; offset: number }
  | { name: string; kind: 'categorical'; offset: number; index: ReadonlyMap<string, number> };

/** The target column of labelled rows (evaluation): class names (their index) or numeric values. */
export type TargetPlan = { name: string; kind: 'class'; index: ReadonlyMap<string, number> } | { name: string; kind: 'value' };

export interface InputShape {
  /** The columns the model takes, in order (the order of array rows). */
  columns: readonly ColumnPlan[];
  /** d: width of the feature matrix (the model's features). */
  features: number;
  maxRows: number;
  /** Named columns the model does not use are refused (unknown-feature) instead of ignored. */
  strict?: boolean;
  unknownCategory?: UnknownCategory;
  /** Labelled rows: the target column, after the feature columns in array rows. */
  target?: TargetPlan;
}

export interface FeatureMatrix {
  x: Float32Array;
  rows: number;
  /** Named columns that were given but not used, in the order first seen. */
  ignoredColumns: string[];
  /** With shape.target: per row, the class index or the value. */
  y?: Float64Array;
}

export type Problem =
  | 'empty' | 'too-many-rows' | 'not-a-row' | 'width' | 'unknown-feature' | 'missing-feature' | 'duplicate-feature'
  | 'not-a-number' | 'out-of-range' | 'shape' | 'malformed' | 'unknown-category' | 'not-a-category' | 'missing-target' | 'unknown-class';

export function inputProblem(problem: Problem, detail: string, fields: Record<string, unknown> = {}): ApiError {
  return apiError('PREDICT_INPUT_INVALID', detail, { problem, ...fields });
}

/** The input columns of a model: its encoding's columns, or its feature names as numeric columns. */
export function columnPlans(featureNames: readonly string[], encoding: DatasetEncoding | null): ColumnPlan[] {
  if (!encoding) return featureNames.map((name, offset) => ({ name, kind: 'numeric', offset }));
  let offset = 0;
  return encoding.columns.map((c): ColumnPlan => {
    const at = offset;
    if (c.kind === 'numeric') {
      offset += 1;
      return { name: c.name, kind: 'numeric', offset: at };
    }
    offset += c.categories.length;
    return { name: c.name, kind: 'categorical', offset: at, index: new Map(c.categories.map((k, i) => [k, i])) };
  });
}

export function columnNames(shape: InputShape): string[] {
  return shape.columns.map((c) => c.name);
}

/** A JSON value as a float32 number; throws naming the row and column. */
export function numberAt(value: unknown, row: number, column: number, feature: string | undefined): number {
  if (typeof value === 'number' && Math.abs(value) <= FLOAT32_MAX) return value; // the common case, allocating nothing
  const where = { row, column, ...(feature !== undefined && { feature }) };
  if (typeof value !== 'number') {
    throw inputProblem('not-a-number', `Row ${row}, column ${column}${feature !== undefined ? ` (${feature})` : ''}: ${JSON.stringify(value) ?? String(value)} is not a number`, where);
  }
  if (Math.abs(value) > FLOAT32_MAX) throw inputProblem('out-of-range', `Row ${row}, column ${column}: ${value} is beyond the float32 range`, where);
  return value;
}

/** A JSON or CSV value as a category label (numbers in canonical text), or null when it cannot be one. */
export function labelOf(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  return DECIMAL.test(text) ? String(Number(text)) : text;
}

/** Writes row `row`'s value of input column `plan` into x (row-major, d = shape.features). `column`: its position in the input. */
export function put(x: Float32Array, shape: InputShape, plan: ColumnPlan, row: number, value: unknown, column: number, line?: number): void {
  const base = row * shape.features + plan.offset;
  if (plan.kind === 'numeric') {
    x[base] = numberAt(value, row, column, plan.name);
    return;
  }
  const where = { row, column, feature: plan.name, ...(line !== undefined && { line }) };
  const label = labelOf(value);
  if (label === null) throw inputProblem('not-a-category', `Row ${row}, column ${column} (${plan.name}): ${JSON.stringify(value) ?? String(value)} is not a category`, where);
  const at = plan.index.get(label);
  if (at !== undefined) {
    x[base + at] = 1;
    return;
  }
  if (shape.unknownCategory === 'error') {
    const known = [...plan.index.keys()];
    throw inputProblem('unknown-category', `Row ${row}, column ${column} (${plan.name}): "${label}" is not a category the model knows (${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`, {
      ...where, value: label,
    });
  }
}

/** Reads row `row`'s target value into y. */
export function putTarget(y: Float64Array, target: TargetPlan, row: number, value: unknown, column: number): void {
  const where = { row, column, feature: target.name };
  if (target.kind === 'value') {
    const v = typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : value;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw inputProblem('missing-target', `Row ${row}: the target ${target.name} is ${JSON.stringify(value) ?? String(value)}, not a number`, where);
    y[row] = v;
    return;
  }
  const label = labelOf(value);
  const at = label === null ? undefined : target.index.get(label);
  if (at === undefined) {
    if (label === null) throw inputProblem('missing-target', `Row ${row}: the target ${target.name} is missing`, where);
    throw inputProblem('unknown-class', `Row ${row}: the target ${target.name} is "${label}", not one of the model's classes (${[...target.index.keys()].join(', ')})`, { ...where, value: label });
  }
  y[row] = at;
}
