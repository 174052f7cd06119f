/**
 * What a reader (CSV or JSON) turns an upload into: an optional `columns` event with the column names, then one `row`
 * event per data row, in order, delivered in batches (one await per batch, not per row). Readers check syntax only;
 * the meaning of the cells is checked by ingest/.
 */

/** One parsed cell: CSV cells are strings, JSON cells are any JSON value. */
export type Cell = string | number | boolean | null | object;

export type TableEvent =
  | { kind: 'columns'; names: string[] }
  /** `line`: the 1-based line of the file the row ends on (CSV), null when the format has no lines (JSON). */
  | { kind: 'row'; cells: readonly Cell[]; line: number | null };

/** How long one row (or header) may be before the reader gives up: a guard against a wrong delimiter or a runaway value. */
export const MAX_ROW_BYTES = 1024 * 1024;
