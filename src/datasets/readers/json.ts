/**
 * JSON bytes → table events, streamed with @streamparser/json (a rows array is never held whole). Accepted shapes:
 *   [[1, 2, "a"], …]                          rows as arrays, no names (columns are named c0, c1, …)
 *   [{"x": 1, "y": 2, "label": "a"}, …]       rows as objects; the first object's keys name the columns, in its key
 *                                             order; every later object must have the same keys (any order)
 *   {"columns": ["x", "y", "label"], "data": [[1, 2, "a"], …]}
 *                                             names, then rows as arrays; "columns" must come before "data"
 * Other members of the top-level object are ignored. UTF-8, with or without a byte order mark.
 */
import { TokenParser, TokenType, Tokenizer, type ParsedElementInfo, type ParsedTokenInfo } from '@streamparser/json';
import { ApiError, apiError } from '../../errors.js';
import { MAX_ROW_BYTES, type Cell, type TableEvent } from './events.js';

type Shape = 'rows' | 'columns-data';

export async function* readJson(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<TableEvent[]> {
  const table = new JsonTable();
  const tokenizer = new Tokenizer();
  let parser: TokenParser | null = null;
  let depth = 0;
  let complete = false;
  let rowStart = 0;
  tokenizer.onToken = (token: ParsedTokenInfo) => {
    if (!parser) parser = table.parserFor(token);
    if (token.token === TokenType.LEFT_BRACKET || token.token === TokenType.LEFT_BRACE) {
      if (depth++ === table.rowDepth) rowStart = token.offset;
    } else if (token.token === TokenType.RIGHT_BRACKET || token.token === TokenType.RIGHT_BRACE) {
      complete = --depth === 0;
      if (depth === table.rowDepth && token.offset + 1 - rowStart > MAX_ROW_BYTES) throw rowTooLong(table.rowsEmitted);
    }
    parser.write(token);
  };
  let sawBytes = false;
  let bytesSinceRow = 0;
  try {
    for await (const piece of bytes) {
      const chunk: Uint8Array = sawBytes ? piece : withoutBom(piece);
      sawBytes ||= chunk.byteLength > 0;
      const before = table.rowsEmitted;
      tokenizer.write(chunk);
      // Exact row lengths are checked as rows close (above); this bounds what a row still open may hold meanwhile.
      bytesSinceRow = table.rowsEmitted > before ? 0 : bytesSinceRow + chunk.byteLength;
      if (bytesSinceRow > MAX_ROW_BYTES) throw rowTooLong(table.rowsEmitted);
      const events = table.drain();
      if (events.length > 0) yield events;
    }
    if (!sawBytes || !parser) return; // an empty body: no events, which ingest reports as DATASET_EMPTY
    if (!complete) throw apiError('DATASET_MALFORMED', 'The JSON ends before the document is complete');
    tokenizer.end();
    const events = table.drain();
    if (events.length > 0) yield events;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw apiError('DATASET_MALFORMED', `The JSON could not be parsed: ${(error as Error).message}`);
  }
}

function rowTooLong(row: number) {
  return apiError('DATASET_MALFORMED', `Row ${row} is longer than ${MAX_ROW_BYTES} bytes`, { row, limit: MAX_ROW_BYTES });
}

/** The input without a leading UTF-8 byte order mark (some Windows tools write one). */
function withoutBom(chunk: Uint8Array): Uint8Array {
  return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk;
}

/** Turns parsed values into events; keeps only the events of the current input chunk. */
class JsonTable {
  rowsEmitted = 0;
  /** Nesting depth at which rows open: 1 in [rows…], 2 in {"data": [rows…]}; -1 before the first token. */
  rowDepth = -1;
  private pending: TableEvent[] = [];
  private shape: Shape | null = null;
  private names: string[] | null = null;
  private keyIndex: Map<string, number> | null = null;

  parserFor(first: ParsedTokenInfo): TokenParser {
    if (first.token === TokenType.LEFT_BRACKET) this.shape = 'rows';
    else if (first.token === TokenType.LEFT_BRACE) this.shape = 'columns-data';
    else throw apiError('DATASET_MALFORMED', 'The JSON must be an array of rows or an object {"columns": [...], "data": [...]}');
    this.rowDepth = this.shape === 'rows' ? 1 : 2;
    const parser = new TokenParser({ paths: this.shape === 'rows' ? ['$.*'] : ['$.columns', '$.data.*'], keepStack: false });
    parser.onValue = (info) => this.onValue(info);
    return parser;
  }

  /** The events since the last drain. */
  drain(): TableEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  private onValue({ value, key, stack }: ParsedElementInfo): void {
    if (this.shape === 'columns-data' && stack.length === 1 && key === 'columns') return this.onColumns(value);
    const row = this.rowsEmitted; // 0-based, like every row number
    if (this.shape === 'columns-data' && !this.names) {
      throw apiError('DATASET_MALFORMED', '"columns" must come before "data" in the JSON object', { row });
    }
    if (Array.isArray(value)) return this.emitRow(value as Cell[]);
    if (this.shape === 'rows' && value !== null && typeof value === 'object') return this.emitRow(this.objectRow(value as Record<string, Cell>, row));
    throw apiError('DATASET_MALFORMED', `Row ${row} is ${describe(value)}, not ${this.shape === 'rows' ? 'an array or an object' : 'an array'}`, { row });
  }

  private onColumns(value: unknown): void {
    if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' || typeof n === 'number')) {
      throw apiError('DATASET_MALFORMED', '"columns" must be an array of strings');
    }
    this.names = value.map(String);
    this.pending.push({ kind: 'columns', names: this.names });
  }

  /** Object rows: the first fixes the column names and order; later ones are mapped onto it. */
  private objectRow(object: Record<string, Cell>, row: number): Cell[] {
    if (!this.keyIndex) {
      this.names = Object.keys(object);
      this.keyIndex = new Map(this.names.map((n, i) => [n, i]));
      this.pending.push({ kind: 'columns', names: this.names });
      return this.names.map((n) => object[n]!);
    }
    const cells = new Array<Cell>(this.keyIndex.size);
    let found = 0;
    for (const [k, v] of Object.entries(object)) {
      const i = this.keyIndex.get(k);
      if (i === undefined) throw apiError('DATASET_RAGGED_ROW', `Row ${row} has a key "${k}" that the first row does not have`, { row, column: k });
      cells[i] = v;
      found++;
    }
    if (found < cells.length) {
      const column = this.names!.find((n) => !(n in object))!;
      throw apiError('DATASET_MISSING_VALUE', `Row ${row} has no value for column "${column}"`, { row, column, reason: 'absent' });
    }
    return cells;
  }

  private emitRow(cells: Cell[]): void {
    this.rowsEmitted++;
    this.pending.push({ kind: 'row', cells, line: null });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : typeof value === 'boolean' ? 'a boolean' : 'an object';
}
