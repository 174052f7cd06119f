/**
 * Decimal literals in text cells (CSV prediction bodies, string values in JSON rows): `[+-]digits[.digits][e±digits]`,
 * as {@link DECIMAL} matches them. Nothing else is a number here: not "", "0x1f", "Infinity" or " 1".
 */
/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * The value of a decimal literal, or NaN when `cell` is not one: what `DECIMAL.test(cell) ? Number(cell) : NaN`
 * gives, about 3× faster for the common case. A finite Number(cell) that starts with a digit, sign or point, ends
 * with a digit or point, and has no 0x/0b/0o prefix is a decimal literal (Number accepts no other such text; a
 * differential test holds this over generated cells); anything else is decided by the regular expression.
 */
export function decimalValue(cell: string): number {
  const value = Number(cell);
  const n = cell.length;
  if (n > 0 && value === value && value !== Infinity && value !== -Infinity) {
    const first = cell.charCodeAt(0);
    const last = cell.charCodeAt(n - 1);
    const second = n > 1 ? cell.charCodeAt(1) | 32 : 0;
    const radix = first === 48 && (second === 120 || second === 98 || second === 111); // 0x, 0b, 0o
    if ((isDigit(first) || first === 43 || first === 45 || first === 46) && (isDigit(last) || last === 46) && !radix) return value;
  }
  return DECIMAL.test(cell) ? Number(cell) : NaN;
}
