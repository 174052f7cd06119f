/**
 * Per-column mean, standard deviation, min and max in one pass (Welford's algorithm, in float64), so statistics are
 * computed on the way in without keeping the rows. Values are pushed as stored (already rounded to float32).
 */
import type { ColumnStats } from './types.js';

export class ColumnStatsAccumulator {
  private count = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;

  constructor(readonly columns: number) {
    this.mean = new Float64Array(columns);
    this.m2 = new Float64Array(columns);
    this.min = new Float64Array(columns).fill(Infinity);
    this.max = new Float64Array(columns).fill(-Infinity);
  }

  /** Adds one row: `values[offset + c]` for c in [0, columns). */
  push(values: ArrayLike<number>, offset = 0): void {
    const n = ++this.count;
    const { mean, m2, min, max } = this;
    for (let c = 0; c < this.columns; c++) {
      const v = values[offset + c]!;
      const delta = v - mean[c]!;
      const m = mean[c]! + delta / n;
      mean[c] = m;
      m2[c] = m2[c]! + delta * (v - m);
      if (v < min[c]!) min[c] = v;
      if (v > max[c]!) max[c] = v;
    }
  }

  /** Adds every row of a row-major matrix. */
  pushRows(matrix: Float32Array, rows: number): void {
    for (let r = 0; r < rows; r++) this.push(matrix, r * this.columns);
  }

  /** One entry per column; all zeros for a column that saw no rows. */
  result(): ColumnStats[] {
    const out: ColumnStats[] = [];
    for (let c = 0; c < this.columns; c++) {
      if (this.count === 0) {
        out.push({ mean: 0, std: 0, min: 0, max: 0 });
        continue;
      }
      out.push({ mean: this.mean[c]!, std: Math.sqrt(this.m2[c]! / this.count), min: this.min[c]!, max: this.max[c]! });
    }
    return out;
  }
}
