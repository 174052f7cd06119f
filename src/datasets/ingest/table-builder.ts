/**
 * Validates table events row by row and packs them into chunks (see codec.ts), keeping per-feature statistics and the
 * target table on the way. It holds one chunk of rows at a time: `full` says when to `take()` it.
 *
 * Chunks leave with their features in the final encoding and their targets in the provisional one (targets.ts):
 * R int32 provisional class ids followed by R float32 values.
 *
 * `accept` is the hot loop of a large upload: it allocates nothing per row (values go straight into the chunk's typed
 * arrays; the error `place` object is reused), and the chunk's buffers are reused from chunk to chunk.
 */
import { apiError } from '../../errors.js';
import { rowsPerChunk } from '../codec.js';
import type { Cell, TableEvent } from '../readers/events.js';
import { ColumnStatsAccumulator } from '../stats.js';
import type { ColumnStats, DatasetTask } from '../types.js';
import { featureOf, shown, type CellProblem } from './cells.js';
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
}

export class TableBuilder {
  private names: string[] | null = null;
  private layout: Layout | null = null;
  private rows = 0;
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
    const row = ++this.rows;
    const place = this.place;
    place.row = row;
    place.line = event.line;
    if (row > this.limits.rows) {
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
    let f = base;
    for (let c = 0; c < layout.width; c++) {
      if (c === layout.targetIndex) continue;
      const value = featureOf(cells[c]!);
      if (typeof value !== 'number') throw this.featureProblem(value, cells[c]!, c);
      this.features[f++] = value;
    }
    this.stats!.push(this.features, base);
    place.column = layout.targetName;
    place.columnIndex = layout.targetIndex;
    this.targets.add(cells[layout.targetIndex]!, place, this.ids, this.values, this.chunkRows);
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
      if (this.names) throw apiError('DATASET_HEADER_ONLY', 'The upload names its columns but has no data rows');
      throw apiError('DATASET_EMPTY', 'The upload has no rows');
    }
    return { layout: this.layout, rows: this.rows, stats: this.stats!.result(), decision: this.targets.decide() };
  }

  private allocate(layout: Layout): Layout {
    this.layout = layout;
    const features = layout.width - 1;
    this.capacity = rowsPerChunk(features);
    this.allocateChunk(features);
    this.stats = new ColumnStatsAccumulator(features);
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
