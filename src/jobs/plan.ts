/**
 * From a REST job spec and the dataset it names to a complete plan: the spec with every default filled in (what the Job
 * row stores), the engine NetworkSpec it maps to, the layer table and parameter count, and the split and step counts.
 * Used by the API (validation, dry run) and by the worker (which re-plans from the stored spec), so both agree.
 *
 * Problems are reported all at once as JOB_SPEC_INVALID (400, `errors: [{path, message}]`; a warm-start model whose
 * feature or class names differ from the dataset's also gets `mismatch: {what, index, model, dataset}`) or
 * JOB_TOO_LARGE (400, `limit`, `value`) — never silently adjusted.
 */
import { Value } from 'typebox/value';
import type { Config } from '../config.js';
import { layoutParams, sameLayout } from '../engine/params.js';
import { validatePreprocessing, type PreprocessingSpec } from '../engine/preprocessing.js';
import type { OptimizerConfig } from '../engine/optimizers.js';
import {
  describeNetwork, planLayers, resolveSpec, validateSpec, type HiddenLayerSpec, type InitScheme, type LossKind,
  type NetworkDescription, type NetworkSpec, type ResolvedSpec, type SpecIssue,
} from '../engine/spec.js';
import { apiError } from '../errors.js';
import { MAX_EPOCHS, splitSizes } from '../training/split.js';
import { resolveOptimizer, resolvePreprocessing } from './resolve-options.js';
import { JobSpecBodySchema, type JobSpecBody, type MonitorMetric } from './spec-schema.js';

export type DatasetTask = 'classification' | 'regression';

/** The stored, fully defaulted job spec. */
export interface JobSpec {
  datasetId: string;
  name: string;
  warmStartModelId: string | null;
  network: { layers: HiddenLayerSpec[]; loss: LossKind; init: InitScheme | null; inputNoise: number };
  regularization: { l2: number; l1: number };
  preprocessing: PreprocessingSpec;
  optimizer: OptimizerConfig;
  training: {
    epochs: number;
    batchSize: number;
    validationFraction: number;
    seed: number;
    monitor: MonitorMetric;
    earlyStopping: { patience: number; minDelta: number } | null;
    keep: 'best' | 'final';
    maxGradNormRatio: number;
  };
  checkpoints: { everySteps: number; everySeconds: number; keep: number };
  metrics: { everySteps: number };
}

/** What planning needs to know about the dataset. */
export interface DatasetFacts {
  id: string;
  name: string;
  task: DatasetTask;
  rows: number;
  features: number;
  /** Classes (classification), 0 for regression. */
  classes: number;
  /**
   * The F feature names in column order, and the class names in index order ([] for regression): a warm-start model
   * must have the same. Needed only when planning with a warm start.
   */
  featureNames?: readonly string[];
  classNames?: readonly string[];
}

/** What planning needs to know about a warm-start model. */
export interface WarmStartFacts {
  id: string;
  task: DatasetTask;
  /** The raw input features the model takes, in order. */
  featureNames: readonly string[];
  /** Class index → name (classification); [] for regression. */
  classNames: readonly string[];
  /** The engine's resolved spec of the model's network. */
  network: ResolvedSpec;
}

/** A problem of the spec: where (`path`), what, and for a warm-start mismatch which name differs. */
export interface PlanIssue extends SpecIssue {
  mismatch?: NameMismatch;
}

/**
 * The first place where a warm-start model's names and the dataset's differ: `what` (featureNames or classNames),
 * the 0-based `index`, and the name each has there (null past the end of its list).
 */
export interface NameMismatch {
  what: 'featureNames' | 'classNames';
  index: number;
  model: string | null;
  dataset: string | null;
}

export interface JobPlan {
  spec: JobSpec;
  network: NetworkSpec;
  description: NetworkDescription;
  trainRows: number;
  validationRows: number;
  stepsPerEpoch: number;
  /** epochs · stepsPerEpoch (early stopping may end sooner). */
  totalSteps: number;
}

export type PlanLimits = Pick<Config['limits'], 'parameters' | 'epochRows'>;

/** Fills the schema's static defaults into a validated body (a copy). */
export function withDefaults(body: JobSpecBody): JobSpecBody {
  return Value.Default(JobSpecBodySchema, structuredClone(body)) as JobSpecBody;
}

/**
 * The job spec's `network` for a model's resolved network: the same layers (units, activation, dropout, init, and
 * alpha / pieces where they apply), loss and input noise. Used when a warm start omits `network`.
 */
export function networkBodyOf(network: ResolvedSpec): NonNullable<JobSpecBody['network']> {
  return {
    layers: network.layers.map((l) => ({
      units: l.units,
      activation: l.activation,
      dropout: l.dropout,
      init: l.init,
      ...(l.activation === 'leaky-relu' || l.activation === 'prelu' ? { alpha: l.alpha } : {}),
      ...(l.activation === 'maxout' ? { pieces: l.pieces } : {}),
    })),
    loss: network.loss,
    inputNoise: network.inputNoise,
  };
}

