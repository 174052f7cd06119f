/**
 * The common large CSV prediction body, read in one pass: plain numbers (nothing csv-parse would treat specially, see
 * plainLineEnding in ./csv-records.ts), one record per line, no empty line. Each cell is read from the text's
 * character codes straight into the feature matrix, with the value `Number(cell)` gives, so the result is the general
 * reading's (which uses decimalValue, ./decimal.ts): a cell of at most 15 digits and a power of ten within 10^±22 is
 * digits × or ÷ 10^k, one correctly rounded operation on two exact doubles (Clinger's fast path, the nearest double as
 * Number gives it); any other decimal literal is handed to Number itself. Anything that is not a decimal literal, a
 * row of another width, a value beyond float32: the general reading decides (it reports the problem).
 *
 * Why: 2,000 MNIST rows (8 MB) took 290–490 ms to split and convert cell by cell, 90–150 ms joined into one JSON
 * document for JSON.parse (2,000 arrays of 784 numbers, then copied); this pass allocates nothing per cell.
 */
import { plainLineEnding } from './csv-records.js';
import { DECIMAL, FLOAT32_MAX } from './decimal.js';

export interface PlainNumericCsv {
  /** The header's cells, when the first line is one. */
  header: string[] | null;
  /** Data rows (lines). */
  rows: number;
  /** The 1-based line of the first data row. */
  firstLine: number;
  /**
   * Reads the data rows into x: cell c of row r to x[r·f + offsets[c]] (offset −1: not stored). False, with x partly
   * written, when a row has another width than offsets.length or a cell is not a decimal literal of a finite float32.
   */
  read(x: Float32Array, f: number, offsets: readonly number[]): boolean;
}

/** `text` as plain numeric CSV (header: as for the general reading), or null when it is not one (or has > maxRows rows). */
export function plainNumericCsv(text: string, header: boolean | undefined, maxRows: number): PlainNumericCsv | null {
  const newline = plainLineEnding(text);
  if (newline === null) return null;
  let start = 0;
  const end = text.endsWith(newline) ? text.length - newline.length : text.length;
  const headerEnd = text.indexOf(newline);
  const first = (headerEnd < 0 || headerEnd > end ? text.slice(0, end) : text.slice(0, headerEnd)).split(',');
  const hasHeader = header ?? first.some((cell) => !DECIMAL.test(cell));
  if (hasHeader) start = headerEnd < 0 || headerEnd >= end ? end : headerEnd + newline.length;
  if (start >= end || text.startsWith(newline, start)) return null; // no data, or an empty line (csv-parse skips those)
  let rows = 1;
  for (let at = text.indexOf(newline, start); at >= 0 && at < end; at = text.indexOf(newline, at + newline.length)) {
    if (at + newline.length >= end || text.startsWith(newline, at + newline.length)) return null; // an empty line
    rows++;
  }
  if (rows > maxRows) return null;
  return {
    header: hasHeader ? first : null,
    rows,
    firstLine: hasHeader ? 2 : 1,
    read: (x, f, offsets) => readRows(text, start, end, newline === '\r\n', rows, x, f, offsets),
  };
}

/** 10^0 … 10^22: every one an exact double. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

const COMMA = 44, LF = 10, CR = 13, MINUS = 45, PLUS = 43, POINT = 46, ZERO = 48, NINE = 57, E_LOWER = 101, E_UPPER = 69;

function readRows(text: string, start: number, end: number, crlf: boolean, rows: number, x: Float32Array, f: number, offsets: readonly number[]): boolean {
  const d = offsets.length;
  let p = start;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) {
      // One decimal literal: [+-]? digits [. digits] [e [+-] digits], at least one digit before the exponent.
      const cellStart = p;
      let ch = text.charCodeAt(p);
      const negative = ch === MINUS;
      if (negative || ch === PLUS) ch = text.charCodeAt(++p);
      let mantissa = 0, digits = 0, fraction = 0;
      while (ch >= ZERO && ch <= NINE) {
        mantissa = mantissa * 10 + (ch - ZERO);
        digits++;
        ch = text.charCodeAt(++p);
      }
      if (ch === POINT) {
        ch = text.charCodeAt(++p);
        while (ch >= ZERO && ch <= NINE) {
          mantissa = mantissa * 10 + (ch - ZERO);
          digits++;
          fraction++;
          ch = text.charCodeAt(++p);
        }
      }
      if (digits === 0) return false;
      let exponent = 0, exact = digits <= 15;
      if (ch === E_LOWER || ch === E_UPPER) {
        ch = text.charCodeAt(++p);
        const negativeExponent = ch === MINUS;
        if (negativeExponent || ch === PLUS) ch = text.charCodeAt(++p);
        let exponentDigits = 0;
        while (ch >= ZERO && ch <= NINE) {
          exponent = exponent * 10 + (ch - ZERO);
          exponentDigits++;
          ch = text.charCodeAt(++p);
        }
        if (exponentDigits === 0) return false;
        if (exponentDigits > 4) exact = false;
        if (negativeExponent) exponent = -exponent;
      }
      // The cell must end here: at a comma between cells, at the line's end after the last one.
      if (c < d - 1) {
        if (ch !== COMMA) return false;
      } else if (p !== end && !(crlf ? ch === CR && text.charCodeAt(p + 1) === LF : ch === LF)) {
        return false;
      }
      const power = exponent - fraction;
      let value: number;
      if (exact && power >= -22 && power <= 22) {
        value = power >= 0 ? mantissa * POW10[power]! : mantissa / POW10[-power]!;
        if (negative) value = -value;
      } else {
        value = Number(text.slice(cellStart, p));
      }
      if (!(Math.abs(value) <= FLOAT32_MAX)) return false;
      const offset = offsets[c]!;
      if (offset >= 0) x[r * f + offset] = value;
      p += c < d - 1 ? 1 : crlf ? 2 : 1;
    }
  }
  return true;
}
