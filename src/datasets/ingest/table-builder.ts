/**
 * Validates table events row by row and packs them into chunks (see codec.ts), keeping per-feature statistics and the
 * target table on the way. It holds one chunk of rows at a time: `full` says when to `take()` it.
 *
 * Chunks leave with their features in the final encoding and their targets in the provisional one (targets.ts):
 * R int32 provisional class ids followed by R float32 values.
 *
 * `accept` is the hot loop of a large upload: it allocates nothing per row (values go straight into the chunk's typed
 * arrays; the error `place` object is reused), and the chunk's buffers are reused from chunk to chunk.
 *
 * Text columns and missing values (see ../encoding.ts, ./columns.ts). A column whose first present value is text is
 * categorical; the chunk then holds, in its place, the category's provisional id (order of first appearance) as a
 * float32. A column whose first present value is a number is numeric, and text in it later is DATASET_NON_NUMERIC.
 * With `missing` = mean or median a missing cell is stored as NaN; with drop-row the row is skipped. When any column is
 * categorical or any cell was imputed, the chunks are rewritten at the end (finalize.ts) and the statistics here are
 * recomputed there; otherwise they are final as they are.
 */
import { apiError } from '../../errors.js';
import { rowsPerChunk } from '../codec.js';
import type { Cell, TableEvent } from '../readers/events.js';
import { ColumnStatsAccumulator } from '../stats.js';
import type { ColumnStats, DatasetTask } from '../types.js';
import type { MissingStrategy } from '../encoding.js';
import { featureOf, numberOf, shown, type CellProblem } from './cells.js';
import { ColumnTracker, type ColumnsOutcome } from './columns.js';
import { resolveLayout, type Layout } from './layout.js';
import { atLine, placeFields, type Place } from './place.js';
import { TargetTracker, type TargetDecision } from './targets.js';

export interface IngestLimits {
  /** Most data rows. */
  rows: number;
  /** Most feature columns (the target excluded). */
  features: number;
  /** Most classes. */
  classes: number;
  /** Most stored bytes of all the tenant's datasets with this one (MAX_DATASET_BYTES_PER_TENANT); unchecked when absent. */
  tenantBytes?: number;
}

export interface TableOptions {
  /** Target column: name or 0-based index; default the last column. */
  target?: string;
  /** Default: inferred (targets.ts). */
  task?: DatasetTask;
  /** What a missing feature value does; default 'error'. */
  missing?: MissingStrategy;
}

/** A chunk ready to store. Its bytes are views of the builder's buffers: valid until the next `accept`. */
export interface PendingChunk {
  rowStart: number;
  rowCount: number;
  /** rowCount×F float32 (final encoding). */
  features: Uint8Array;
  /** rowCount int32 ids, then rowCount float32 values (provisional encoding). */
  targets: Uint8Array;
}

export interface FinishedTable {
  layout: Layout;
  rows: number;
  stats: ColumnStats[];
  decision: TargetDecision;
  /** Column kinds, categories, missing cells and dropped rows. */
  columns: ColumnsOutcome;
}

export class TableBuilder {
  private names: string[] | null = null;
  private layout: Layout | null = null;
  /** Rows stored (dropped rows excluded). */
  private rows = 0;
  /** Data rows read (dropped rows included): the `row` of problems and of the row limit. */
  private readRows = 0;
  private columns: ColumnTracker | null = null;
  private chunkStart = 0;
  private chunkRows = 0;
  private capacity = 0;
  /** The chunk being filled; reused for every chunk (see PendingChunk). */
  private features = new Float32Array(0);
  /** capacity int32 ids, then capacity float32 values: one buffer, so a full chunk's targets need no copy either. */
  private targetBytes = new Uint8Array(0);
  private ids = new Int32Array(0);
  private values = new Float32Array(0);
  private stats: ColumnStatsAccumulator | null = null;
  private readonly targets: TargetTracker;
  /** Reused for every row; copied only into a problem. */
  private readonly place: Place = { row: 0, line: null, column: '', columnIndex: 0 };

