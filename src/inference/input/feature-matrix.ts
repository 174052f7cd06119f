/**
 * Prediction rows → the (n, d) float32 matrix in the model's feature order, with every problem reported as
 * PREDICT_INPUT_INVALID (400) naming where it is: `row` (0-based data row), `column` (0-based, in the order the input
 * gave the values) and/or `feature` (the name), plus `problem`, a stable slug:
 *   empty, too-many-rows, not-a-row, width, unknown-feature, missing-feature, duplicate-feature, not-a-number,
 *   out-of-range, shape, malformed (CSV syntax), unknown-category, not-a-category (text columns, ./columns.ts),
 *   missing-target, unknown-class (evaluation).
 * `out-of-range` is also the answer when a float32 value overflows later, in the model's preprocessing or network
 * (src/routes/models/predict.ts): then `stage` says where ('preprocessing' | 'network').
 *
 * Named columns (objects, dataframe_split, columns, CSV with a header) the model does not use are ignored and listed
 * in `ignoredColumns` — rows may carry the target or an id along — unless the shape is strict, where they are
 * `unknown-feature`. When a column the model needs is missing and an unknown one is present, the unknown one is
 * reported (`unknown-feature`: most likely a misspelt name) rather than the missing one.
 */
import { inputProblem, put, putTarget, type ColumnPlan, type FeatureMatrix, type InputShape } from './columns.js';

export { inputProblem, numberAt, type FeatureMatrix, type InputShape, type Problem } from './columns.js';

/** Where a named input column goes: a model column, the target, or nowhere (ignored). */
export type Slot = ColumnPlan | 'target' | null;

export function checkRowCount(n: number, shape: InputShape): void {
  if (n === 0) throw inputProblem('empty', 'There are no rows to predict');
  if (n > shape.maxRows) {
    throw inputProblem('too-many-rows', `${n} rows; at most ${shape.maxRows} per request (MAX_PREDICT_ROWS)`, { limit: shape.maxRows, rows: n });
  }
}

function expectedNames(shape: InputShape): string {
  return [...shape.columns.map((c) => c.name), ...(shape.target ? [shape.target.name] : [])].join(', ');
}

