/**
 * The per-layer health of a job (CS231n's checks) from its newest metrics record: dead and saturated fractions,
 * gradient and weight norms, update/weight ratio; values outside the healthy band (the server's default warning
 * thresholds) are marked. Below it, the training-health warnings raised so far, with their advice.
 */
import { fill, h, num, percent, table } from '../dom.js';
import type { JobWarning, MetricRecord } from '../api.js';

/** Defaults of WARN_DEAD_RELU_FRACTION, WARN_SATURATED_FRACTION, WARN_UPDATE_RATIO_LOW/HIGH (the server's may differ). */
const LIMITS = { dead: 0.4, saturated: 0.4, ratioLow: 1e-5, ratioHigh: 1e-1 };

type Layer = MetricRecord['layers'][number];

function flagged(text: string, bad: boolean): HTMLElement {
  return h('span', { class: bad ? 'bad' : '' }, text);
}

export class HealthPanel {
  readonly el: HTMLElement;
  private readonly tableBox = h('div', { id: 'health-table' }, h('p', { class: 'muted' }, 'No metrics yet.'));
  private readonly warningList = h('ul', { id: 'warnings', class: 'warnings' });
  private readonly seen = new Set<string>();

  constructor() {
    this.el = h('section', { class: 'health' }, h('h3', {}, 'Layer health'), this.tableBox, h('h3', {}, 'Warnings'), this.warningList);
    this.warningList.append(h('li', { class: 'muted none' }, 'None raised.'));
  }

  showLayers(record: MetricRecord): void {
    const rows = record.layers.map((l: Layer) => [
      l.name,
      l.activation ?? '–',
      flagged(percent(l.deadFraction), (l.deadFraction ?? 0) > LIMITS.dead),
      flagged(percent(l.saturatedFraction), (l.saturatedFraction ?? 0) > LIMITS.saturated),
      num(l.gradNorm),
      num(l.weightNorm),
      flagged(num(l.updateRatio), l.updateRatio !== null && (l.updateRatio < LIMITS.ratioLow || l.updateRatio > LIMITS.ratioHigh)),
    ]);
    fill(this.tableBox,
      table(['layer', 'activation', 'dead', 'saturated', '‖∇W‖', '‖W‖', 'update/weight'], rows),
      h('small', { class: 'muted' }, `At step ${record.step}. Healthy update/weight ratio ≈ 1e-3.`));
  }

  addWarning(w: Pick<JobWarning, 'code' | 'layer' | 'step' | 'message' | 'advice'>): void {
    const id = `${w.code}/${w.layer ?? ''}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.warningList.querySelector('.none')?.remove();
    this.warningList.append(h('li', { class: 'warning' },
      h('strong', {}, w.code), w.layer ? ` (${w.layer})` : '', ` at step ${w.step}: ${w.message}`,
      h('div', { class: 'advice' }, w.advice)));
  }
}
