/**
 * Prediction rows → the (n, d) float32 matrix in the model's feature order, with every problem reported as
 * PREDICT_INPUT_INVALID (400) naming where it is: `row` (0-based data row), `column` (0-based, in the order the input
 * gave the values) and/or `feature` (the name), plus `problem`, a stable slug:
 *   empty, too-many-rows, not-a-row, width, unknown-feature, missing-feature, duplicate-feature, not-a-number,
 *   out-of-range, shape, malformed (CSV syntax).
 * `out-of-range` is also the answer when a float32 value overflows later, in the model's preprocessing or network
 * (src/routes/models/predict.ts): then `stage` says where ('preprocessing' | 'network').
 */
import { apiError, type ApiError } from '../../errors.js';

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

export interface InputShape {
  featureNames: readonly string[];
  maxRows: number;
}

export interface FeatureMatrix {
  x: Float32Array;
  rows: number;
}

export type Problem =
  | 'empty' | 'too-many-rows' | 'not-a-row' | 'width' | 'unknown-feature' | 'missing-feature' | 'duplicate-feature'
  | 'not-a-number' | 'out-of-range' | 'shape' | 'malformed';

export function inputProblem(problem: Problem, detail: string, fields: Record<string, unknown> = {}): ApiError {
  return apiError('PREDICT_INPUT_INVALID', detail, { problem, ...fields });
}

export function checkRowCount(n: number, shape: InputShape): void {
  if (n === 0) throw inputProblem('empty', 'There are no rows to predict');
  if (n > shape.maxRows) {
    throw inputProblem('too-many-rows', `${n} rows; at most ${shape.maxRows} per request (MAX_PREDICT_ROWS)`, { limit: shape.maxRows, rows: n });
  }
}

/** A JSON value as a float32 feature; throws naming the row and column. */
export function numberAt(value: unknown, row: number, column: number, feature: string | undefined): number {
  const where = { row, column, ...(feature !== undefined && { feature }) };
  if (typeof value !== 'number') {
    throw inputProblem('not-a-number', `Row ${row}, column ${column}${feature !== undefined ? ` (${feature})` : ''}: ${JSON.stringify(value) ?? String(value)} is not a number`, where);
  }
  if (Math.abs(value) > FLOAT32_MAX) throw inputProblem('out-of-range', `Row ${row}, column ${column}: ${value} is beyond the float32 range`, where);
  return value;
}

/** Maps the input's column names onto the model's features: for each input column, the feature index. */
export function columnOrder(columns: readonly unknown[], shape: InputShape, row: number | null = null): number[] {
  const index = new Map(shape.featureNames.map((name, i) => [name, i]));
  const seen = new Set<number>();
  const order = columns.map((name, column) => {
    const at = typeof name === 'string' ? index.get(name) : undefined;
    if (at === undefined) {
      throw inputProblem('unknown-feature', `Unknown feature ${JSON.stringify(name)}; the model's features are ${shape.featureNames.join(', ')}`, {
        column, feature: name, ...(row !== null && { row }),
      });
    }
    if (seen.has(at)) throw inputProblem('duplicate-feature', `Feature ${JSON.stringify(name)} is given twice`, { column, feature: name });
    seen.add(at);
    return at;
  });
  if (seen.size < shape.featureNames.length) {
    const missing = shape.featureNames.filter((_, i) => !seen.has(i));
    throw inputProblem('missing-feature', `Missing feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      feature: missing[0], missing, ...(row !== null && { row }),
    });
  }
  return order;
}

/** Rows given as arrays of values, in the model's feature order. */
export function fromArrays(rows: readonly unknown[], shape: InputShape): FeatureMatrix {
  checkRowCount(rows.length, shape);
  const d = shape.featureNames.length;
  const x = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an array of ${d} values`, { row: r });
    if (row.length !== d) {
      throw inputProblem('width', `Row ${r} has ${row.length} values; the model takes ${d} (${shape.featureNames.join(', ')})`, { row: r, expected: d, got: row.length });
    }
    for (let c = 0; c < d; c++) x[r * d + c] = numberAt(row[c], r, c, shape.featureNames[c]);
  }
  return { x, rows: rows.length };
}

/** Rows given as objects keyed by feature name (every feature, nothing else). */
export function fromObjects(rows: readonly unknown[], shape: InputShape): FeatureMatrix {
  checkRowCount(rows.length, shape);
  const d = shape.featureNames.length;
  const x = new Float32Array(rows.length * d);
  let lastKeys: string[] = [];
  let order: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an object keyed by feature name`, { row: r });
    const keys = Object.keys(row);
    // Rows usually list their keys in one order: map them once.
    if (keys.length !== lastKeys.length || keys.some((k, i) => k !== lastKeys[i])) order = columnOrder(keys, shape, r);
    lastKeys = keys;
    const values = row as Record<string, unknown>;
    for (let c = 0; c < keys.length; c++) x[r * d + order[c]!] = numberAt(values[keys[c]!], r, c, keys[c]);
  }
  return { x, rows: rows.length };
}

/** A table given as column names plus rows of values in that order (dataframe_split, CSV with a header). */
export function fromTable(columns: readonly unknown[], data: readonly unknown[], shape: InputShape): FeatureMatrix {
  const order = columnOrder(columns, shape);
  checkRowCount(data.length, shape);
  const d = shape.featureNames.length;
  const x = new Float32Array(data.length * d);
  for (let r = 0; r < data.length; r++) {
    const row = data[r];
    if (!Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an array of ${d} values`, { row: r });
    if (row.length !== d) throw inputProblem('width', `Row ${r} has ${row.length} values; the columns are ${columns.length}`, { row: r, expected: d, got: row.length });
    for (let c = 0; c < d; c++) x[r * d + order[c]!] = numberAt(row[c], r, c, String(columns[c]));
  }
  return { x, rows: data.length };
}

/** Columns given as {feature: [values]} (MLflow `inputs` as an object). */
export function fromColumns(columns: Readonly<Record<string, unknown>>, shape: InputShape): FeatureMatrix {
  const names = Object.keys(columns);
  const order = columnOrder(names, shape);
  const lists = names.map((name, c) => {
    const list = columns[name];
    if (!Array.isArray(list)) throw inputProblem('shape', `Column ${JSON.stringify(name)} is not an array of values`, { column: c, feature: name });
    return list;
  });
  const n = lists[0]?.length ?? 0;
  lists.forEach((list, c) => {
    if (list.length !== n) throw inputProblem('shape', `Column ${JSON.stringify(names[c])} has ${list.length} values, column ${JSON.stringify(names[0])} ${n}`, { column: c, feature: names[c] });
  });
  checkRowCount(n, shape);
  const d = shape.featureNames.length;
  const x = new Float32Array(n * d);
  for (let c = 0; c < d; c++) {
    const list = lists[c]!;
    for (let r = 0; r < n; r++) x[r * d + order[c]!] = numberAt(list[r], r, c, names[c]);
  }
  return { x, rows: n };
}
