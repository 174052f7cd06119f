/** What every synthetic generator takes and returns. Generators are pure: (params, seed) → set. */
import type { LabelledMatrix } from '../types.js';

export interface SyntheticParams {
  /** Points per class (classification) or points in all (regression). */
  n: number;
  /** Classes (classification); ignored by regression generators. */
  classes: number;
  /** Noise scale; each generator says what it scales. */
  noise: number;
}

/** Class names are '0', '1', … (classification) or [] (regression). */
export type SyntheticSet = LabelledMatrix;

/** numpy's linspace(start, stop, count) (endpoint included; [start] when count is 1). */
export function linspace(start: number, stop: number, count: number, i: number): number {
  return count === 1 ? start : start + ((stop - start) * i) / (count - 1);
}

/** A 2-D classification set being filled point by point, in class order. */
export class PlanarSet {
  private readonly x: Float32Array;
  private readonly y: Int32Array;
  private at = 0;

  constructor(private readonly classes: number, perClass: number) {
    this.x = new Float32Array(classes * perClass * 2);
    this.y = new Int32Array(classes * perClass);
  }

  add(x1: number, x2: number, label: number): void {
    this.x[2 * this.at] = x1;
    this.x[2 * this.at + 1] = x2;
    this.y[this.at++] = label;
  }

  done(): SyntheticSet {
    return {
      task: 'classification',
      x: this.x,
      y: this.y,
      featureNames: ['x1', 'x2'],
      targetName: 'class',
      classNames: Array.from({ length: this.classes }, (_, k) => String(k)),
    };
  }
}
