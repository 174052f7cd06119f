/** Sweeps: newest first, with status, method, metric and trials ended; refreshed while some sweep runs. */
import type { SweepList } from '../../../client/index.js';
import { api } from '../api.js';
import { errorBox, fill, h, when } from '../dom.js';
import type { Dispose } from './view.js';

const REFRESH_MS = 3000;

/** A status badge (the jobs' colours; a trial's `pending` and `deleted` are grey). */
export function sweepBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}

/** Trials that ended (whatever the outcome), of all planned. */
export function trialsEnded(s: Pick<SweepList['items'][number], 'counts' | 'trialCount'>): string {
  const c = s.counts;
  return `${c.succeeded + c.failed + c.cancelled + c.pruned + c.deleted} / ${s.trialCount}`;
}

export function sweepsView(root: HTMLElement): Dispose {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(root, h('h2', {}, 'Sweeps'), body);
  let timer = 0;
  let stopped = false;

  const refresh = async () => {
    try {
      const { items } = await api().sweeps.list({ limit: 50 });
      if (stopped) return;
      if (items.length === 0) {
        fill(body, h('p', { class: 'muted' }, 'No sweeps yet. Create one with POST /v1/sweeps or ', h('code', {}, 'trainyard sweeps create sweep.json'), '.'));
      } else {
        fill(body, h('table', { id: 'sweeps', class: 'list' },
          h('thead', {}, h('tr', {}, ...['name', 'status', 'method', 'metric', 'trials ended', 'running', 'created'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...items.map((s) => h('tr', { 'data-sweep': s.id },
            h('td', {}, h('a', { href: `#/sweeps/${s.id}` }, s.name)),
            h('td', {}, sweepBadge(s.status)),
            h('td', {}, s.method),
            h('td', {}, `${s.metric} (${s.direction})`),
            h('td', {}, trialsEnded(s)),
            h('td', {}, s.counts.running),
            h('td', {}, when(s.createdAt)))))));
      }
      if (items.some((s) => s.status === 'running')) timer = window.setTimeout(refresh, REFRESH_MS);
    } catch (error) {
      if (!stopped) fill(body, errorBox(error));
    }
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
