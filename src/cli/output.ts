/** How the CLI prints: JSON documents for scripts (`--json`), aligned tables and one-line problems for people. */
import { TrainyardError } from '../client/index.js';
import { EXIT, UsageError } from './exit-codes.js';

export interface OutputOptions {
  json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints `value` as JSON with --json, else runs `human`. */
export function print(options: OutputOptions, value: unknown, human: () => void): void {
  if (options.json) printJson(value);
  else human();
}

/** Left-aligned columns; numbers right-aligned. */
export function table(rows: readonly (readonly unknown[])[], header?: readonly string[]): string {
  const all = (header ? [header, ...rows] : rows).map((r) => r.map(cell));
  if (all.length === 0) return '';
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = widths.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  return all
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return value.toFixed(4).replace(/\.?0+$/, '') || '0';
}

/** Key: value lines. */
export function fields(entries: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n');
}

/** Problem members worth a place on the one line (where the problem is). */
const WHERE = ['path', 'row', 'line', 'column', 'feature', 'value', 'problem', 'expected', 'actual', 'limit'] as const;

/** One readable line for an error, and the exit code it means. Never a stack. */
export function describeError(error: unknown): { line: string; code: number; json: unknown } {
  if (error instanceof TrainyardError) {
    const where = WHERE.filter((k) => error.details[k] !== undefined).map((k) => `${k} ${cell(error.details[k])}`);
    const listed = Array.isArray(error.details.errors)
      ? (error.details.errors as { path?: unknown; message?: unknown }[]).slice(0, 3).map((e) => [e.path, e.message].filter((p) => p !== undefined).join(' '))
      : [];
    const extra = [...where, ...listed].join('; ');
    const hint = error.code === 'UNAUTHENTICATED' ? ' (run trainyard login, or set TRAINYARD_KEY)' : '';
    const line = `${error.code}: ${error.message}${extra && !error.message.includes(extra) ? ` (${extra})` : ''}${hint}`;
    const code = error.code === 'CONNECTION_FAILED' ? EXIT.CONNECTION : EXIT.API_ERROR;
    return { line, code, json: { error: { status: error.status, code: error.code, message: error.message, details: error.details, requestId: error.requestId } } };
  }
  if (error instanceof UsageError) return { line: error.message, code: EXIT.USAGE, json: { error: { code: 'USAGE', message: error.message } } };
  const message = error instanceof Error ? error.message : String(error);
  return { line: message, code: EXIT.API_ERROR, json: { error: { code: 'ERROR', message } } };
}
