/**
 * One sweep, live: its status, the leaderboard (best first; the best trial with a model starred; trials link to their
 * job pages) and every trial's validation and training loss overlaid (./sweeps-curves.ts). Stored curves come from
 * GET /v1/jobs/:id/metrics per trial; the sweep's WebSocket stream (live only, opened first so nothing falls in
 * between) adds records as they come, announces released trials and ended ones (the leaderboard is read again then).
 */
import type { Sweep, SweepEvent, SweepStream } from '../../../client/index.js';
import { api, isTerminal } from '../api.js';
import { errorBox, fill, h, num, when } from '../dom.js';
import { SweepCurves } from './sweeps-curves.js';
import { sweepBadge, trialsEnded } from './sweeps.js';
import type { Dispose } from './view.js';

const RECONNECT_MS = 2000;
/** Leaderboard reads are at most this frequent (trials ending together, a release right after an end). */
const LEADERBOARD_EVERY_MS = 500;

function parameterText(parameters: Record<string, unknown>): string {
  return Object.entries(parameters).map(([path, value]) => `${path}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ');
}

/**
 * The summary line and the Cancel button. The button is built once and kept while the text around it is redrawn (on
 * every trial that starts or ends): a button replaced between a press and its release never receives the click.
 */
class SweepSummary {
  readonly el = h('div', { id: 'sweep-summary' });
  private readonly text = h('span', {});
  private readonly best = h('div', {});
  private readonly cancel: HTMLButtonElement;

  constructor(sweep: Sweep, onCancelled: (sweep: Sweep) => void) {
    this.cancel = h('button', { type: 'button', id: 'cancel-sweep', class: 'secondary' }, 'Cancel sweep');
    this.cancel.addEventListener('click', () => {
      this.cancel.disabled = true;
      api().sweeps.cancel(sweep.id).then(onCancelled, (error: unknown) => {
        this.cancel.disabled = false;
        fill(this.best, errorBox(error));
      });
    });
    this.el.append(h('p', {}, this.text, this.cancel), this.best);
    this.update(sweep);
  }

  update(sweep: Sweep): void {
    fill(this.text, sweepBadge(sweep.status), ` ${sweep.method} · ${sweep.metric} (${sweep.direction}) · trials ended ${trialsEnded(sweep)}, `,
      `${sweep.counts.running} running, ${sweep.counts.queued} queued, ${sweep.counts.pending} pending · at most ${sweep.maxConcurrent} at a time `);
    if (sweep.status !== 'running' || sweep.cancelRequested) this.cancel.remove();
    fill(this.best, sweep.best
      ? h('p', { id: 'sweep-best' }, `Best: trial ${sweep.best.trial}, ${sweep.metric} ${num(sweep.best.metric)} · model `,
        h('a', { href: `#/models/${sweep.best.modelId}` }, sweep.best.modelId.slice(0, 8)))
      : null);
  }
}

function leaderboard(sweep: Sweep): HTMLElement {
  const headers = ['', 'trial', 'parameters', 'status', sweep.metric, 'best epoch', 'epochs', 'job', 'model', 'finished'];
  return h('table', { id: 'leaderboard', class: 'list' },
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...sweep.trials.map((t) => h('tr', { 'data-trial': t.trial, 'data-status': t.status, class: t.best ? 'best' : null },
      h('td', {}, t.best ? h('span', { title: 'best trial with a model' }, '★') : ''),
      h('td', {}, t.trial),
      h('td', {}, h('code', {}, parameterText(t.parameters))),
      h('td', {}, sweepBadge(t.status), t.failure ? h('small', { class: 'muted', title: t.failure.reason }, ` ${t.failure.code ?? ''}`) : null),
      h('td', {}, num(t.metric)),
      h('td', {}, t.bestEpoch ?? '–'),
      h('td', {}, t.epochs),
      h('td', {}, t.jobId ? h('a', { href: `#/jobs/${t.jobId}` }, t.jobId.slice(0, 8)) : '–'),
      h('td', {}, t.modelId ? h('a', { href: `#/models/${t.modelId}` }, t.modelId.slice(0, 8)) : '–'),
      h('td', {}, when(t.finishedAt))))));
}

