/**
 * One job, live: its status and progress, the learning curves and learning rate, the per-layer health table with the
 * warnings, and for 2-input classifiers the decision regions over the data. Everything comes from the job's WebSocket
 * stream, which replays the stored metrics first (so a reload redraws the whole curve) and then forwards live events;
 * a dropped connection reconnects from the last step seen. Decision grids are live only (not stored): a finished job
 * shows its model's grid instead.
 */
import { api, isTerminal, type Dataset, type Job, type JobEvent, type JobStream } from '../api.js';
import { errorBox, fill, h, num } from '../dom.js';
import { LearningCurves } from '../widgets/curves.js';
import { HealthPanel } from '../widgets/health.js';
import { DecisionRegions } from '../widgets/regions.js';
import { datasetPoints } from './points.js';
import { JobSummary } from './job-summary.js';
import type { Dispose } from './view.js';

const RECONNECT_MS = 2000;
/**
 * How often an unfinished job is read again while its page is open. The stream brings every change; this catches a
 * final status the stream could not deliver (a replica restarting, Redis failing over), as the client's `wait()` does.
 */
const REREAD_MS = 5000;

export async function jobView(root: HTMLElement, id: string): Promise<Dispose> {
  let job = await api().jobs.get(id);
  const dataset: Dataset | null = job.datasetId ? await api().datasets.get(job.datasetId).catch(() => null) : null;
  const classification = dataset ? dataset.task === 'classification' : true;
  const twoInputs = dataset !== null && dataset.features === 2 && classification;

  const regions = twoInputs ? new DecisionRegions(440, dataset.classNames) : null;
  let stream: JobStream | null = null;
  let stopped = false;
  let timer = 0;
  let rereadTimer = 0;
  let gridSeen = false;

  const show = (next: Job) => {
    job = next;
    header.update(job);
    if (regions && job.status === 'succeeded' && job.modelId && !gridSeen) {
      gridSeen = true;
      void showModelGrid(regions, job.modelId);
    }
  };
  /** Reads the job again (after a final status event, a cancel, and every REREAD_MS until it has ended). */
  const reread = async () => {
    clearTimeout(rereadTimer);
    try {
      const fresh = await api().jobs.get(id);
      if (!stopped) show(fresh);
    } catch {
      // Shown stale until the next read; the stream's own errors are shown by `live`.
    }
    if (!stopped && !isTerminal(job.status)) rereadTimer = window.setTimeout(() => void reread(), REREAD_MS);
  };
  const header = new JobSummary(job, (answered) => {
    show(answered);
    void reread();
  });
  const live = h('p', { id: 'live', class: 'muted' }, 'Connecting…');
  const latest = h('p', { id: 'latest' });
  const curves = new LearningCurves();
  curves.showAccuracy(classification);
  const health = new HealthPanel();
  for (const w of job.warnings) health.addWarning(w);

  fill(root,
    h('h2', {}, job.name, ' ', h('small', { class: 'muted' }, job.id)),
    header.el, live, latest,
    h('div', { class: 'job-grid' },
      curves.el,
      h('div', {},
        regions ? h('section', {}, h('h3', {}, 'Decision regions'), regions.el) : null,
        health.el)));
  curves.mount();

  if (regions && dataset) datasetPoints(dataset.id).then((points) => regions.setPoints(points), () => undefined);
  show(job);
  if (!isTerminal(job.status)) rereadTimer = window.setTimeout(() => void reread(), REREAD_MS);

  let lastValidation: { loss: number; accuracy: number | null; epoch: number } | null = null;

  const onEvent = (event: JobEvent) => {
    switch (event.type) {
      case 'metrics': {
        const r = event.record;
        curves.add(r);
        health.showLayers(r);
        // Validation metrics come with epoch-end records only: the newest ones stay shown in between.
        if (r.valLoss !== null) lastValidation = { loss: r.valLoss, accuracy: r.valAccuracy, epoch: r.epoch };
        fill(latest, `step ${r.step} · epoch ${r.epoch} · train loss ${num(r.trainLoss)}`,
          lastValidation ? ` · validation loss ${num(lastValidation.loss)}` : '',
          lastValidation?.accuracy != null ? ` · validation accuracy ${num(lastValidation.accuracy)}` : '',
          lastValidation ? ` (epoch ${lastValidation.epoch})` : '',
          ` · learning rate ${num(r.learningRate)} · ${Math.round(r.samplesPerSec).toLocaleString()} samples/s`);
        if (!('replayed' in event)) show({ ...job, step: r.step, epoch: r.epoch });
        break;
      }
      case 'status': {
        // The event's status type is the database's; the job view's list is the API's (the same values).
        const status = event.status as Job['status'];
        show({ ...job, status, epoch: event.epoch });
        if (isTerminal(status)) void reread();
        break;
      }
      case 'warning':
        health.addWarning({ code: event.code as Job['warnings'][number]['code'], layer: event.layer, step: event.step, message: event.message, advice: event.advice });
        break;
      case 'decision':
        gridSeen = true;
        regions?.setGrid(event, `Live, epoch ${event.epoch}`);
        break;
      case 'checkpoint':
        break;
    }
  };

  const open = (since: number) => {
    live.textContent = 'Live';
    stream = api().jobs.stream(id, {
      since,
      onEvent,
      onClose: (close) => {
        if (stopped) return;
        if (close.code === 1000 && !close.error) {
          live.textContent = `Stream ended (job ${job.status}).`;
          return;
        }
        fill(live, errorBox(close.error ?? `stream closed (${close.code})`), ' Reconnecting…');
        const from = stream?.lastStep ?? since;
        timer = window.setTimeout(() => open(from), RECONNECT_MS);
      },
    });
  };
  open(-1);

  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(rereadTimer);
    stream?.close();
    curves.destroy();
  };
}

async function showModelGrid(regions: DecisionRegions, modelId: string): Promise<void> {
  try {
    const grid = await api().models.decisionGrid(modelId, { resolution: 60 });
    if (grid.classes) regions.setGrid({ resolution: grid.resolution, xRange: grid.xRange, yRange: grid.yRange, classes: grid.classes }, 'The trained model');
  } catch {
    // A deleted model: the live grids were all there was.
  }
}

/** For the router: errors shown in place. */
export async function jobPage(root: HTMLElement, id: string): Promise<Dispose | void> {
  try {
    return await jobView(root, id);
  } catch (error) {
    fill(root, errorBox(error));
  }
}
