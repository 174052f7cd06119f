/**
 * Which column is the target and what the features are called, fixed by the header (or the first row's width when the
 * upload has no names). Unnamed columns are called c0, c1, … by position; empty header cells too.
 */
import { apiError } from '../../errors.js';

export interface Layout {
  /** Columns per row, the target included. */
  width: number;
  /** Every column's name, in upload order. */
  columnNames: string[];
  targetIndex: number;
  featureNames: string[];
  targetName: string;
}

/**
 * @param names  column names, or null when the upload has none
 * @param target the `target` option: a column name, or a 0-based column index; undefined = the last column
 */
export function resolveLayout(names: readonly string[] | null, width: number, target: string | undefined, maxFeatures: number): Layout {
  if (width - 1 > maxFeatures) {
    throw apiError('DATASET_TOO_MANY_FEATURES', `The upload has ${width - 1} feature columns; the limit is ${maxFeatures}`, { features: width - 1, limit: maxFeatures });
  }
  if (width < 2) {
    throw apiError('DATASET_MALFORMED', `Found ${width} column; a dataset needs at least one feature column besides the target (is the delimiter right?)`, { columns: width });
  }
  const columnNames = Array.from({ length: width }, (_, i) => (names?.[i] ? names[i] : `c${i}`));
  const seen = new Set<string>();
  for (const name of columnNames) {
    if (seen.has(name)) throw apiError('DATASET_MALFORMED', `Two columns are named "${name}"; column names must be unique`, { column: name });
    seen.add(name);
  }
  const targetIndex = findTarget(columnNames, target);
  return {
    width,
    columnNames,
    targetIndex,
    featureNames: columnNames.filter((_, i) => i !== targetIndex),
    targetName: columnNames[targetIndex]!,
  };
}

function findTarget(columnNames: string[], target: string | undefined): number {
  if (target === undefined) return columnNames.length - 1;
  const byName = columnNames.indexOf(target);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(target) && Number(target) < columnNames.length) return Number(target);
  const listed = columnNames.slice(0, 20).map((n) => `"${n}"`).join(', ') + (columnNames.length > 20 ? ', …' : '');
  throw apiError(
    'DATASET_TARGET_NOT_FOUND',
    `There is no column "${target}"; give a column name (${listed}) or a 0-based index below ${columnNames.length}`,
    { target, columns: columnNames.slice(0, 100) },
  );
}
