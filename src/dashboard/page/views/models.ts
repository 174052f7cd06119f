/** Models: the list, and one model's page with its layers, metrics, a predict form and (2 inputs) its decision regions. */
import { api, type Model, type Prediction } from '../api.js';
import { errorBox, field, fill, h, num, percent, table, when } from '../dom.js';
import { DecisionRegions } from '../widgets/regions.js';
import { datasetPoints } from './points.js';

export async function modelsView(root: HTMLElement): Promise<void> {
  fill(root, h('h2', {}, 'Models'), h('p', { class: 'muted' }, 'Loading…'));
  try {
    const { items } = await api().models.list({ limit: 100 });
    fill(root, h('h2', {}, 'Models'), items.length === 0 ? h('p', { class: 'muted' }, 'No models yet: a job that succeeds makes one.') : h('table', { id: 'models', class: 'list' },
      h('thead', {}, h('tr', {}, ...['name', 'task', 'inputs', 'classes', 'parameters', 'job', 'created'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...items.map((m) => h('tr', { 'data-model': m.id },
        h('td', {}, h('a', { href: `#/models/${m.id}` }, m.name)), h('td', {}, m.task), h('td', {}, m.inputs), h('td', {}, m.classes || '–'),
        h('td', {}, m.parameterCount.toLocaleString()), h('td', {}, m.jobId ? h('a', { href: `#/jobs/${m.jobId}` }, m.jobId.slice(0, 8)) : '–'),
        h('td', {}, when(m.createdAt)))))));
  } catch (error) {
    fill(root, errorBox(error));
  }
}

function predictionView(p: Prediction): HTMLElement {
  if ('value' in p) return h('p', { id: 'prediction' }, 'Predicted value: ', h('strong', {}, num(p.value)));
  const scores = 'probabilities' in p ? p.probabilities : p.scores;
  return h('div', { id: 'prediction' },
    h('p', {}, 'Predicted class: ', h('strong', { id: 'predicted-class' }, p.class)),
    table(['class', 'probabilities' in p ? 'probability' : 'score'], Object.entries(scores).map(([c, v]) => [c, 'probabilities' in p ? percent(v) : num(v)])));
}

function predictForm(model: Model): HTMLFormElement {
  const inputs = model.featureNames.map((name, i) => {
    const range = model.inputRange[i];
    const middle = range ? (range.min + range.max) / 2 : 0;
    return h('input', { type: 'number', step: 'any', required: true, value: Number(middle.toPrecision(4)), 'data-feature': name });
  });
  const result = h('div', {});
  // Wide inputs (e.g. 784 pixels) are typed as one comma-separated row instead of one field per feature.
  const wide = model.featureNames.length > 16;
  const row = h('textarea', { id: 'predict-row', rows: 3, placeholder: `${model.featureNames.length} comma-separated numbers` });
  const form = h('form', { id: 'predict-form', class: 'card' },
    h('h3', {}, 'Predict'),
    wide ? field(`Row (${model.featureNames.length} values)`, row) : h('div', { class: 'fields' }, ...inputs.map((input, i) => field(model.featureNames[i]!, input))),
    h('button', { type: 'submit', id: 'predict-submit' }, 'Predict'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = wide ? row.value.split(/[,\s]+/).filter(Boolean).map(Number) : inputs.map((input) => Number(input.value));
    try {
      const answer = await api().models.predict(model.id, [values]);
      fill(result, predictionView(answer.predictions[0]!));
    } catch (error) {
      fill(result, errorBox(error));
    }
  });
  return form;
}

export async function modelView(root: HTMLElement, id: string): Promise<void> {
  try {
    const m = await api().models.get(id);
    const regions = m.inputs === 2 && m.task === 'classification' ? new DecisionRegions(300, m.classNames) : null;
    fill(root,
      h('h2', {}, m.name, ' ', h('small', { class: 'muted' }, m.id)),
      h('p', {}, `${m.task} · ${m.inputs} inputs (${m.featureNames.slice(0, 8).join(', ')}${m.inputs > 8 ? ', …' : ''}) · ${m.parameterCount.toLocaleString()} parameters · preprocessing ${m.preprocessing.type}`,
        m.jobId ? h('span', {}, ' · job ', h('a', { href: `#/jobs/${m.jobId}` }, m.jobId.slice(0, 8))) : null),
      h('div', { class: 'two' },
        h('section', {},
          table(['layer', 'kind', 'activation', 'inputs', 'outputs', 'parameters'], m.layers.map((l) => [l.name, l.kind, l.activation ?? '–', l.inputs, l.outputs, l.params.toLocaleString()])),
          h('h3', {}, 'Metrics'),
          table(['metric', 'value'], Object.entries(m.metrics).map(([k, v]) => [k, typeof v === 'number' ? num(v) : JSON.stringify(v)]))),
        h('section', {}, predictForm(m), regions ? h('div', {}, h('h3', {}, 'Decision regions'), regions.el) : null)));
    if (regions) {
      if (m.datasetId) datasetPoints(m.datasetId).then((p) => regions.setPoints(p), () => undefined);
      const grid = await api().models.decisionGrid(m.id, { resolution: 60 });
      if (grid.classes) regions.setGrid({ resolution: grid.resolution, xRange: grid.xRange, yRange: grid.yRange, classes: grid.classes }, 'The model');
    }
  } catch (error) {
    fill(root, errorBox(error));
  }
}
