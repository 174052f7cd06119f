/**
 * CSV bytes → table events, streamed through csv-parse (RFC 4180 quoting, UTF-8, an optional BOM, \n or \r\n lines).
 * Fields are trimmed; empty lines, and lines holding only whitespace, are skipped. With `header`, the first record
 * names the columns. Row-width and value checks happen in ingest/, so every message can name the row.
 *
 * Line numbers (where a row starts) are counted here rather than with csv-parse's `info` option: that option copies a
 * dozen-field object per record, which measurably tripled the garbage V8 promotes on a large upload.
 */
import { Readable, pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { ApiError, apiError } from '../../errors.js';
import { readBatches } from './batches.js';
import { MAX_ROW_BYTES, type TableEvent } from './events.js';

export interface CsvReadOptions {
  /** One character. */
  delimiter: string;
  /** The first record holds column names. */
  header: boolean;
}

export async function* readCsv(bytes: AsyncIterable<Uint8Array>, options: CsvReadOptions): AsyncGenerator<TableEvent[]> {
  const parser = parse({
    bom: true,
    delimiter: options.delimiter,
    trim: true,
    skip_empty_lines: false, // empty lines arrive as [''] and are counted, then skipped, below
    relax_column_count: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // pipeline destroys both sides on an error (a parse error, or the byte source failing, e.g. the size limit), and the
  // error surfaces from the iteration below; leaving the loop early destroys the parser and so the source.
  pipeline(Readable.from(slices(bytes), { highWaterMark: 1 }), parser, () => undefined);
  let headerPending = options.header;
  let nextLine = 1;
  try {
    for await (const records of readBatches<string[]>(parser)) {
      const events: TableEvent[] = [];
      for (const record of records) {
        const line = nextLine;
        nextLine += 1 + lineBreaksIn(record);
        if (record.length === 1 && record[0] === '') continue; // an empty line, or one of whitespace
        if (headerPending) {
          headerPending = false;
          events.push({ kind: 'columns', names: record });
        } else {
          events.push({ kind: 'row', cells: record, line });
        }
      }
      if (events.length > 0) yield events;
    }
  } catch (error) {
    throw csvProblem(error, nextLine);
  }
}

/** Line breaks inside quoted fields: the record spans that many more lines. */
function lineBreaksIn(record: string[]): number {
  let breaks = 0;
  for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) breaks++;
  return breaks;
}

/** Input in pieces of at most 8 KiB (views, no copies): csv-parse emits a piece's records at once, so this bounds how
 * many parsed records wait in memory at a time. */
async function* slices(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of bytes) {
    for (let at = 0; at < chunk.byteLength; at += 8192) yield chunk.subarray(at, at + 8192);
  }
}

/** `nextLine`: where the record being parsed starts (csv-parse's own count, when it has one, is preferred). */
function csvProblem(error: unknown, nextLine: number): unknown {
  if (error instanceof ApiError || !(error instanceof CsvError)) return error;
  const line = typeof error.lines === 'number' ? error.lines : nextLine;
  const where = ` (line ${line})`;
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    return apiError('DATASET_MALFORMED', `A row is longer than ${MAX_ROW_BYTES} characters${where}; is the delimiter right?`, { line, limit: MAX_ROW_BYTES });
  }
  return apiError('DATASET_MALFORMED', `The CSV could not be parsed${where}: ${error.message}`, { line, reason: error.code });
}