/**
 * The plan of a validated body (or of a stored JobSpec) against its dataset. `randomSeed` is used when the spec has no
 * seed. Throws ApiError JOB_SPEC_INVALID / JOB_TOO_LARGE.
 */
export function planJob(
  body: JobSpecBody | JobSpec, dataset: DatasetFacts, limits: PlanLimits, options: { randomSeed?: () => number; warmStart?: WarmStartFacts | null } = {},
): JobPlan {
  const warm = options.warmStart ?? null;
  // A warm start without `network` takes the architecture of the model it starts from (layers, loss, input noise).
  const given = body as JobSpecBody;
  const b = withDefaults(warm && given.network === undefined ? { ...given, network: networkBodyOf(warm.network) } : given);
  const issues: PlanIssue[] = [];
  const bad = (path: string, message: string, mismatch?: NameMismatch) => issues.push(mismatch ? { path, message, mismatch } : { path, message });

  // The loss, implied by the task or chosen, and the output width it needs.
  const loss: LossKind = b.network!.loss ?? (dataset.task === 'classification' ? 'softmax' : 'l2');
  if (dataset.task === 'regression' && loss !== 'l2') bad('network.loss', `${loss} needs a classification dataset; dataset ${dataset.id} is regression (use l2)`);
  if (dataset.task === 'classification' && loss === 'l2') bad('network.loss', `l2 needs a regression dataset; dataset ${dataset.id} is classification (use softmax, logistic or svm)`);
  if (dataset.task === 'classification' && dataset.classes < 2) bad('datasetId', `classification needs at least 2 classes, dataset ${dataset.id} has ${dataset.classes}`);
  const outputs = dataset.task === 'regression' ? 1 : loss !== 'softmax' && dataset.classes === 2 ? 1 : Math.max(dataset.classes, 2);

  // Preprocessing, and the input width it gives the network.
  const preprocessing = resolvePreprocessing(b.preprocessing!, bad);
  for (const issue of validatePreprocessing(preprocessing, dataset.features)) {
    bad(`preprocessing.${issue.path}`, issue.path === 'components' ? `must be an integer from 1 to the dataset's ${dataset.features} features` : issue.message);
  }
  let inputs = preprocessing.type === 'pca' ? preprocessing.components : preprocessing.type === 'whiten' ? preprocessing.components ?? dataset.features : dataset.features;

  if (warm) {
    if (warm.task !== dataset.task) bad('warmStartModelId', `model ${warm.id} was trained for ${warm.task}, dataset ${dataset.id} is ${dataset.task}`);
    // The weights mean something only for the same columns and classes in the same order: counts are not enough.
    for (const what of ['featureNames', 'classNames'] as const) {
      const names = dataset[what];
      if (!names) throw new TypeError(`planJob: a warm start needs the dataset's ${what}`);
      const mismatch = firstMismatch(what, warm[what], names);
      if (mismatch) bad('warmStartModelId', describeMismatch(mismatch, warm, dataset), mismatch);
    }
    inputs = warm.network.inputs; // the model's fitted preprocessing is reused
  }

  const network: NetworkSpec = {
    inputs,
    layers: b.network!.layers!.map((l): HiddenLayerSpec => ({ ...l, activation: l.activation ?? 'relu', dropout: l.dropout ?? 0 })),
    outputs,
    loss,
    regularization: { l2: b.regularization!.l2!, l1: b.regularization!.l1! },
    inputNoise: b.network!.inputNoise!,
  };
  if (b.network!.init) network.init = b.network!.init;
  for (const issue of validateSpec(network)) bad(networkPath(issue.path), issue.message);

  // Split and steps.
  const t = b.training!;
  const { trainRows, validationRows } = splitSizes(dataset.rows, t.validationFraction!);
  if (t.validationFraction! > 0 && validationRows === 0) bad('training.validationFraction', `${t.validationFraction} of ${dataset.rows} rows is less than one row; use 0 or a larger dataset`);
  if (t.batchSize! > trainRows) bad('training.batchSize', `${t.batchSize} is more than the ${trainRows} training rows`);
  if (t.epochs! > MAX_EPOCHS) bad('training.epochs', `must be ≤ ${MAX_EPOCHS}`);
  const monitor: MonitorMetric = t.monitor ?? (validationRows > 0 ? 'valLoss' : 'trainLoss');
  if (monitor !== 'trainLoss' && validationRows === 0) bad('training.monitor', `${monitor} needs a validation split (validationFraction > 0)`);
  if (monitor === 'valAccuracy' && dataset.task !== 'classification') bad('training.monitor', 'valAccuracy needs a classification dataset');
  if ((monitor === 'valRmse' || monitor === 'valR2') && dataset.task !== 'regression') bad('training.monitor', `${monitor} needs a regression dataset`);
  const stepsPerEpoch = Math.max(1, Math.ceil(trainRows / t.batchSize!));
  const totalSteps = t.epochs! * stepsPerEpoch;

  const optimizer = resolveOptimizer(b.optimizer!, totalSteps, bad);

  if (issues.length) throw specInvalid(issues);

  const resolved = resolveSpec(network);
  if (warm) {
    const same = sameLayout(layoutParams(planLayers(resolved)), layoutParams(planLayers(warm.network)));
    if (!same) throw specInvalid([{ path: 'warmStartModelId', message: `model ${warm.id} has another architecture (layers, units, activations and outputs must match)` }]);
  }
  const description = describeNetwork(network);
  if (description.parameterCount > limits.parameters) {
    throw apiError('JOB_TOO_LARGE', `the network has ${description.parameterCount} parameters, the limit is ${limits.parameters} (MAX_PARAMETERS)`, {
      limit: limits.parameters, value: description.parameterCount, setting: 'MAX_PARAMETERS',
    });
  }
  const epochRows = t.epochs! * trainRows;
  if (epochRows > limits.epochRows) {
    throw apiError('JOB_TOO_LARGE', `epochs × training rows is ${epochRows}, the limit is ${limits.epochRows} (MAX_EPOCH_ROWS)`, {
      limit: limits.epochRows, value: epochRows, setting: 'MAX_EPOCH_ROWS',
    });
  }

  const spec: JobSpec = {
    datasetId: b.datasetId,
    name: b.name ?? dataset.name,
    warmStartModelId: b.warmStartModelId ?? null,
    network: { layers: network.layers, loss, init: b.network!.init ?? null, inputNoise: network.inputNoise! },
    regularization: { l2: network.regularization!.l2!, l1: network.regularization!.l1! },
    preprocessing,
    optimizer,
    training: {
      epochs: t.epochs!,
      batchSize: t.batchSize!,
      validationFraction: t.validationFraction!,
      seed: t.seed ?? (options.randomSeed ?? defaultRandomSeed)(),
      monitor,
      earlyStopping: t.earlyStopping ? { patience: t.earlyStopping.patience!, minDelta: t.earlyStopping.minDelta! } : null,
      keep: t.keep!,
      maxGradNormRatio: t.maxGradNormRatio!,
    },
    checkpoints: { everySteps: b.checkpoints!.everySteps!, everySeconds: b.checkpoints!.everySeconds!, keep: b.checkpoints!.keep! },
    metrics: { everySteps: b.metrics!.everySteps! },
  };
  return { spec, network, description, trainRows, validationRows, stepsPerEpoch, totalSteps };
}

