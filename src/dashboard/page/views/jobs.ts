/** Jobs: newest first, with status, progress and a loss sparkline; refreshed while some job is queued or running. */
import { api, type Job } from '../api.js';
import { errorBox, fill, h, num, when } from '../dom.js';
import { sparkline } from '../widgets/sparkline.js';
import type { Dispose } from './view.js';

const REFRESH_MS = 3000;
const METRICS_PAGE = 2000;
/** Points of a sparkline at most (a long curve is sampled evenly). */
const SPARK_POINTS = 200;
const ACTIVE = new Set<Job['status']>(['queued', 'running']);

export function progressBar(job: Pick<Job, 'step' | 'totalSteps' | 'status'>): HTMLElement {
  const share = job.totalSteps > 0 ? Math.min(1, job.step / job.totalSteps) : 0;
  const bar = h('progress', { max: 1, value: job.status === 'succeeded' ? 1 : share });
  return h('span', { class: 'progress' }, bar, ` ${Math.round(share * 100)}%`);
}

export function statusBadge(status: Job['status']): HTMLElement {
  return h('span', { class: `status status-${status}` }, status);
}

/** At most `n` values of `values`, evenly spaced, the last one included. */
function sample(values: readonly number[], n: number): number[] {
  if (values.length <= n) return [...values];
  return Array.from({ length: n }, (_, i) => values[Math.round((i * (values.length - 1)) / (n - 1))]!);
}

export function jobsView(root: HTMLElement): Dispose {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(root, h('div', { class: 'row-between' }, h('h2', {}, 'Jobs'), h('a', { class: 'button', href: '#/submit' }, 'New job')), body);
  /** Each job's loss curve so far; a refresh fetches only the steps after the last one it has. */
  const curves = new Map<string, { since: number; losses: number[]; complete: boolean }>();
  let timer = 0;
  let stopped = false;

  const lossOf = async (job: Job): Promise<number[]> => {
    const curve = curves.get(job.id) ?? { since: -1, losses: [], complete: false };
    curves.set(job.id, curve);
    if (curve.complete) return curve.losses;
    const page = await api().jobs.metrics(job.id, { since: curve.since, limit: METRICS_PAGE });
    curve.losses.push(...page.trainLoss);
    curve.since = page.nextSince;
    // A finished job's curve is complete once a page comes back short; a long one fills in over a few refreshes.
    curve.complete = !ACTIVE.has(job.status) && page.count < METRICS_PAGE;
    return curve.losses;
  };

  const refresh = async () => {
    try {
      const { items } = await api().jobs.list({ limit: 50 });
      if (stopped) return;
      if (items.length === 0) {
        fill(body, h('p', { class: 'muted' }, 'No jobs yet. ', h('a', { href: '#/submit' }, 'Submit one'), '.'));
      } else {
        const losses = await Promise.all(items.map((job) => lossOf(job).catch(() => [])));
        if (stopped) return;
        const rows = items.map((job, i) => h('tr', { 'data-job': job.id },
          h('td', {}, h('a', { href: `#/jobs/${job.id}` }, job.name)),
          h('td', {}, statusBadge(job.status)),
          h('td', {}, progressBar(job)),
          h('td', {}, `${job.epoch} / ${(job.spec as { training?: { epochs?: number } }).training?.epochs ?? '?'}`),
          h('td', {}, sparkline(sample(losses[i]!, SPARK_POINTS))),
          h('td', {}, num(losses[i]!.at(-1))),
          h('td', {}, when(job.createdAt))));
        fill(body, h('table', { id: 'jobs', class: 'list' },
          h('thead', {}, h('tr', {}, ...['name', 'status', 'progress', 'epoch', 'loss', 'last loss', 'created'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...rows)));
      }
      if (items.some((j) => ACTIVE.has(j.status) || !curves.get(j.id)?.complete)) timer = window.setTimeout(refresh, REFRESH_MS);
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