  constructor(
    private readonly options: TableOptions,
    private readonly limits: IngestLimits,
  ) {
    this.targets = new TargetTracker(options.task, limits.classes);
  }

  /** The column layout, once the header or the first row fixed it. */
  get currentLayout(): Layout | null {
    return this.layout;
  }

  /** A chunk is full and must be taken before the next row. */
  get full(): boolean {
    return this.layout !== null && this.chunkRows === this.capacity;
  }

  accept(event: TableEvent): void {
    if (event.kind === 'columns') {
      this.names = event.names;
      this.layout = resolveLayout(event.names, event.names.length, this.options.target, this.limits.features);
      this.allocate(this.layout);
      return;
    }
    const layout = this.layout ?? this.allocate(resolveLayout(null, event.cells.length, this.options.target, this.limits.features));
    if (this.full) throw new Error('take() the full chunk before adding rows');
    // Rows are 0-based data rows (the header is not a row), as in row previews and predictions; CSV adds `line`.
    const row = this.readRows++;
    const place = this.place;
    place.row = row;
    place.line = event.line;
    if (this.readRows > this.limits.rows) {
      throw apiError('DATASET_TOO_MANY_ROWS', `The upload has more than ${this.limits.rows} rows`, { limit: this.limits.rows, ...placeFields(place) });
    }
    const { cells } = event;
    if (cells.length !== layout.width) {
      throw apiError('DATASET_RAGGED_ROW', `Row ${row}${atLine(place)} has ${cells.length} columns; the ${this.names ? 'header has' : 'first row has'} ${layout.width}`, {
        row,
        ...(event.line === null ? {} : { line: event.line }),
        expected: layout.width,
        actual: cells.length,
      });
    }
    const base = this.chunkRows * (layout.width - 1);
    const columns = this.columns!;
    if (this.options.missing === 'drop-row' && hasMissing(cells, layout.targetIndex)) {
      columns.dropRow();
      return;
    }
    const imputes = this.options.missing === 'mean' || this.options.missing === 'median';
    let f = base;
    for (let c = 0; c < layout.width; c++) {
      if (c === layout.targetIndex) continue;
      const cell = cells[c]!;
      const fi = f - base;
      const value = columns.isCategorical(fi) ? null : featureOf(cell);
      if (typeof value === 'number') {
        columns.sawNumber(fi, value);
        this.features[f++] = value;
        continue;
      }
      if (value !== null && value.problem === 'missing') {
        if (!imputes) throw this.featureProblem(value, cell, c);
        columns.sawMissing(fi);
        this.features[f++] = NaN;
        continue;
      }
      // Text: a category (the column becomes categorical if this is its first present value), or a problem.
      const label = columns.labelOf(cell);
      if (label === null) {
        if (!imputes) throw this.featureProblem(missingReason(cell), cell, c);
        columns.sawMissing(fi);
        this.features[f++] = NaN;
        continue;
      }
      if (label === undefined || !columns.canBeCategorical(fi)) throw this.featureProblem({ problem: 'non-numeric' }, cell, c);
      const id = columns.category(fi, label);
      if (id < 0) {
        throw apiError('DATASET_TOO_MANY_FEATURES', `Row ${row}${atLine(place)}: column "${layout.columnNames[c]}" adds category "${shown(cell)}", and the one-hot encoded features would exceed ${this.limits.features}`, {
          ...placeFields({ ...place, column: layout.columnNames[c]!, columnIndex: c }), limit: this.limits.features,
        });
      }
      this.features[f++] = id;
    }
    this.stats!.push(this.features, base);
    place.column = layout.targetName;
    place.columnIndex = layout.targetIndex;
    this.targets.add(cells[layout.targetIndex]!, place, this.ids, this.values, this.chunkRows);
    this.rows++;
    this.chunkRows++;
  }


