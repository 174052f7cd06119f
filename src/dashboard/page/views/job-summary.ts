/**
 * The job page's summary line: status, progress, epoch and step, parameter count, model link, and the Cancel button.
 * Its elements are built once and updated in place: live metrics arrive many times a second, and a button rebuilt
 * between a press and its release never receives the click (the page's Cancel failed that way on fast jobs).
 */
import { api, isTerminal, type Job } from '../api.js';
import { errorBox, fill, h } from '../dom.js';
import { progressBar, statusBadge } from './jobs.js';

export class JobSummary {
  readonly el = h('div', { id: 'job-summary' });
  private readonly badge = h('span', {});
  private readonly progress = h('span', {});
  private readonly position = h('span', {});
  private readonly model = h('span', {});
  private readonly failure = h('div', {});
  private readonly cancel: HTMLButtonElement;
  private readonly epochs: string;
  private shown: Pick<Job, 'status' | 'step' | 'totalSteps'> | null = null;

  /** `onCancelled` gets the job as the API answered the cancel (a running job: still running, cancel requested). */
  constructor(private job: Job, onCancelled: (job: Job) => void) {
    this.cancel = h('button', { type: 'button', id: 'cancel-job', class: 'secondary' }, 'Cancel');
    this.cancel.addEventListener('click', () => {
      this.cancel.disabled = true;
      this.cancel.textContent = 'Cancelling…';
      api().jobs.cancel(this.job.id).then(onCancelled, (error: unknown) => {
        this.cancel.disabled = false;
        this.cancel.textContent = 'Cancel';
        fill(this.failure, errorBox(error));
      });
    });
    const epochs = (job.spec as { training?: { epochs?: number } }).training?.epochs;
    this.epochs = epochs ? ` of ${epochs}` : '';
    this.el.append(h('div', { class: 'job-summary' },
      h('p', {}, this.badge, ' ', this.progress, this.position, ` · ${job.parameterCount.toLocaleString()} parameters`, this.model, ' ', this.cancel),
      this.failure));
    this.update(job);
  }

  update(job: Job): void {
    this.job = job;
    const shown = this.shown;
    if (!shown || shown.status !== job.status || shown.step !== job.step || shown.totalSteps !== job.totalSteps) {
      fill(this.badge, statusBadge(job.status));
      fill(this.progress, progressBar(job));
      this.shown = { status: job.status, step: job.step, totalSteps: job.totalSteps };
    }
    this.position.textContent = ` epoch ${job.epoch}${this.epochs}, step ${job.step} of ${job.totalSteps}`;
    if (job.modelId && !this.model.firstChild) fill(this.model, ' · model ', h('a', { href: `#/models/${job.modelId}` }, job.modelId.slice(0, 8)));
    if (job.failure) fill(this.failure, h('p', { class: 'error' }, `${job.failure.code ?? 'FAILED'}: ${job.failure.reason}`));
    if (isTerminal(job.status)) this.cancel.remove();
    else if (job.cancelRequested) {
      this.cancel.disabled = true;
      this.cancel.textContent = 'Cancelling…';
    }
  }
}