function firstMismatch(what: NameMismatch['what'], model: readonly string[], dataset: readonly string[]): NameMismatch | null {
  for (let i = 0; i < Math.max(model.length, dataset.length); i++) {
    if (model[i] !== dataset[i]) return { what, index: i, model: model[i] ?? null, dataset: dataset[i] ?? null };
  }
  return null;
}

/** E.g. `feature 2 of model M is "petal_length", of dataset D "petal_width" ("petal_length" is its feature 3); …`. */
function describeMismatch(m: NameMismatch, warm: WarmStartFacts, dataset: DatasetFacts): string {
  const noun = m.what === 'featureNames' ? 'feature' : 'class';
  const modelList = warm[m.what], datasetList = dataset[m.what] ?? [];
  const counts = `model ${warm.id} has ${modelList.length} ${noun === 'class' ? 'classes' : 'features'}, dataset ${dataset.id} ${datasetList.length}`;
  let what: string;
  if (m.model === null) what = `${counts}: the dataset's ${noun} ${m.index} ${JSON.stringify(m.dataset)} is not in the model`;
  else if (m.dataset === null) what = `${counts}: the model's ${noun} ${m.index} ${JSON.stringify(m.model)} is not in the dataset`;
  else {
    const elsewhere = datasetList.indexOf(m.model);
    what = `${noun} ${m.index} of model ${warm.id} is ${JSON.stringify(m.model)}, of dataset ${dataset.id} ${JSON.stringify(m.dataset)}`
      + (elsewhere >= 0 ? ` (the dataset has ${JSON.stringify(m.model)} as ${noun} ${elsewhere})` : '');
  }
  return `${what}; a warm start needs the model's ${m.what} in the same order`;
}

/** Engine spec paths (inputs, layers[i].units, regularization.l2, …) in REST terms. */
function networkPath(path: string): string {
  if (path.startsWith('regularization')) return path;
  if (path === 'inputNoise' || path === 'init' || path === 'loss' || path.startsWith('layers')) return `network.${path}`;
  return path === 'inputs' ? 'preprocessing.components' : path === 'outputs' ? 'network.loss' : path;
}

function specInvalid(issues: PlanIssue[]) {
  const first = issues[0]!;
  return apiError('JOB_SPEC_INVALID', `${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, { errors: issues });
}

function defaultRandomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
