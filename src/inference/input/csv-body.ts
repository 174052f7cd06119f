/**
 * A text/csv prediction body: comma-separated rows, one row per record, with an optional header.
 * With a header, columns are matched to the model's columns by name (any order, every column; others are ignored, or
 * refused when strict: feature-matrix.ts); without, values are in the model's column order. `header` true/false forces the choice; by default the first record is a
 * header when one of its cells is not a number. Problems name the `row` (0-based data row), the `column` (0-based) and
 * the `line` (1-based line of the text).
 */
import { plainNumericCsv } from './csv-numeric.js';
import { csvRecords } from './csv-records.js';
import { DECIMAL, decimalValue, FLOAT32_MAX } from './decimal.js';
import { checkRowCount, columnOrder, emptyMatrix, inputProblem, place, type FeatureMatrix, type InputShape, type Slot } from './feature-matrix.js';


/** Reading options (tests turn the fast path off to compare the two readings). */
export interface CsvReading {
  plainNumbers?: boolean;
}

export function matrixFromCsv(text: string, shape: InputShape, header: boolean | undefined, reading: CsvReading = {}): FeatureMatrix {
  const fast = reading.plainNumbers !== false && !shape.target && shape.columns.every((c) => c.kind === 'numeric') ? fromPlainNumbers(text, shape, header) : null;
  return fast ?? fromRecords(text, shape, header);
}

/**
 * A numeric model's matrix from a plain numeric body (./csv-numeric.ts), or null when the body is not one or has any
 * problem (a wrong width, a value that is not a float32 number): the general reading then reports it.
 */
function fromPlainNumbers(text: string, shape: InputShape, header: boolean | undefined): FeatureMatrix | null {
  const plain = plainNumericCsv(text, header, shape.maxRows);
  if (!plain) return null;
  const ignored = new Set<string>();
  const slots: Slot[] = plain.header ? columnOrder(plain.header, shape, ignored) : [...shape.columns];
  const offsets = slots.map((s) => (s === null || s === 'target' ? -1 : s.offset));
  const m = emptyMatrix(plain.rows, shape);
  if (!plain.read(m.x, shape.features, offsets)) return null;
  m.ignoredColumns = [...ignored];
  return m;
}

/** The general reading: csv-parse's records (./csv-records.ts), cell by cell. */
function fromRecords(text: string, shape: InputShape, header: boolean | undefined): FeatureMatrix {
  // One record beyond the limit (plus a header) is enough to tell that there are too many.
  const records = csvRecords(text, shape.maxRows + 2);
  const first = records[0]?.record ?? [];
  const hasHeader = header ?? looksLikeHeader(first, shape);
  const data = hasHeader ? records.slice(1) : records;
  const ignored = new Set<string>();
  const slots: Slot[] = hasHeader ? columnOrder(first, shape, ignored) : [...shape.columns, ...(shape.target ? ['target' as const] : [])];
  const d = slots.length;
  checkRowCount(data.length, shape);
  const m = emptyMatrix(data.length, shape);
  for (let r = 0; r < data.length; r++) {
    const { record, info } = data[r]!;
    if (record.length !== d) {
      const names = slots.map((s) => (s === null ? '(ignored)' : s === 'target' ? shape.target!.name : s.name));
      throw inputProblem('width', `Row ${r} (line ${info.lines}) has ${record.length} values; the model takes ${d} (${names.join(', ')})`, {
        row: r, line: info.lines, expected: d, got: record.length,
      });
    }
    for (let c = 0; c < d; c++) {
      const slot = slots[c]!;
      const cell = record[c]!;
      if (slot !== null && slot !== 'target' && slot.kind === 'numeric') {
        const value = decimalValue(cell);
        if (Number.isNaN(value) || Math.abs(value) > FLOAT32_MAX) {
          throw inputProblem(Number.isNaN(value) ? 'not-a-number' : 'out-of-range', `Row ${r} (line ${info.lines}), column ${c} (${slot.name}): ${JSON.stringify(cell)} is not a float32 number`, {
            row: r, column: c, line: info.lines, feature: slot.name,
          });
        }
        m.x[r * shape.features + slot.offset] = value;
      } else {
        place(m, shape, slot, r, cell, c, info.lines);
      }
    }
  }
  m.ignoredColumns = [...ignored];
  return m;
}

/**
 * Without `header`: the first record is a header when one of its cells is not a number — and, for a model with text
 * columns (whose data rows hold text too), when one of its cells is also the name of a column the model takes.
 */
function looksLikeHeader(first: readonly string[], shape: InputShape): boolean {
  if (!first.some((cell) => !DECIMAL.test(cell))) return false;
  if (!shape.columns.some((c) => c.kind === 'categorical')) return true;
  const names = new Set(shape.columns.map((c) => c.name));
  return first.some((cell) => names.has(cell));
}
