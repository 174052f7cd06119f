/**
 * The JSON bodies POST /v1/models/:id/predict accepts (exactly one of these members, or a bare array):
 *   [[5.1, 3.5, 1.4, 0.2], …]                               rows as arrays, in the model's feature order
 *   {"rows": [[…], …]} or {"rows": [{"sepal_length": 5.1, …}, …]}
 *   {"instances": [[…], …] | [{…}, …]}                      MLflow / TF-Serving row format
 *   {"inputs": [[…], …] | [{…}, …] | {"feature": [values], …}}   MLflow tensor input, rows or columns
 *   {"dataframe_split": {"columns": [names], "data": [[…], …]}}  MLflow (pandas split orient; `index` is ignored)
 *   {"dataframe_records": [{…}, …]}                         MLflow (pandas records orient)
 * Values must be JSON numbers.
 */
import { fromArrays, fromColumns, fromObjects, fromTable, inputProblem, type FeatureMatrix, type InputShape } from './feature-matrix.js';

const FORMS = ['rows', 'instances', 'inputs', 'dataframe_split', 'dataframe_records'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rows of arrays or of objects (decided by the first row). */
function fromRowList(rows: readonly unknown[], shape: InputShape): FeatureMatrix {
  return isPlainObject(rows[0]) ? fromObjects(rows, shape) : fromArrays(rows, shape);
}

export function matrixFromJson(body: unknown, shape: InputShape): FeatureMatrix {
  if (Array.isArray(body)) return fromRowList(body, shape);
  if (!isPlainObject(body)) throw inputProblem('shape', `The body must be a JSON object with one of ${FORMS.join(', ')}, or an array of rows`);
  const given = Object.keys(body);
  const forms = given.filter((k) => (FORMS as readonly string[]).includes(k));
  const unknown = given.filter((k) => !(FORMS as readonly string[]).includes(k));
  if (forms.length !== 1 || unknown.length > 0) {
    throw inputProblem('shape', `The body must have exactly one of ${FORMS.join(', ')}; it has ${given.length ? given.join(', ') : 'no member'}`, { members: given });
  }
  const form = forms[0] as (typeof FORMS)[number];
  const value = body[form];
  if (form === 'dataframe_split') {
    if (!isPlainObject(value) || !Array.isArray(value.columns) || !Array.isArray(value.data)) {
      throw inputProblem('shape', 'dataframe_split must be {"columns": [names], "data": [[values], …]}');
    }
    return fromTable(value.columns, value.data, shape);
  }
  if (form === 'inputs' && isPlainObject(value)) return fromColumns(value, shape);
  if (!Array.isArray(value)) throw inputProblem('shape', `${form} must be an array of rows`);
  return form === 'dataframe_records' ? fromObjects(value, shape) : fromRowList(value, shape);
}
