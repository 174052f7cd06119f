/**
 * The target column on the way in, and the decision at the end: which task, which classes in which order.
 *
 * Why targets are written twice. The class order (sorted, see class-order.ts) and, when `task` is not given, the task
 * itself are only known after the last row, but rows must reach the database long before that. So each row's target is
 * first stored *provisionally* in its chunk as two numbers: the class id in order of first appearance (int32, -1 when
 * classes are not tracked) and the numeric value (float32, NaN for a text label). Once the input has ended, `decide()`
 * fixes the task and the order, and `rewriteTargets` (pg-writes.ts) rewrites each chunk's targets once into the final
 * encoding (class index, or value). That pass reads 8 and writes 4 bytes a row, never touches the features, and holds
 * one chunk at a time. The alternatives cost more: keeping every row's target in memory grows with the rows, and
 * holding the rows back until the classes are known means buffering the upload. Memory here is bounded by the class
 * table (at most `maxClasses` labels), not by the rows.
 *
 * Task inference, when `task` is not given: any non-numeric label → classification; else integer values with at most
 * SMALL_INTEGER_CLASSES distinct values → classification; anything else → regression.
 */
import { apiError } from '../../errors.js';
import { orderClassNames } from '../class-order.js';
import { ColumnStatsAccumulator } from '../stats.js';
import type { ColumnStats, DatasetTask } from '../types.js';
import type { Cell } from '../readers/events.js';
import { numberOf, shown } from './cells.js';
import { atLine, placeFields, type Place } from './place.js';

/** Integer targets with at most this many distinct values are taken for classes when `task` is not given. */
export const SMALL_INTEGER_CLASSES = 32;

export interface TargetDecision {
  task: DatasetTask;
  /** Final class order (classification) or []. */
  classNames: string[];
  classCounts: number[];
  targetStats: ColumnStats | null;
  /** Final targets bytes' typed array for `n` provisional (id, value) pairs. */
  encode(ids: Int32Array, values: Float32Array): Int32Array | Float32Array;
}

export class TargetTracker {
  /** Class ids by numeric value (targets that are numbers) and by text (labels); numbers never collide with labels. */
  private readonly idOfNumber = new Map<number, number>();
  private readonly idOfLabel = new Map<string, number>();
  private readonly labels: string[] = [];
  private readonly counts: number[] = [];
  private sawLabel = false;
  private allIntegers = true;
  /** Inferred task only: more distinct numeric values than classes allowed, so it can only be regression. */
  private overflowed = false;
  private readonly stats = new ColumnStatsAccumulator(1);
  private readonly one = new Float64Array(1);

  constructor(
    private readonly task: DatasetTask | undefined,
    private readonly maxClasses: number,
  ) {}

  /** Records one row's target, writing its provisional id and value at `at`. `place` is read only to report a problem. */
  add(cell: Cell, place: Place, ids: Int32Array, values: Float32Array, at: number): void {
    const n = numberOf(cell);
    let id: number | undefined;
    if (typeof n === 'number') {
      const value = Math.fround(n);
      if (!Number.isFinite(value)) throw targetProblem('out-of-float32-range', cell, place);
      values[at] = value;
      if (!Number.isInteger(n)) this.allIntegers = false;
      if (this.task !== 'classification' && !this.sawLabel) {
        this.one[0] = value;
        this.stats.push(this.one);
      }
      if (this.task === 'regression' || this.overflowed) {
        ids[at] = -1;
        return;
      }
      id = this.idOfNumber.get(n) ?? this.newClass(String(n), place, (newId) => this.idOfNumber.set(n, newId));
    } else if (n.problem === 'missing') {
      throw targetProblem(n.reason, cell, place);
    } else if (cell !== null && typeof cell === 'object') {
      throw targetProblem('not-a-label', cell, place);
    } else {
      if (this.task === 'regression') {
        throw apiError('DATASET_NON_NUMERIC', `Row ${place.row}${atLine(place)}: the regression target "${place.column}" is "${shown(cell)}", not a number`, {
          ...placeFields(place),
          value: shown(cell),
        });
      }
      if (this.overflowed) throw this.tooManyClasses(place);
      this.sawLabel = true;
      values[at] = NaN;
      const label = String(cell);
      id = this.idOfLabel.get(label) ?? this.newClass(label, place, (newId) => this.idOfLabel.set(label, newId));
    }
    if (id < 0) {
      ids[at] = -1;
      return;
    }
    this.counts[id]!++;
    ids[at] = id;
  }

  /** A class id for a label not seen before, or -1 once an inferred numeric target has too many to be classes. */
  private newClass(label: string, place: Place, remember: (id: number) => void): number {
    if (this.labels.length === this.maxClasses) {
      if (this.task === 'classification' || this.sawLabel) throw this.tooManyClasses(place);
      this.overflowed = true;
      return -1;
    }
    const id = this.labels.length;
    this.labels.push(label);
    this.counts.push(0);
    remember(id);
    return id;
  }

  /** Fixes the task and the class order once every row was added. */
  decide(): TargetDecision {
    const task = this.task ?? this.inferredTask();
    if (task === 'regression') {
      return { task, classNames: [], classCounts: [], targetStats: this.stats.result()[0]!, encode: (_ids, values) => values };
    }
    if (this.labels.length < 2) {
      const only = this.labels[0] ?? '';
      const hint = this.sawLabel ? '' : '; for a numeric target, pass task=regression';
      throw apiError('DATASET_SINGLE_CLASS', `Every row has the class "${only}"; classification needs at least two classes${hint}`, { classes: this.labels });
    }
    const classNames = orderClassNames(this.labels);
    const finalIndex = new Map(classNames.map((name, i) => [name, i]));
    const remap = Int32Array.from(this.labels, (label) => finalIndex.get(label)!);
    const firstSeen = new Map(this.labels.map((label, id) => [label, id]));
    const classCounts = classNames.map((name) => this.counts[firstSeen.get(name)!]!);
    return {
      task,
      classNames,
      classCounts,
      targetStats: null,
      encode: (ids) => ids.map((id) => remap[id]!),
    };
  }

  private inferredTask(): DatasetTask {
    if (this.sawLabel) return 'classification';
    return !this.overflowed && this.allIntegers && this.labels.length <= SMALL_INTEGER_CLASSES ? 'classification' : 'regression';
  }

  private tooManyClasses(place: Place) {
    return apiError('DATASET_TOO_MANY_CLASSES', `The target "${place.column}" has more than ${this.maxClasses} classes (row ${place.row}${atLine(place)} adds one more)`, {
      ...placeFields(place),
      limit: this.maxClasses,
    });
  }
}

function targetProblem(reason: string, cell: Cell, place: Place) {
  if (reason === 'not-a-label') {
    return apiError('DATASET_MALFORMED', `Row ${place.row}${atLine(place)}: the target "${place.column}" holds ${shown(cell)}; a target must be a number or a string`, {
      ...placeFields(place),
      value: shown(cell),
    });
  }
  return apiError('DATASET_MISSING_VALUE', `Row ${place.row}${atLine(place)}: the target "${place.column}" is missing or not finite (${reason})`, {
    ...placeFields(place),
    value: shown(cell),
    reason,
  });
}
