/**
 * The common large CSV prediction body, read at JSON speed: plain numbers (nothing csv-parse would treat specially,
 * see plainLineEnding in ./csv-records.ts), one record per line, no empty line. Its data lines joined as `[[…],[…]]` are a JSON document
 * exactly when every cell is a JSON number, and JSON.parse then gives each cell the value Number(cell) gives (both
 * round the decimal to the nearest double). Anything else is left to the general reading (null).
 *
 * Why: 2,000 MNIST rows (8 MB) took 290–490 ms to split and convert cell by cell, most of it in allocating and
 * collecting 1.5 million cell strings; one JSON.parse of the same numbers takes 45–70 ms.
 */
import { plainLineEnding } from './csv-records.js';
import { DECIMAL } from './decimal.js';

export interface PlainNumericCsv {
  /** The header's cells, when the first line is one. */
  header: string[] | null;
  /** The data rows, as JSON.parse read them (the caller checks that they are arrays of numbers). */
  rows: unknown[];
  /** The 1-based line of the first data row. */
  firstLine: number;
}

/** `text` read as plain numeric CSV (header: as for the general reading), or null when it is not one. */
export function plainNumericCsv(text: string, header: boolean | undefined, maxRows: number): PlainNumericCsv | null {
  const newline = plainLineEnding(text);
  if (newline === null) return null;
  let body = text.endsWith(newline) ? text.slice(0, -newline.length) : text;
  const headerEnd = body.indexOf(newline);
  const first = (headerEnd < 0 ? body : body.slice(0, headerEnd)).split(',');
  const hasHeader = header ?? first.some((cell) => !DECIMAL.test(cell));
  if (hasHeader) body = headerEnd < 0 ? '' : body.slice(headerEnd + newline.length);
  if (body === '' || body.startsWith(newline) || body.includes(newline + newline)) return null; // empty lines: csv-parse skips them
  const joined = body.replaceAll(newline, '],[');
  if (joined.includes('\n') || joined.includes('\r')) return null; // mixed line endings
  let rows: unknown;
  try {
    rows = JSON.parse(`[[${joined}]]`);
  } catch {
    return null;
  }
  if (!Array.isArray(rows) || rows.length > maxRows) return null;
  return { header: hasHeader ? first : null, rows, firstLine: hasHeader ? 2 : 1 };
}
