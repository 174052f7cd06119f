/**
 * Upload options, given as query parameters (raw bodies) or as multipart fields before the file (both may be used; a
 * key given twice with different values is refused). Every option, with its default:
 *   name       dataset name, 1–200 characters. Default: the file name without extension, else "upload <ISO time>"
 *   format     csv | json. Default: from the Content-Type (text/csv, application/json), else the file name's extension
 *   header     CSV only: true | false, whether the first line names the columns. Default true
 *   delimiter  CSV only: one character, or "tab". Default ","
 *   target     the target column: a column name, or a 0-based index. Default: the last column
 *   task       classification | regression. Default: inferred (text or at most 32 distinct integers → classification)
 *   missing    error | mean | median | drop-row: what a missing feature value (empty, null, NaN, ±Infinity) does. error
 *              (default) refuses the upload; mean / median impute a numeric column's mean / median over its present
 *              values and a text column's most frequent category; drop-row drops the row (a missing target too).
 * Unknown keys and bad values are VALIDATION_FAILED, never ignored.
 */
import { apiError } from '../../errors.js';
import { MISSING_STRATEGIES, type MissingStrategy } from '../../datasets/encoding.js';
import type { DatasetTask } from '../../datasets/types.js';
import { nearest } from '../../http/validation-messages.js';

export type UploadFormat = 'csv' | 'json';

export interface UploadOptions {
  name?: string;
  format?: UploadFormat;
  header?: boolean;
  delimiter?: string;
  target?: string;
  task?: DatasetTask;
  missing?: MissingStrategy;
}

type Problem = { path: string; message: string };

const KEYS = ['name', 'format', 'header', 'delimiter', 'target', 'task', 'missing'] as const;

export function parseUploadOptions(raw: Readonly<Record<string, string | undefined>>, where: 'querystring' | 'form'): UploadOptions {
  const problems: Problem[] = [];
  const options: UploadOptions = {};
  const bad = (key: string, message: string) => problems.push({ path: `${where}.${key}`, message });
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!(KEYS as readonly string[]).includes(key)) {
      const near = nearest(key, KEYS);
      bad(key, `is not an upload option${near ? `; did you mean \`${near}\`?` : ''} (${KEYS.join(', ')})`);
      continue;
    }
    switch (key as (typeof KEYS)[number]) {
      case 'name':
        if (value.trim().length < 1 || value.length > 200) bad(key, 'must be 1 to 200 characters');
        else options.name = value.trim();
        break;
      case 'format':
        if (value === 'csv' || value === 'json') options.format = value;
        else bad(key, 'must be csv or json');
        break;
      case 'header':
        if (value === 'true' || value === 'false') options.header = value === 'true';
        else bad(key, 'must be true or false');
        break;
      case 'delimiter': {
        const delimiter = value === 'tab' || value === '\\t' ? '\t' : value;
        if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) bad(key, 'must be one character (not a quote or a line break), or "tab"');
        else options.delimiter = delimiter;
        break;
      }
      case 'target':
        if (value.length < 1 || value.length > 200) bad(key, 'must be a column name or a 0-based column index');
        else options.target = value;
        break;
      case 'task':
        if (value === 'classification' || value === 'regression') options.task = value;
        else bad(key, 'must be classification or regression');
        break;
      case 'missing':
        if ((MISSING_STRATEGIES as readonly string[]).includes(value)) options.missing = value as MissingStrategy;
        else bad(key, `must be one of ${MISSING_STRATEGIES.join(', ')}`);
        break;
    }
  }
  if (problems.length > 0) throw invalid(problems);
  return options;
}

/** Query options and form options together; the same key with two different values is refused. */
export function mergeUploadOptions(query: UploadOptions, form: UploadOptions): UploadOptions {
  const problems: Problem[] = [];
  for (const key of KEYS) {
    if (query[key] !== undefined && form[key] !== undefined && query[key] !== form[key]) {
      problems.push({ path: `form.${key}`, message: 'differs from the same query parameter' });
    }
  }
  if (problems.length > 0) throw invalid(problems);
  return { ...query, ...form };
}

/** Refuses CSV-only options on a JSON upload. */
export function checkOptionsFit(format: UploadFormat, options: UploadOptions): void {
  if (format !== 'json') return;
  const problems = (['header', 'delimiter'] as const)
    .filter((key) => options[key] !== undefined)
    .map((key) => ({ path: key, message: 'applies to CSV uploads only' }));
  if (problems.length > 0) throw invalid(problems);
}

function invalid(problems: Problem[]) {
  const first = problems[0]!;
  return apiError('VALIDATION_FAILED', `${first.path} ${first.message}`, { errors: problems });
}
