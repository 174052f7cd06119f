/** Datasets: the list, a form that generates a synthetic set, and one that uploads a CSV or JSON file. */
import { api, type Dataset } from '../api.js';
import { errorBox, field, fill, h, when } from '../dom.js';
import { go } from '../router.js';

const KINDS = ['spiral', 'circles', 'xor', 'moons', 'blobs', 'sine'] as const;
type Kind = (typeof KINDS)[number];

function numberInput(id: string, value: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { id, type: 'number', value, ...attrs });
}

function syntheticForm(onCreated: (d: Dataset) => void): HTMLFormElement {
  const kind = h('select', { id: 'synthetic-kind' }, ...KINDS.map((k) => h('option', { value: k }, k)));
  const n = numberInput('synthetic-n', '100', { min: 1 });
  const classes = numberInput('synthetic-classes', '3', { min: 2 });
  const noise = numberInput('synthetic-noise', '', { min: 0, step: 'any', placeholder: 'default' });
  const seed = numberInput('synthetic-seed', '', { min: 0, placeholder: 'random' });
  const name = h('input', { id: 'synthetic-name', placeholder: 'default: the kind' });
  const message = h('div', {});
  const form = h('form', { id: 'synthetic-form', class: 'card' },
    h('h3', {}, 'Generate a synthetic set'),
    h('div', { class: 'fields' }, field('Kind', kind), field('Points per class', n), field('Classes', classes, 'spiral, blobs, circles'), field('Noise', noise), field('Seed', seed), field('Name', name)),
    h('button', { type: 'submit', id: 'synthetic-submit' }, 'Generate'), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const k = kind.value as Kind;
    try {
      const created = await api().datasets.synthetic({
        kind: k,
        n: Number(n.value),
        ...(['spiral', 'blobs', 'circles'].includes(k) ? { classes: Number(classes.value) } : {}),
        ...(noise.value !== '' ? { noise: Number(noise.value) } : {}),
        ...(seed.value !== '' ? { seed: Number(seed.value) } : {}),
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
      });
      onCreated(created);
    } catch (error) {
      fill(message, errorBox(error));
    }
  });
  return form;
}

function uploadForm(onCreated: (d: Dataset) => void): HTMLFormElement {
  const file = h('input', { id: 'upload-file', type: 'file', accept: '.csv,.json,text/csv,application/json', required: true });
  const target = h('input', { id: 'upload-target', placeholder: 'default: the last column' });
  const name = h('input', { id: 'upload-name', placeholder: 'default: the file name' });
  const message = h('div', {});
  const form = h('form', { id: 'upload-form', class: 'card' },
    h('h3', {}, 'Upload CSV or JSON'),
    h('div', { class: 'fields' }, field('File', file), field('Target column', target), field('Name', name)),
    h('button', { type: 'submit' }, 'Upload'), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    fill(message, h('p', { class: 'muted' }, `Uploading ${chosen.name}…`));
    try {
      const created = await api().datasets.upload(chosen, {
        format: /\.json$/i.test(chosen.name) || chosen.type === 'application/json' ? 'json' : 'csv',
        name: name.value.trim() || chosen.name.replace(/\.(csv|json)$/i, ''),
        ...(target.value.trim() ? { target: target.value.trim() } : {}),
      });
      onCreated(created);
    } catch (error) {
      fill(message, errorBox(error));
    }
  });
  return form;
}

export async function datasetsView(root: HTMLElement): Promise<void> {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const opened = (d: Dataset) => go(`datasets/${d.id}`);
  fill(root, h('h2', {}, 'Datasets'), h('div', { class: 'two' }, syntheticForm(opened), uploadForm(opened)), list);
  try {
    const { items } = await api().datasets.list({ limit: 100 });
    fill(list, items.length === 0 ? h('p', { class: 'muted' }, 'No datasets yet.') : h('table', { id: 'datasets', class: 'list' },
      h('thead', {}, h('tr', {}, ...['name', 'source', 'task', 'rows', 'features', 'classes', 'created', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...items.map((d) => h('tr', { 'data-dataset': d.id },
        h('td', {}, h('a', { href: `#/datasets/${d.id}` }, d.name)), h('td', {}, d.source), h('td', {}, d.task),
        h('td', {}, d.rows.toLocaleString()), h('td', {}, d.features), h('td', {}, d.classes || '–'), h('td', {}, when(d.createdAt)),
        h('td', {}, h('a', { href: `#/submit?dataset=${d.id}` }, 'Train')))))));
  } catch (error) {
    fill(list, errorBox(error));
  }
}
