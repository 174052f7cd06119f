/**
 * Submitting a job: pick a dataset and the form fills in the spec's defaults for it (a dry run of `{datasetId}` returns
 * the complete spec, so the defaults are the server's own, dataset-dependent ones included). Every change re-plans
 * (POST /v1/jobs?dryRun=true): the layer table and the parameter count show before anything is queued.
 */
import { api, type DryRun, type JobSpec } from '../api.js';
import { errorBox, field, fill, h, table } from '../dom.js';
import { go, type Route } from '../router.js';

import { ACTIVATIONS } from '../../../engine/spec.js';
import type { OptimizerType } from '../../../engine/optimizers.js';
import type { PREPROCESSING_TYPES } from '../../../engine/preprocessing.js';

const OPTIMIZERS: readonly OptimizerType[] = ['adam', 'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop'];
const PREPROCESSING: readonly (typeof PREPROCESSING_TYPES)[number][] = ['standardize', 'center', 'none', 'pca', 'whiten'];
const PLAN_DELAY_MS = 250;

interface DefaultedSpec {
  name?: string;
  network: { layers: { units: number; activation?: string }[] };
  optimizer: { type: string; learningRate?: number };
  regularization: { l2: number };
  preprocessing: { type: string };
  training: { epochs: number; batchSize: number; validationFraction: number; seed?: number };
}

const select = (id: string, options: readonly string[]) => h('select', { id }, ...options.map((o) => h('option', { value: o }, o)));
const input = (id: string, attrs: Record<string, string | number> = {}) => h('input', { id, ...attrs });

export async function submitView(root: HTMLElement, route: Route): Promise<() => void> {
  const datasets = (await api().datasets.list({ limit: 100 })).items;
  const dataset = select('job-dataset', []);
  for (const d of datasets) dataset.append(h('option', { value: d.id }, `${d.name} (${d.rows} × ${d.features}, ${d.task})`));
  const wanted = route.query.get('dataset');
  if (wanted) dataset.value = wanted;

  const f = {
    name: input('job-name', { placeholder: 'default: the dataset name' }),
    layers: input('job-layers', { placeholder: 'e.g. 100,50 (empty: linear)' }),
    activation: select('job-activation', ACTIVATIONS),
    optimizer: select('job-optimizer', OPTIMIZERS),
    learningRate: input('job-learning-rate', { type: 'number', step: 'any', min: 0 }),
    epochs: input('job-epochs', { type: 'number', min: 1 }),
    batchSize: input('job-batch-size', { type: 'number', min: 1 }),
    validationFraction: input('job-validation', { type: 'number', step: 'any', min: 0, max: 0.5 }),
    l2: input('job-l2', { type: 'number', step: 'any', min: 0 }),
    preprocessing: select('job-preprocessing', PREPROCESSING),
    seed: input('job-seed', { type: 'number', min: 0, placeholder: 'random' }),
  };
  const plan = h('div', { id: 'plan' });
  const message = h('div', {});
  const submit = h('button', { type: 'submit', id: 'job-submit', disabled: true }, 'Submit job');
  const form = h('form', { id: 'submit-form', class: 'card' },
    h('div', { class: 'fields' },
      field('Dataset', dataset), field('Name', f.name), field('Hidden layers (units)', f.layers), field('Activation', f.activation),
      field('Optimizer', f.optimizer), field('Learning rate', f.learningRate), field('Epochs', f.epochs), field('Batch size', f.batchSize),
      field('Validation fraction', f.validationFraction), field('L2', f.l2), field('Preprocessing', f.preprocessing), field('Seed', f.seed)),
    submit, message);
  fill(root, h('h2', {}, 'New job'),
    datasets.length === 0 ? h('p', {}, 'No datasets yet: ', h('a', { href: '#/datasets' }, 'make one'), ' first.') : h('div', { class: 'two' }, form, h('section', {}, h('h3', {}, 'Plan'), plan)));

  const spec = (): JobSpec => {
    const units = f.layers.value.split(/[,\s]+/).filter(Boolean).map(Number);
    return {
      datasetId: dataset.value,
      ...(f.name.value.trim() ? { name: f.name.value.trim() } : {}),
      network: { layers: units.map((u) => ({ units: u, activation: f.activation.value as 'relu' })) },
      optimizer: { type: f.optimizer.value as 'adam', ...(f.learningRate.value ? { learningRate: Number(f.learningRate.value) } : {}) },
      regularization: { l2: Number(f.l2.value) },
      preprocessing: { type: f.preprocessing.value as 'standardize' },
      training: {
        epochs: Number(f.epochs.value), batchSize: Number(f.batchSize.value), validationFraction: Number(f.validationFraction.value),
        ...(f.seed.value !== '' ? { seed: Number(f.seed.value) } : {}),
      },
    };
  };

  const showPlan = (p: DryRun) => {
    fill(plan,
      table(['layer', 'kind', 'activation', 'inputs', 'outputs', 'parameters'], p.layers.map((l) => [l.name, l.kind, l.activation ?? '–', l.inputs, l.outputs, l.params.toLocaleString()]), { id: 'plan-layers' }),
      h('p', { id: 'plan-summary' }, h('strong', { id: 'parameter-count' }, p.parameterCount.toLocaleString()), ' parameters · ',
        `${p.inputs} inputs → ${p.outputs} outputs (${p.loss}) · ${p.trainRows} training and ${p.validationRows} validation rows · `,
        `${p.stepsPerEpoch} steps per epoch, ${p.totalSteps.toLocaleString()} in all`));
  };

  let timer = 0;
  let latest = 0;
  const replan = () => {
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const ticket = ++latest;
      try {
        const p = await api().jobs.dryRun(spec());
        if (ticket !== latest) return;
        showPlan(p);
        fill(message);
        submit.disabled = false;
      } catch (error) {
        if (ticket !== latest) return;
        fill(plan, errorBox(error));
        submit.disabled = true;
      }
    }, PLAN_DELAY_MS);
  };

  /** The server's defaults for this dataset, into the form. */
  const loadDefaults = async () => {
    if (!dataset.value) return;
    submit.disabled = true;
    try {
      const p = await api().jobs.dryRun({ datasetId: dataset.value });
      const s = p.spec as DefaultedSpec;
      f.layers.value = s.network.layers.map((l) => l.units).join(',');
      f.activation.value = s.network.layers[0]?.activation ?? 'relu';
      f.optimizer.value = s.optimizer.type;
      f.learningRate.value = String(s.optimizer.learningRate ?? '');
      f.epochs.value = String(s.training.epochs);
      f.batchSize.value = String(s.training.batchSize);
      f.validationFraction.value = String(s.training.validationFraction);
      f.l2.value = String(s.regularization.l2);
      f.preprocessing.value = s.preprocessing.type;
      f.seed.value = '';
      showPlan(p);
      submit.disabled = false;
    } catch (error) {
      fill(plan, errorBox(error));
    }
  };

  dataset.addEventListener('change', () => void loadDefaults());
  form.addEventListener('input', (event) => {
    if (event.target !== dataset) replan();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const job = await api().jobs.submit(spec());
      go(`jobs/${job.id}`);
    } catch (error) {
      fill(message, errorBox(error));
      submit.disabled = false;
    }
  });
  await loadDefaults();
  return () => clearTimeout(timer);
}
