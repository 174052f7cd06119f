/** One dataset: per-feature statistics, class counts, a page of rows, and for 2-input sets a scatter of its points. */
import { api, type Dataset } from '../api.js';
import { errorBox, fill, h, num, table } from '../dom.js';
import { go } from '../router.js';
import { DecisionRegions } from '../widgets/regions.js';
import { datasetPoints } from './points.js';

const PAGE = 20;

function statsTable(d: Dataset): HTMLTableElement {
  return table(['feature', 'mean', 'std', 'min', 'max'],
    d.featureNames.map((name, i) => [name, num(d.stats[i]?.mean), num(d.stats[i]?.std), num(d.stats[i]?.min), num(d.stats[i]?.max)]),
    { id: 'feature-stats' });
}

function rowsPager(d: Dataset): HTMLElement {
  const box = h('div', { id: 'rows' });
  const show = async (offset: number) => {
    const page = await api().datasets.rows(d.id, { offset, limit: PAGE });
    const prev = h('button', { type: 'button', class: 'secondary', disabled: offset === 0, onclick: () => void show(Math.max(0, offset - PAGE)) }, '← Previous');
    const next = h('button', { type: 'button', class: 'secondary', disabled: offset + PAGE >= page.total, onclick: () => void show(offset + PAGE) }, 'Next →');
    fill(box,
      table(['row', ...page.featureNames, page.targetName], page.items.map((r) => [r.row, ...r.x.map((v) => num(v)), r.label ?? num(r.y)]), { id: 'rows-table' }),
      h('p', {}, prev, ` rows ${offset}–${Math.min(offset + PAGE, page.total) - 1} of ${page.total.toLocaleString()} `, next));
  };
  show(0).catch((error: unknown) => fill(box, errorBox(error)));
  return box;
}

export async function datasetView(root: HTMLElement, id: string): Promise<void> {
  try {
    const d = await api().datasets.get(id);
    const classes = d.task === 'classification'
      ? table(['class', 'rows'], d.classNames.map((c, i) => [c, (d.classCounts[i] ?? 0).toLocaleString()]), { id: 'class-counts' })
      : h('p', {}, `Target ${d.targetName}: mean ${num(d.targetStats?.mean)}, std ${num(d.targetStats?.std)}, range ${num(d.targetStats?.min)} … ${num(d.targetStats?.max)}`);
    const scatter = d.features === 2 && d.task === 'classification' ? new DecisionRegions(300, d.classNames) : null;
    const remove = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      if (!confirm(`Delete dataset ${d.name}?`)) return;
      try {
        await api().datasets.delete(d.id);
        go('datasets');
      } catch (error) {
        root.prepend(errorBox(error));
      }
    } }, 'Delete');
    fill(root,
      h('h2', {}, d.name, ' ', h('small', { class: 'muted' }, d.id)),
      h('p', {}, `${d.source} · ${d.task} · ${d.rows.toLocaleString()} rows · ${d.features} features · ${(d.byteSize / 1024).toFixed(1)} KiB `,
        h('a', { class: 'button', href: `#/submit?dataset=${d.id}` }, 'Train on it'), ' ', remove),
      h('div', { class: 'two' },
        h('section', {}, h('h3', {}, 'Features'), statsTable(d), h('h3', {}, d.task === 'classification' ? 'Classes' : 'Target'), classes),
        scatter ? h('section', {}, h('h3', {}, 'Points'), scatter.el) : null),
      h('h3', {}, 'Rows'), rowsPager(d));
    if (scatter) datasetPoints(d.id).then((p) => scatter.setPoints(p), () => undefined);
  } catch (error) {
    fill(root, errorBox(error));
  }
}
