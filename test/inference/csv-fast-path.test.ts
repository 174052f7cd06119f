/**
 * The fast paths of prediction input reading against the library and the regular expression they stand in for, over
 * generated inputs: csvRecords (a direct split when csv-parse would read plain lines and cells) gives exactly
 * csv-parse's records and line numbers, or its error; decimalValue gives exactly `DECIMAL.test(cell) ? Number(cell) : NaN`;
 * a numeric model's CSV read in one pass (plainNumericCsv: digits × or ÷ 10^k where that is exact, else Number) gives the
 * general reading's matrix or problem, bit for bit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiError } from '../../src/errors.js';
import { matrixFromCsv } from '../../src/inference/input/csv-body.js';
import { plainNumericCsv } from '../../src/inference/input/csv-numeric.js';
import { csvParseRecords, csvRecords } from '../../src/inference/input/csv-records.js';
import { DECIMAL, decimalValue } from '../../src/inference/input/decimal.js';
import { rng } from '../engine/seeded-random.js';

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

/** Cells as users send them, and the odd ones: signs, exponents, radix prefixes, words, whitespace, quotes. */
function cell(next: () => number): string {
  const kind = next();
  if (kind < 0.5) return String(pick(next, [0, 1, -1, 0.5, 255, 1e-7, 3.4e38, 1e39, -2.5e-3]) * (next() < 0.5 ? 1 : next()));
  const alphabet = ['0', '1', '9', '.', '+', '-', 'e', 'E', 'x', 'b', 'o', 'a', ' ', '\t', '\u00a0', '_', 'Infinity', 'NaN', '0x', '٣'];
  let s = '';
  const length = Math.floor(next() * 6);
  for (let i = 0; i < length; i++) s += pick(next, alphabet);
  return s;
}

function body(next: () => number): string {
  const newline = pick(next, ['\n', '\r\n', '\n', '\r']);
  const lines: string[] = [];
  const rows = Math.floor(next() * 12);
  const width = 1 + Math.floor(next() * 5);
  for (let r = 0; r < rows; r++) {
    const w = next() < 0.1 ? Math.floor(next() * 7) : width;
    let line = Array.from({ length: w }, () => (next() < 0.05 ? `"${cell(next)}"` : next() < 0.9 ? String(Math.round(next() * 1e4) / 100) : cell(next))).join(',');
    if (next() < 0.05) line = '';
    if (next() < 0.03) line += pick(next, ['\n', '\r\n', '\r', ' ']); // a stray line ending or space
    lines.push(line);
  }
  return lines.join(newline) + (next() < 0.5 ? newline : '');
}

