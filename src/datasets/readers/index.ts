/** The reader for a format. */
import { readCsv, type CsvReadOptions } from './csv.js';
import type { TableEvent } from './events.js';
import { readJson } from './json.js';

export type { Cell, TableEvent } from './events.js';
export type { CsvReadOptions } from './csv.js';

/** Table events in batches (one per piece of input), in order. */
export function readTable(format: 'csv' | 'json', bytes: AsyncIterable<Uint8Array>, csv: CsvReadOptions): AsyncIterable<TableEvent[]> {
  return format === 'csv' ? readCsv(bytes, csv) : readJson(bytes);
}