export async function sweepView(root: HTMLElement, id: string): Promise<Dispose> {
  let sweep = await api().sweeps.get(id);
  const byIndex = [...sweep.trials].sort((a, b) => a.trial - b.trial);
  const curves = new SweepCurves(byIndex.map((t) => ({ trial: t.trial, label: `trial ${t.trial} (${parameterText(t.parameters)})` })));
  const header = new SweepSummary(sweep, (answered) => show(answered));
  const live = h('p', { id: 'sweep-live', class: 'muted' }, 'Connecting…');
  const board = h('div', { id: 'leaderboard-box' }, leaderboard(sweep));
  fill(root, h('h2', {}, sweep.name, ' ', h('small', { class: 'muted' }, sweep.id)), header.el, live, h('h3', {}, 'Leaderboard'), board, curves.el);
  curves.mount();

  let stream: SweepStream | null = null;
  let stopped = false;
  let reconnect = 0;
  let refreshTimer = 0;
  /** Jobs whose stored curve was read (or is being read), and those read again once they had ended. */
  const loaded = new Set<string>();
  const loadedEnded = new Set<string>();

  /** The stored curve of a trial's job; the live records merge with it in any order. */
  const loadCurve = async (trial: number, jobId: string) => {
    const m = await api().jobs.allMetrics(jobId).catch(() => null);
    if (!m || stopped) return;
    for (let i = 0; i < m.count; i++) curves.add(trial, { step: m.step[i]!, epoch: m.epoch[i]!, trainLoss: m.trainLoss[i]!, valLoss: m.valLoss[i] ?? null });
  };
  /**
   * Reads the curves the stream cannot be trusted with: a trial not read yet (released between two of the server's
   * polls, or ended before it followed it), and once more a trial that has ended (the stream is live only, and follows
   * a trial's job a moment after it appears: records of that moment are stored, not streamed). `force`: every trial
   * again (after a reconnect).
   */
  const loadCurves = (force = false) => {
    for (const t of sweep.trials) {
      if (!t.jobId) continue;
      const ended = isTerminal(t.status);
      if (!force && loaded.has(t.jobId) && (!ended || loadedEnded.has(t.jobId))) continue;
      loaded.add(t.jobId);
      if (ended) loadedEnded.add(t.jobId);
      void loadCurve(t.trial, t.jobId);
    }
  };

  const show = (next: Sweep) => {
    sweep = next;
    header.update(sweep);
    fill(board, leaderboard(sweep));
    loadCurves();
  };
  const refresh = () => {
    if (refreshTimer || stopped) return;
    refreshTimer = window.setTimeout(() => {
      refreshTimer = 0;
      api().sweeps.get(id).then((next) => !stopped && show(next), () => undefined);
    }, LEADERBOARD_EVERY_MS);
  };

  const onEvent = (event: SweepEvent) => {
    switch (event.type) {
      case 'sweep':
        if (event.status !== 'running') live.textContent = `Sweep ${event.status}.`;
        return refresh();
      case 'trial':
        if (!loaded.has(event.jobId)) {
          loaded.add(event.jobId);
          void loadCurve(event.trial, event.jobId);
        }
        return refresh();
      case 'metrics':
        return curves.add(event.trial, event.record);
      case 'status':
        if (isTerminal(event.status) || event.status === 'running') refresh();
        return;
      default:
        return;
    }
  };

  const open = () => {
    live.textContent = 'Live';
    stream = api().sweeps.stream(id, {
      onEvent,
      onClose: (close) => {
        if (stopped) return;
        if (close.code === 1000 && !close.error) {
          live.textContent = `Stream ended (sweep ${sweep.status === 'running' ? 'ended' : sweep.status}).`;
          refresh();
          return;
        }
        fill(live, errorBox(close.error ?? `stream closed (${close.code})`), ' Reconnecting…');
        reconnect = window.setTimeout(() => {
          open();
          loadCurves(true);
        }, RECONNECT_MS);
      },
    });
  };
  open();
  loadCurves();

  return () => {
    stopped = true;
    clearTimeout(reconnect);
    clearTimeout(refreshTimer);
    stream?.close();
    curves.destroy();
  };
}

/** For the router: errors shown in place. */
export async function sweepPage(root: HTMLElement, id: string): Promise<Dispose | void> {
  try {
    return await sweepView(root, id);
  } catch (error) {
    fill(root, errorBox(error));
  }
}
