/** Where a value sits in an upload, for error messages and the problem's fields. */
export interface Place {
  /** 1-based data row (the header is not counted). */
  row: number;
  /** 1-based line of the file (CSV), or null (JSON). */
  line: number | null;
  /** Column name. */
  column: string;
  /** 0-based column position in the upload. */
  columnIndex: number;
}

/** The problem fields of a place: row, line (when known), column, columnIndex. */
export function placeFields(place: Place): Record<string, string | number> {
  const { row, line, column, columnIndex } = place;
  return line === null ? { row, column, columnIndex } : { row, line, column, columnIndex };
}

/** " (line 12)" when the line is known. */
export function atLine(place: Place): string {
  return place.line === null ? '' : ` (line ${place.line})`;
}
