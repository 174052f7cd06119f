/**
 * A text/csv prediction body: comma-separated rows of numbers, one row per record, with an optional header.
 * With a header, columns are matched to the model's features by name (any order, every feature, nothing else); without,
 * values are in the model's feature order. `header` true/false forces the choice; by default the first record is a
 * header when one of its cells is not a number. Problems name the `row` (0-based data row), the `column` (0-based) and
 * the `line` (1-based line of the text).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { checkRowCount, columnOrder, inputProblem, type FeatureMatrix, type InputShape } from './feature-matrix.js';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT32_MAX = 3.4028234663852886e38;

interface Parsed {
  record: string[];
  info: { lines: number };
}

function readRecords(text: string, maxRecords: number): Parsed[] {
  try {
    return parse(text, { info: true, trim: true, skip_empty_lines: true, relax_column_count: true, to: maxRecords }) as unknown as Parsed[]; // `info: true` makes each record {record, info}
  } catch (error) {
    if (error instanceof CsvError) throw inputProblem('malformed', `The CSV could not be parsed: ${error.message}`, { line: error.lines });
    throw error;
  }
}

export function matrixFromCsv(text: string, shape: InputShape, header: boolean | undefined): FeatureMatrix {
  // One record beyond the limit (plus a header) is enough to tell that there are too many.
  const records = readRecords(text, shape.maxRows + 2);
  const first = records[0]?.record ?? [];
  const hasHeader = header ?? first.some((cell) => !DECIMAL.test(cell));
  const data = hasHeader ? records.slice(1) : records;
  const d = shape.featureNames.length;
  const order = hasHeader ? columnOrder(first, shape) : shape.featureNames.map((_, i) => i);
  checkRowCount(data.length, shape);
  const x = new Float32Array(data.length * d);
  for (let r = 0; r < data.length; r++) {
    const { record, info } = data[r]!;
    if (record.length !== d) {
      throw inputProblem('width', `Row ${r} (line ${info.lines}) has ${record.length} values; the model takes ${d} (${shape.featureNames.join(', ')})`, {
        row: r, line: info.lines, expected: d, got: record.length,
      });
    }
    for (let c = 0; c < d; c++) {
      const cell = record[c]!;
      const feature = shape.featureNames[order[c]!];
      const value = DECIMAL.test(cell) ? Number(cell) : NaN;
      if (Number.isNaN(value) || Math.abs(value) > FLOAT32_MAX) {
        throw inputProblem(Number.isNaN(value) ? 'not-a-number' : 'out-of-range', `Row ${r} (line ${info.lines}), column ${c} (${feature}): ${JSON.stringify(cell)} is not a float32 number`, {
          row: r, column: c, line: info.lines, feature,
        });
      }
      x[r * d + order[c]!] = value;
    }
  }
  return { x, rows: data.length };
}
