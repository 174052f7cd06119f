/**
 * The learning curves of a job, drawn with uPlot: loss (train, validation), accuracy (train, validation) and the
 * learning rate, each against the step. Records are appended as they arrive (replayed ones first) and the charts are
 * redrawn at most once per animation frame. Each chart's element carries `data-points`, the records it plots.
 */
import uPlot from 'uplot';
import { h } from '../dom.js';
import type { MetricRecord } from '../api.js';

const COLORS = { train: '#2f6fdf', val: '#e0662d', lr: '#5a9e3a' };

interface Chart {
  el: HTMLElement;
  plot: uPlot | null;
  columns: () => uPlot.AlignedData;
  series: uPlot.Series[];
  scaleY?: uPlot.Scale;
}

export class LearningCurves {
  readonly el: HTMLElement;
  private readonly step: number[] = [];
  private readonly trainLoss: number[] = [];
  private readonly valLoss: (number | null)[] = [];
  private readonly trainAccuracy: (number | null)[] = [];
  private readonly valAccuracy: (number | null)[] = [];
  private readonly learningRate: number[] = [];
  private readonly charts: Chart[];
  private frame = 0;
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor() {
    const line = (label: string, stroke: string, extra: uPlot.Series = {}): uPlot.Series => ({ label, stroke, width: 1.5, spanGaps: true, points: { show: false }, ...extra });
    this.charts = [
      {
        el: h('div', { class: 'chart', id: 'loss-chart', 'data-points': 0 }),
        plot: null,
        columns: () => [this.step, this.trainLoss, this.valLoss] as uPlot.AlignedData,
        series: [{ label: 'step' }, line('train loss', COLORS.train), line('validation loss', COLORS.val, { points: { show: true, size: 4 } })],
      },
      {
        el: h('div', { class: 'chart', id: 'accuracy-chart', 'data-points': 0 }),
        plot: null,
        columns: () => [this.step, this.trainAccuracy, this.valAccuracy] as uPlot.AlignedData,
        series: [{ label: 'step' }, line('train accuracy', COLORS.train, { points: { show: true, size: 4 } }), line('validation accuracy', COLORS.val, { points: { show: true, size: 4 } })],
        scaleY: { range: [0, 1] },
      },
      {
        el: h('div', { class: 'chart', id: 'lr-chart', 'data-points': 0 }),
        plot: null,
        columns: () => [this.step, this.learningRate] as uPlot.AlignedData,
        series: [{ label: 'step' }, line('learning rate', COLORS.lr)],
      },
    ];
    this.el = h('section', { class: 'curves' },
      h('h3', {}, 'Loss'), this.charts[0]!.el,
      h('h3', {}, 'Accuracy'), this.charts[1]!.el,
      h('h3', {}, 'Learning rate'), this.charts[2]!.el);
  }

  /** How many records are plotted. */
  get points(): number {
    return this.step.length;
  }

  /** Whether the job has accuracies to plot (classification); regression jobs hide that chart. */
  showAccuracy(show: boolean): void {
    this.charts[1]!.el.hidden = !show;
    (this.charts[1]!.el.previousElementSibling as HTMLElement).hidden = !show;
  }

  add(record: MetricRecord): void {
    const last = this.step[this.step.length - 1];
    if (last !== undefined && record.step <= last) return; // a resumed attempt repeats steps; keep the first
    this.step.push(record.step);
    this.trainLoss.push(record.trainLoss);
    this.valLoss.push(record.valLoss);
    this.trainAccuracy.push(record.trainAccuracy);
    this.valAccuracy.push(record.valAccuracy);
    this.learningRate.push(record.learningRate);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  /** Call once the element is in the document (uPlot measures it). */
  mount(): void {
    this.resize.observe(this.el);
    this.draw();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    for (const c of this.charts) c.plot?.destroy();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(240, this.el.clientWidth - 8), height: 200 };
  }

  private fit(): void {
    for (const c of this.charts) c.plot?.setSize(this.size());
  }

  private draw(): void {
    this.frame = 0;
    if (!this.el.isConnected) return;
    for (const c of this.charts) {
      if (!c.plot) {
        c.plot = new uPlot({
          ...this.size(),
          series: c.series,
          scales: { x: { time: false }, ...(c.scaleY ? { y: c.scaleY } : {}) },
          axes: [{ label: 'step' }, {}],
          legend: { live: false },
        }, c.columns(), c.el);
      } else {
        c.plot.setData(c.columns());
      }
      c.el.dataset.points = String(this.step.length);
    }
  }
}