/** Maps the input's column names onto the model's columns (see the file comment); names of ignored columns go to `ignored`. */
export function columnOrder(columns: readonly unknown[], shape: InputShape, ignored: Set<string>, row: number | null = null): Slot[] {
  const index = new Map(shape.columns.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const unknown: { column: number; name: unknown }[] = [];
  const slots = columns.map((name, column): Slot => {
    if (typeof name === 'string' && shape.target && name === shape.target.name) {
      if (seen.has(name)) throw inputProblem('duplicate-feature', `Column ${JSON.stringify(name)} is given twice`, { column, feature: name });
      seen.add(name);
      return 'target';
    }
    const plan = typeof name === 'string' ? index.get(name) : undefined;
    if (plan === undefined) {
      unknown.push({ column, name });
      return null;
    }
    if (seen.has(plan.name)) throw inputProblem('duplicate-feature', `Feature ${JSON.stringify(name)} is given twice`, { column, feature: name });
    seen.add(plan.name);
    return plan;
  });
  const missing = shape.columns.filter((c) => !seen.has(c.name)).map((c) => c.name);
  if (shape.target && !seen.has(shape.target.name)) missing.push(shape.target.name);
  const firstUnknown = unknown[0];
  if (firstUnknown && (missing.length > 0 || shape.strict)) {
    const { column, name } = firstUnknown;
    throw inputProblem('unknown-feature', `Unknown feature ${JSON.stringify(name)}; the model's features are ${expectedNames(shape)}`, {
      column, feature: name, ...(row !== null && { row }),
    });
  }
  if (missing.length > 0) {
    throw inputProblem('missing-feature', `Missing feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      feature: missing[0], missing, ...(row !== null && { row }),
    });
  }
  for (const { name } of unknown) ignored.add(String(name));
  return slots;
}

/** Writes one value of an input column (by its slot) into the matrix (and the targets). */
export function place(m: FeatureMatrix, shape: InputShape, slot: Slot, row: number, value: unknown, column: number, line?: number): void {
  if (slot === null) return;
  if (slot === 'target') putTarget(m.y!, shape.target!, row, value, column);
  else put(m.x, shape, slot, row, value, column, line);
}

/** An empty matrix of n rows for the shape. */
export function emptyMatrix(n: number, shape: InputShape): FeatureMatrix {
  return { x: new Float32Array(n * shape.features), rows: n, ignoredColumns: [], ...(shape.target && { y: new Float64Array(n) }) };
}

/** The slots of array rows: the model's columns in order, then the target (labelled rows). */
function positionalSlots(shape: InputShape): Slot[] {
  return [...shape.columns, ...(shape.target ? ['target' as const] : [])];
}

/** Rows given as arrays of values, in the model's column order (labelled rows: the target last). */
export function fromArrays(rows: readonly unknown[], shape: InputShape): FeatureMatrix {
  checkRowCount(rows.length, shape);
  const slots = positionalSlots(shape);
  const d = slots.length;
  const m = emptyMatrix(rows.length, shape);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an array of ${d} values`, { row: r });
    if (row.length !== d) {
      throw inputProblem('width', `Row ${r} has ${row.length} values; the model takes ${d} (${expectedNames(shape)})`, { row: r, expected: d, got: row.length });
    }
    for (let c = 0; c < d; c++) place(m, shape, slots[c]!, r, row[c], c);
  }
  return m;
}

/** Rows given as objects keyed by column name (every column the model takes; others are ignored, see above). */
export function fromObjects(rows: readonly unknown[], shape: InputShape): FeatureMatrix {
  checkRowCount(rows.length, shape);
  const m = emptyMatrix(rows.length, shape);
  const ignored = new Set<string>();
  let lastKeys: string[] = [];
  let slots: Slot[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an object keyed by feature name`, { row: r });
    const keys = Object.keys(row);
    // Rows usually list their keys in one order: map them once.
    if (keys.length !== lastKeys.length || keys.some((k, i) => k !== lastKeys[i])) slots = columnOrder(keys, shape, ignored, r);
    lastKeys = keys;
    const values = row as Record<string, unknown>;
    for (let c = 0; c < keys.length; c++) place(m, shape, slots[c]!, r, values[keys[c]!], c);
  }
  m.ignoredColumns = [...ignored];
  return m;
}

/** A table given as column names plus rows of values in that order (dataframe_split). */
export function fromTable(columns: readonly unknown[], data: readonly unknown[], shape: InputShape): FeatureMatrix {
  const ignored = new Set<string>();
  const slots = columnOrder(columns, shape, ignored);
  checkRowCount(data.length, shape);
  const m = emptyMatrix(data.length, shape);
  const d = columns.length;
  for (let r = 0; r < data.length; r++) {
    const row = data[r];
    if (!Array.isArray(row)) throw inputProblem('not-a-row', `Row ${r} is not an array of ${d} values`, { row: r });
    if (row.length !== d) throw inputProblem('width', `Row ${r} has ${row.length} values; the columns are ${columns.length}`, { row: r, expected: d, got: row.length });
    for (let c = 0; c < d; c++) place(m, shape, slots[c]!, r, row[c], c);
  }
  m.ignoredColumns = [...ignored];
  return m;
}

/** Columns given as {name: [values]} (MLflow `inputs` as an object). */
export function fromColumns(columns: Readonly<Record<string, unknown>>, shape: InputShape): FeatureMatrix {
  const names = Object.keys(columns);
  const ignored = new Set<string>();
  const slots = columnOrder(names, shape, ignored);
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
  const m = emptyMatrix(n, shape);
  for (let c = 0; c < names.length; c++) {
    const list = lists[c]!;
    for (let r = 0; r < n; r++) place(m, shape, slots[c]!, r, list[r], c);
  }
  m.ignoredColumns = [...ignored];
  return m;
}