/** What the prediction code reads of a record: its cells and its line. */
const outcome = (read: () => { record: string[]; info: { lines: number } }[]): unknown => {
  try {
    return { records: read().map(({ record, info }) => ({ record, line: info.lines })) };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('prediction input fast paths', () => {
  it('csvRecords reads 20,000 generated bodies exactly as csv-parse does (records, lines, errors, limits)', () => {
    const next = rng(7);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = body(next);
      const max = next() < 0.2 ? 1 + Math.floor(next() * 5) : 1000;
      assert.deepEqual(outcome(() => csvRecords(text, max)), outcome(() => csvParseRecords(text, max)), JSON.stringify(text));
      if (!/["\t\u00a0 ]|\r(?!\n)/.test(text)) fast++; // plain: the split reads it (unless its line endings are mixed)
    }
    assert.ok(fast > 5000, `only ${fast} bodies took the fast path`);
  });

  it('decimalValue equals the regular expression over 200,000 generated cells', () => {
    const next = rng(8);
    for (let i = 0; i < 200_000; i++) {
      const text = cell(next);
      const expected = DECIMAL.test(text) ? Number(text) : NaN;
      assert.ok(Object.is(decimalValue(text), expected), `${JSON.stringify(text)}: ${decimalValue(text)} vs ${expected}`);
    }
    for (const text of ['', '0x10', '0b1', '0o7', '0X1F', 'Infinity', '-Infinity', '1e400', '-1e400', '.', '+', '1.', '.5', '+.5', '-0', '00012', ' 1', '1 ', '1_0']) {
      const expected = DECIMAL.test(text) ? Number(text) : NaN;
      assert.ok(Object.is(decimalValue(text), expected), `${JSON.stringify(text)}: ${decimalValue(text)} vs ${expected}`);
    }
  });
});

describe('plain numeric CSV read in one pass', () => {
  const columns = (names: string[]) => names.map((name, offset) => ({ name, kind: 'numeric' as const, offset }));
  const shapeOf = (names: string[], maxRows = 50) => ({ columns: columns(names), features: names.length, maxRows, strict: false, unknownCategory: 'zeros' as const });
  const read = (text: string, shape: ReturnType<typeof shapeOf>, header: boolean | undefined, plainNumbers: boolean): unknown => {
    try {
      const m = matrixFromCsv(text, shape, header, { plainNumbers });
      return { x: Array.from(m.x, (v) => (Object.is(v, -0) ? '-0' : v)), rows: m.rows, ignored: m.ignoredColumns };
    } catch (error) {
      const e = error as ApiError;
      return { code: e.code, detail: e.detail, fields: e.fields };
    }
  };
  const number = (next: () => number): string => {
    const k = next();
    if (k < 0.6) return String(Math.round((next() - 0.5) * 1e6) / 1e3);
    if (k < 0.7) return String(next());
    if (k < 0.8) return literal(next);
    return pick(next, ['0', '-0', '1e5', '1E-5', '+1', '1.', '.5', '012', '3.5e38', '-3.5e38', '1e39', '', 'x', 'null', 'true', '[1]', '1e', '-']);
  };
  /** A decimal literal of any shape: sign, up to 20 digits around an optional point, an exponent near 10^±22 or not. */
  const literal = (next: () => number): string => {
    const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(next() * 10))).join('');
    const sign = pick(next, ['', '', '-', '+']);
    const whole = digits(Math.floor(next() * 12));
    const fraction = next() < 0.6 ? `.${digits(Math.floor(next() * 10))}` : '';
    const mantissa = whole + fraction === '' || whole + fraction === '.' ? `${whole}${fraction}1` : whole + fraction;
    const exponent = next() < 0.5 ? '' : `${pick(next, ['e', 'E'])}${pick(next, ['', '+', '-'])}${pick(next, [0, 1, 7, 15, 21, 22, 23, 30, 37, 38, 39, 45, 300, 400])}`;
    return sign + mantissa + exponent;
  };

  it('reads generated decimal literals as Number does, beyond float32 left to the general reading', () => {
    const next = rng(10);
    const shape = shapeOf(['a']);
    let fast = 0;
    for (let i = 0; i < 100_000; i++) {
      const cells = [literal(next), String(next() * 10 ** Math.floor(next() * 50 - 25)), pick(next, ['1e22', '1e23', '1e-22', '1e-23', '9007199254740993', '123456789012345.6', '0.000000000000000001', '-0', '-0e5', '1e00005', '.5e-3', '5.e+3'])];
      for (const c of cells) {
        const x = new Float32Array(1);
        const plain = plainNumericCsv(c, false, 10);
        const expected = Number(c);
        if (plain?.read(x, 1, [0])) {
          fast++;
          assert.ok(Object.is(x[0], Math.fround(expected)), `${c}: ${x[0]} vs ${Math.fround(expected)}`);
        } else {
          assert.ok(!(Math.abs(expected) <= 3.4028234663852886e38) || !DECIMAL.test(c), `${c} was left to the general reading`);
        }
        assert.deepEqual(read(c, shape, false, true), read(c, shape, false, false), c);
      }
    }
    assert.ok(fast > 200_000, `only ${fast} cells were read in one pass`);
  });

  it('gives the same matrix, or the same problem, as the general reading over 5,000 generated bodies', () => {
    const next = rng(9);
    let plain = 0, scanned = 0;
    for (let i = 0; i < 5_000; i++) {
      const width = 1 + Math.floor(next() * 5);
      const names = Array.from({ length: width }, (_, c) => `f${c}`);
      const header = next() < 0.3 ? [...names].sort(() => next() - 0.5).concat(next() < 0.3 ? ['extra'] : []) : null;
      const newline = next() < 0.2 ? '\r\n' : '\n';
      const lines = header ? [header.join(',')] : [];
      const rows = Math.floor(next() * 8);
      for (let r = 0; r < rows; r++) {
        const w = next() < 0.05 ? width + 1 : (header?.length ?? width);
        let line = Array.from({ length: w }, () => (next() < 0.97 ? String(Math.round(next() * 1e4) / 100) : number(next))).join(',');
        if (next() < 0.03) line = line.replace(',', pick(next, [',\n', ',\r', '\n', '\r\n'])); // a stray line ending
        lines.push(line);
        if (next() < 0.02) lines.push('');
      }
      const text = lines.join(newline) + (next() < 0.5 ? newline : '');
      const shape = shapeOf(names, next() < 0.1 ? 3 : 50);
      const given = pick(next, [undefined, undefined, true, false]);
      const general = read(text, shape, given, false);
      assert.deepEqual(read(text, shape, given, true), general, JSON.stringify(text));
      if (!('code' in (general as object))) plain++;
      if (plainNumericCsv(text, given, shape.maxRows)) scanned++;
    }
    assert.ok(plain > 2000, `only ${plain} bodies were read without a problem`);
    assert.ok(scanned > 2000, `only ${scanned} bodies took the one-pass reading`);
  });
});
