/**
 * The fuzzer's comparators: bit-identity (fast runs against each other, a network against its own earlier state, a
 * restored network against the one it was saved from) and agreement within the tolerance model of ./shadow.ts (fast
 * against the float64 reference). A failed check throws a Finding; agreement statistics (the worst ratio of an error to
 * its allowance, per check) are kept for the report, so a run also shows how much headroom the tolerances have.
 */
import { ABS_SLACK, MULT, REL_SLACK } from './tolerance.js';

export class Finding extends Error {
  constructor(readonly check: string, message: string) {
    super(`${check}: ${message}`);
    this.name = 'Finding';
  }
}

type Floats = Float32Array | Float64Array;

function bitsOf(a: Floats): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Throws unless a and b hold the same bits. */
export function sameBits(check: string, a: Floats, b: Floats): void {
  if (a.constructor !== b.constructor || a.length !== b.length) throw new Finding(check, `different arrays: ${a.constructor.name}(${a.length}) vs ${b.constructor.name}(${b.length})`);
  const x = bitsOf(a), y = bitsOf(b);
  const width = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      const at = Math.floor(i / width);
      let count = 0;
      for (let j = 0; j < a.length; j++) if (!Object.is(a[j], b[j])) count++;
      throw new Finding(check, `${count} of ${a.length} values differ, first [${at}]: ${a[at]} vs ${b[at]}`);
    }
  }
}

export function sameBytes(check: string, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length) throw new Finding(check, `${a.length} bytes vs ${b.length}`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Finding(check, `bytes differ from offset ${i} (of ${a.length})`);
}

/** Deep equality of JSON-like values with numbers compared by Object.is (bit-identical doubles, NaN = NaN). */
export function sameValue(check: string, a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Object.is(a, b)) throw new Finding(check, `${path || 'value'}: ${a} vs ${b}`);
    return;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (a !== b) throw new Finding(check, `${path || 'value'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    return;
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    sameBits(`${check} ${path}`, a as Floats, b as Floats);
    return;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.join() !== kb.join()) throw new Finding(check, `${path || 'value'}: keys ${ka.join()} vs ${kb.join()}`);
  for (const k of ka) sameValue(check, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
}

/** Worst |error| / allowance seen per check, and comparisons skipped because the reference was not finite. */
export class ToleranceStats {
  readonly worst = new Map<string, { ratio: number; where: string }>();
  compared = 0;
  skipped = 0;
  /** Names the case being run, for the worst-ratio report. */
  context = '';

  note(check: string, ratio: number, where: string): void {
    const w = this.worst.get(check);
    if (!w || ratio > w.ratio) this.worst.set(check, { ratio, where: `${this.context}: ${where}` });
  }

  report(): string[] {
    return [...this.worst.entries()].sort((a, b) => b[1].ratio - a[1].ratio).map(([k, w]) => `${k}: ${w.ratio.toExponential(2)} (${w.where})`);
  }
}

/** The allowance of |fast − ref| for a reference value with error scale s. */
export const allowance = (ref: number, s: number): number => MULT * s + ABS_SLACK + REL_SLACK * Math.abs(ref);

/**
 * Throws unless |a[i] − ref[i]| ≤ allowance(ref[i], s[i]) for every i (elements where the reference or its scale is
 * not finite, or beyond float32's range, are skipped: the run diverged there and float32 need not follow).
 */
export function within(check: string, a: ArrayLike<number>, ref: ArrayLike<number>, s: ArrayLike<number>, stats: ToleranceStats, where = ''): void {
  if (a.length !== ref.length) throw new Finding(check, `lengths ${a.length} vs ${ref.length}`);
  let worst = 0, worstAt = -1;
  for (let i = 0; i < a.length; i++) {
    const r = ref[i], e = s[i];
    if (!Number.isFinite(r) || !Number.isFinite(e) || Math.abs(r) > 1e37) {
      stats.skipped++;
      continue;
    }
    const err = Math.abs(a[i] - r), allow = allowance(r, e);
    if (!(err <= allow)) {
      throw new Finding(check, `[${i}] ${a[i]} vs reference ${r}: error ${err.toExponential(3)} > allowance ${allow.toExponential(3)} ` +
        `(${MULT}·scale ${e.toExponential(3)}) — ${(err / allow).toFixed(1)}× over${where ? `; ${where}` : ''}`);
    }
    const ratio = err / allow;
    if (ratio > worst) {
      worst = ratio;
      worstAt = i;
    }
  }
  stats.compared += a.length;
  if (worstAt >= 0) stats.note(check, worst, `${where}[${worstAt}]`);
}

/** within() for one scalar. */
export function scalarWithin(check: string, a: number, ref: number, s: number, stats: ToleranceStats, where = ''): void {
  within(check, [a], [ref], [s], stats, where);
}