  /** The rows gathered since the last take, or null when there are none. */
  take(): PendingChunk | null {
    if (this.chunkRows === 0 || !this.layout) return null;
    const n = this.chunkRows;
    let chunk: PendingChunk;
    if (n === this.capacity) {
      chunk = { rowStart: this.chunkStart, rowCount: n, features: new Uint8Array(this.features.buffer), targets: this.targetBytes };
    } else {
      // A last, partial chunk: ids and values must be contiguous, so copy what was filled.
      const targets = new Uint8Array(n * 8);
      targets.set(this.targetBytes.subarray(0, n * 4), 0);
      targets.set(this.targetBytes.subarray(this.capacity * 4, this.capacity * 4 + n * 4), n * 4);
      chunk = { rowStart: this.chunkStart, rowCount: n, features: new Uint8Array(this.features.buffer, 0, n * (this.layout.width - 1) * 4), targets };
    }
    this.chunkStart += n;
    this.chunkRows = 0;
    return chunk;
  }

  /** Ends the input: refuses an empty table and fixes the task and class order. */
  finish(): FinishedTable {
    if (this.rows === 0 || !this.layout) {
      if (this.readRows > 0 && this.layout) {
        throw apiError('DATASET_EMPTY', `Every one of the ${this.readRows} rows has a missing value and was dropped (missing=drop-row)`, { droppedRows: this.readRows });
      }
      if (this.names) throw apiError('DATASET_HEADER_ONLY', 'The upload names its columns but has no data rows');
      throw apiError('DATASET_EMPTY', 'The upload has no rows');
    }
    return { layout: this.layout, rows: this.rows, stats: this.stats!.result(), decision: this.targets.decide(), columns: this.columns!.outcome() };
  }

  private allocate(layout: Layout): Layout {
    this.layout = layout;
    const features = layout.width - 1;
    this.capacity = rowsPerChunk(features);
    this.allocateChunk(features);
    this.stats = new ColumnStatsAccumulator(features);
    this.columns = new ColumnTracker(features, this.limits.features);
    return layout;
  }

  private allocateChunk(features: number): void {
    this.features = new Float32Array(this.capacity * features);
    this.targetBytes = new Uint8Array(this.capacity * 8);
    this.ids = new Int32Array(this.targetBytes.buffer, 0, this.capacity);
    this.values = new Float32Array(this.targetBytes.buffer, this.capacity * 4, this.capacity);
  }

  private featureProblem(problem: CellProblem, cell: Cell, columnIndex: number) {
    const place = { ...this.place, column: this.layout!.columnNames[columnIndex]!, columnIndex };
    const at = `Row ${place.row}${atLine(place)}, column "${place.column}"`;
    if (problem.problem === 'non-numeric') {
      return apiError('DATASET_NON_NUMERIC', `${at}: "${shown(cell)}" is not a number`, { ...placeFields(place), value: shown(cell) });
    }
    return apiError('DATASET_MISSING_VALUE', `${at}: the value is missing or not finite (${problem.reason})`, {
      ...placeFields(place),
      value: shown(cell),
      reason: problem.reason,
    });
  }
}

/** Whether a row has a missing cell (empty, null, NaN, ±Infinity; a feature beyond float32 too): missing=drop-row drops it. */
function hasMissing(cells: readonly Cell[], targetIndex: number): boolean {
  for (let c = 0; c < cells.length; c++) {
    const value = c === targetIndex ? numberOf(cells[c]!) : featureOf(cells[c]!);
    if (typeof value !== 'number' && value.problem === 'missing') return true;
  }
  return false;
}

/** Why a text cell of a categorical column is missing. */
function missingReason(cell: Cell): CellProblem {
  const n = numberOf(cell);
  return typeof n !== 'number' && n.problem === 'missing' ? n : { problem: 'missing', reason: 'empty' };
}
