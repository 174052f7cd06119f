/**
 * The meaning of one cell. Surrounding whitespace is ignored. Numbers are decimal (`12`, `-3.5`, `.5`, `1e-3`; no hex, no thousands separators) or JSON
 * numbers; features are stored rounded to float32. A value is "missing" when it is empty, null, NaN or ±Infinity
 * (any case, `inf` too), or when it overflows float32.
 *
 * Targets (ingest/targets.ts): a number becomes its canonical text as a class name ("1.0", "01" and 1 are all class
 * "1"); any other string, or a JSON boolean, is a class name as is.
 */
import { DECIMAL } from '../../inference/input/decimal.js';
import type { Cell } from '../readers/events.js';

const NOT_FINITE = /^[+-]?(nan|inf|infinity)$/i;

export type MissingReason = 'empty' | 'null' | 'nan' | 'infinite' | 'out-of-float32-range';

/** Why a cell is not a usable number. */
export type CellProblem = { problem: 'missing'; reason: MissingReason } | { problem: 'non-numeric' };

const EMPTY: CellProblem = { problem: 'missing', reason: 'empty' };
const NULL: CellProblem = { problem: 'missing', reason: 'null' };
const NAN: CellProblem = { problem: 'missing', reason: 'nan' };
const INFINITE: CellProblem = { problem: 'missing', reason: 'infinite' };
const OUT_OF_RANGE: CellProblem = { problem: 'missing', reason: 'out-of-float32-range' };
const NON_NUMERIC: CellProblem = { problem: 'non-numeric' };

/** The cell as a float64 number (not yet rounded), or why it is not one. */
export function numberOf(cell: Cell): number | CellProblem {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'string') {
    const text = cell.trim();
    if (text === '') return EMPTY;
    if (DECIMAL.test(text)) return Number(text);
    if (NOT_FINITE.test(text)) return /nan/i.test(text) ? NAN : INFINITE;
    return NON_NUMERIC;
  }
  if (cell === null) return NULL;
  return NON_NUMERIC;
}

/** A feature value as stored: a finite float32 (returned as a JS number), or why it cannot be one. */
export function featureOf(cell: Cell): number | CellProblem {
  const n = numberOf(cell);
  if (typeof n !== 'number') return n;
  const f = Math.fround(n);
  return Number.isFinite(f) ? f : OUT_OF_RANGE;
}

/** A cell as shown in an error message: text, cut to 100 characters. */
export function shown(cell: Cell): string {
  const text = typeof cell === 'string' ? cell : JSON.stringify(cell);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
