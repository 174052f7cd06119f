/**
 * The stable order of class names, which fixes the class indices stored as targets:
 *   - every name is a number (uploads store numeric labels as the number's canonical text, e.g. "1.0" → "1"):
 *     ascending by value, so labels -1, 2, 10 become indices 0, 1, 2;
 *   - otherwise natural order: runs of digits compare as numbers ("class2" < "class10"), everything else by UTF-16
 *     code unit (so "B" < "a"), and names that tie that way ("a01" vs "a1") by plain code-unit order.
 * It does not depend on the locale or the order rows arrived in.
 */

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function orderClassNames(names: readonly string[]): string[] {
  const sorted = [...names];
  if (sorted.every((n) => NUMBER.test(n))) return sorted.sort((a, b) => Number(a) - Number(b) || codeUnitOrder(a, b));
  return sorted.sort(naturalOrder);
}

export function naturalOrder(a: string, b: string): number {
  const runsA = a.match(/\d+|\D+/g) ?? [];
  const runsB = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(runsA.length, runsB.length); i++) {
    const x = runsA[i]!;
    const y = runsB[i]!;
    const digits = isDigit(x) && isDigit(y);
    const order = digits ? digitRunOrder(x, y) : codeUnitOrder(x, y);
    if (order !== 0) return order;
  }
  return runsA.length - runsB.length || codeUnitOrder(a, b);
}

function isDigit(run: string): boolean {
  const c = run.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Compares two digit runs by value without converting them (they may exceed 2^53). */
function digitRunOrder(x: string, y: string): number {
  const a = x.replace(/^0+(?=\d)/, '');
  const b = y.replace(/^0+(?=\d)/, '');
  return a.length - b.length || codeUnitOrder(a, b);
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
