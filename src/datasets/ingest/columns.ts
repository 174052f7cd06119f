/**
 * The feature columns' kinds on the way in (see ../encoding.ts): a column is numeric or categorical by its first present
 * value; a categorical column's categories get provisional ids in order of first appearance (the final order is fixed
 * at the end, finalize.ts). Also counts missing cells and keeps each numeric column's sum over its present values (for
 * `missing=mean`). Memory: O(columns + categories), never O(rows); categories are bounded by the feature limit (every
 * category becomes a stored feature).
 */
import type { Cell } from '../readers/events.js';
import { numberOf } from './cells.js';

const UNKNOWN = 0;
const NUMERIC = 1;
const CATEGORICAL = 2;

export type ColumnKind = 'numeric' | 'categorical' | 'unknown';

export interface ColumnsOutcome {
  /** Per upload feature column; 'unknown' when it has no present value. */
  kinds: ColumnKind[];
  /** Per column: categories in order of first appearance (provisional ids), [] for other kinds. */
  categories: string[][];
  /** Per column, per provisional id: rows with that category. */
  categoryCounts: number[][];
  /** Per column: missing cells (stored as NaN). */
  missing: number[];
  /** Per column: present values and their sum (numeric columns). */
  present: number[];
  sums: number[];
  droppedRows: number;
  /** Whether the stored chunks must be rewritten (a categorical column, or a missing cell). */
  needsRewrite: boolean;
}

export class ColumnTracker {
  private readonly kinds: Uint8Array;
  private readonly missing: Float64Array;
  private readonly present: Float64Array;
  private readonly sums: Float64Array;
  private readonly idOf: (Map<string, number> | undefined)[];
  private readonly labels: (string[] | undefined)[];
  private readonly counts: (number[] | undefined)[];
  private droppedRows = 0;
  /** Stored features the columns would expand to: non-categorical columns + every category. */
  private expanded: number;

  constructor(
    readonly columns: number,
    private readonly maxFeatures: number,
  ) {
    this.kinds = new Uint8Array(columns);
    this.missing = new Float64Array(columns);
    this.present = new Float64Array(columns);
    this.sums = new Float64Array(columns);
    this.idOf = new Array<Map<string, number> | undefined>(columns);
    this.labels = new Array<string[] | undefined>(columns);
    this.counts = new Array<number[] | undefined>(columns);
    this.expanded = columns;
  }

  isCategorical(column: number): boolean {
    return this.kinds[column] === CATEGORICAL;
  }

  canBeCategorical(column: number): boolean {
    return this.kinds[column] !== NUMERIC;
  }

  sawNumber(column: number, value: number): void {
    if (this.kinds[column] === UNKNOWN) this.kinds[column] = NUMERIC;
    this.present[column]!++;
    this.sums[column]! += value;
  }

  sawMissing(column: number): void {
    this.missing[column]!++;
  }

  dropRow(): void {
    this.droppedRows++;
  }

  /**
   * A cell as a category label: text trimmed, a number as its canonical text ("1.0" → "1"); null when it is missing
   * (empty, null, NaN, ±Infinity); undefined when it cannot be a label (a JSON boolean, object or array: refused).
   */
  labelOf(cell: Cell): string | null | undefined {
    const n = numberOf(cell);
    if (typeof n === 'number') return String(n);
    if (n.problem === 'missing') return null;
    if (typeof cell === 'string') return cell.trim();
    return undefined; // a JSON boolean, object or array is not a label (send "true" as text for a category)
  }

  /** The provisional id of `label` in `column` (making the column categorical if needed), or -1 past the feature limit. */
  category(column: number, label: string): number {
    let ids = this.idOf[column];
    if (!ids) {
      ids = new Map();
      this.idOf[column] = ids;
      this.labels[column] = [];
      this.counts[column] = [];
      this.kinds[column] = CATEGORICAL;
      this.expanded--;
    }
    let id = ids.get(label);
    if (id === undefined) {
      if (this.expanded + 1 > this.maxFeatures) return -1;
      id = ids.size;
      ids.set(label, id);
      this.labels[column]!.push(label);
      this.counts[column]!.push(0);
      this.expanded++;
    }
    this.counts[column]![id]!++;
    return id;
  }

  outcome(): ColumnsOutcome {
    const kinds = Array.from(this.kinds, (k): ColumnKind => (k === NUMERIC ? 'numeric' : k === CATEGORICAL ? 'categorical' : 'unknown'));
    const missing = Array.from(this.missing);
    return {
      kinds,
      categories: kinds.map((_, c) => [...(this.labels[c] ?? [])]),
      categoryCounts: kinds.map((_, c) => [...(this.counts[c] ?? [])]),
      missing,
      present: Array.from(this.present),
      sums: Array.from(this.sums),
      droppedRows: this.droppedRows,
      needsRewrite: kinds.includes('categorical') || missing.some((m) => m > 0),
    };
  }
}
