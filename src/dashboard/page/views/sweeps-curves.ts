/**
 * A sweep's trials overlaid: validation loss and training loss against the epoch, one uPlot each, one series per
 * trial (every planned trial has its series from the start; a pending one is empty until its job reports). Each
 * trial keeps one point per epoch, its epoch-end record (the record with the highest step of that epoch), so stored
 * curves (GET /v1/jobs/:id/metrics) and live records from the sweep stream merge in any order without duplicates.
 * Each chart's element carries `data-series` (trial series) and `data-points` (points plotted, all trials).
 */
import uPlot from 'uplot';
import { h } from '../dom.js';

const PALETTE = ['#2f6fdf', '#e0662d', '#5a9e3a', '#9b4dca', '#c23b6c', '#1a9c9c', '#b58a00', '#6b7280', '#d94f4f', '#3d5a99'];

/** What a curve point needs of a metrics record (a streamed MetricRecord or a row of MetricColumns). */
export interface CurveRecord {
  step: number;
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
}

interface EpochPoint {
  step: number;
  train: number;
  val: number | null;
}

interface Chart {
  el: HTMLElement;
  plot: uPlot | null;
  value: (p: EpochPoint) => number | null;
}

export class SweepCurves {
  readonly el: HTMLElement;
  private readonly trials: number[];
  private readonly labels: string[];
  /** Per trial (in `trials` order): epoch → its point. */
  private readonly points: Map<number, EpochPoint>[];
  private readonly charts: Chart[];
  private frame = 0;
  private readonly resize = new ResizeObserver(() => this.fit());

  /** `trials`: every planned trial's index and label, in the order of the series. */
  constructor(trials: readonly { trial: number; label: string }[]) {
    this.trials = trials.map((t) => t.trial);
    this.labels = trials.map((t) => t.label);
    this.points = trials.map(() => new Map());
    this.charts = [
      { el: h('div', { class: 'chart', id: 'sweep-val-chart', 'data-points': 0, 'data-series': trials.length }), plot: null, value: (p) => p.val },
      { el: h('div', { class: 'chart', id: 'sweep-train-chart', 'data-points': 0, 'data-series': trials.length }), plot: null, value: (p) => p.train },
    ];
    this.el = h('section', { class: 'curves' },
      h('h3', {}, 'Validation loss by epoch'), this.charts[0]!.el,
      h('h3', {}, 'Training loss by epoch'), this.charts[1]!.el);
  }

  add(trial: number, record: CurveRecord): void {
    const at = this.trials.indexOf(trial);
    if (at < 0) return;
    const points = this.points[at]!;
    const current = points.get(record.epoch);
    if (current && record.step < current.step) return; // an earlier record of the epoch: the epoch end wins
    points.set(record.epoch, { step: record.step, train: record.trainLoss, val: record.valLoss });
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
    return { width: Math.max(240, this.el.clientWidth - 8), height: 240 };
  }

  private fit(): void {
    for (const c of this.charts) c.plot?.setSize(this.size());
  }

  private columns(chart: Chart): { data: uPlot.AlignedData; count: number } {
    const epochs = [...new Set(this.points.flatMap((p) => [...p.keys()]))].sort((a, b) => a - b);
    let count = 0;
    const series = this.points.map((points) => epochs.map((e) => {
      const p = points.get(e);
      const v = p ? chart.value(p) : null;
      if (v !== null) count++;
      return v;
    }));
    return { data: [epochs, ...series] as uPlot.AlignedData, count };
  }

  private draw(): void {
    this.frame = 0;
    if (!this.el.isConnected) return;
    for (const c of this.charts) {
      const { data, count } = this.columns(c);
      if (!c.plot) {
        c.plot = new uPlot({
          ...this.size(),
          series: [
            { label: 'epoch' },
            ...this.labels.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length]!, width: 1.5, spanGaps: true, points: { show: true, size: 4 } })),
          ],
          scales: { x: { time: false } },
          axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, {}], // whole epochs
          legend: { live: false },
        }, data, c.el);
      } else {
        c.plot.setData(data);
      }
      c.el.dataset.points = String(count);
    }
  }
}
