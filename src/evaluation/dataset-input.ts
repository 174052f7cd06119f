/**
 * A stored dataset as a model's labelled input: its feature matrix in the model's feature order and its targets as the
 * model's class indices (or values). Features are matched by name, so a dataset with the same columns in another
 * order fits. A one-hot feature `column=category` of the model that the dataset lacks, while the dataset has `column`
 * as a text column too, is all zeros (the category does not occur in it); a category only the dataset has is dropped
 * (as predict's default `unknownCategory=zeros` does). Anything else that does not fit is EVALUATION_DATA_MISMATCH.
 */
import type { DatasetEncoding } from '../datasets/encoding.js';
import type { LoadedDataset } from '../datasets/types.js';
import { apiError } from '../errors.js';

export interface EvaluationTargetModel {
  task: 'classification' | 'regression';
  featureNames: readonly string[];
  classNames: readonly string[];
  encoding: DatasetEncoding | null;
}

export interface LabelledMatrix {
  x: Float32Array;
  y: Float64Array;
  rows: number;
}

function categoricalNames(encoding: DatasetEncoding | null): Set<string> {
  return new Set(encoding?.columns.filter((c) => c.kind === 'categorical').map((c) => c.name) ?? []);
}

export function datasetAsModelInput(model: EvaluationTargetModel, data: LoadedDataset): LabelledMatrix {
  const { meta } = data;
  if (meta.task !== model.task) {
    throw apiError('EVALUATION_DATA_MISMATCH', `Dataset ${meta.id} is a ${meta.task} dataset; the model does ${model.task}`, { problem: 'task', datasetTask: meta.task, modelTask: model.task });
  }
  const source = new Map(meta.featureNames.map((name, i) => [name, i]));
  const modelText = categoricalNames(model.encoding), dataText = categoricalNames(meta.encoding);
  const modelColumnOf = new Map<string, string>();
  for (const c of model.encoding?.columns ?? []) if (c.kind === 'categorical') for (const k of c.categories) modelColumnOf.set(`${c.name}=${k}`, c.name);
  const missing: string[] = [];
  const from = model.featureNames.map((name) => {
    const at = source.get(name);
    if (at !== undefined) return at;
    const column = modelColumnOf.get(name);
    if (column !== undefined && modelText.has(column) && dataText.has(column)) return -1;
    missing.push(name);
    return -1;
  });
  if (missing.length > 0) {
    throw apiError('EVALUATION_DATA_MISMATCH', `Dataset ${meta.id} lacks the model's feature${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}`, {
      problem: 'missing-feature', missing: missing.slice(0, 100),
    });
  }
  const n = meta.rows, F = meta.features, d = model.featureNames.length;
  const identity = d === F && from.every((at, j) => at === j);
  let x = data.x;
  if (!identity) {
    x = new Float32Array(n * d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) if (from[j]! >= 0) x[r * d + j] = data.x[r * F + from[j]!]!;
  }
  const y = new Float64Array(n);
  if (model.task === 'regression') {
    y.set(data.y);
    return { x, y, rows: n };
  }
  const classIndex = new Map(model.classNames.map((name, i) => [name, i]));
  const remap = meta.classNames.map((name, i) => {
    const at = classIndex.get(name);
    if (at === undefined && meta.classCounts[i]! > 0) {
      throw apiError('EVALUATION_DATA_MISMATCH', `Dataset ${meta.id} has class "${name}", which the model does not know (${model.classNames.join(', ')})`, { problem: 'unknown-class', class: name });
    }
    return at ?? -1;
  });
  for (let r = 0; r < n; r++) y[r] = remap[data.y[r]!]!;
  return { x, y, rows: n };
}
