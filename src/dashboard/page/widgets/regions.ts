/**
 * Decision regions of a 2-input classifier on a canvas (the ConvNetJS picture): each grid point's predicted class as a
 * light cell, the dataset's points on top in their class's colour. Redrawn whenever a new grid arrives (the job
 * stream's `decision` events, or a model's decision grid). The canvas carries `data-draws` (grids drawn so far) and
 * `data-epoch` (the epoch of the grid shown).
 */
import { h } from '../dom.js';

export interface Grid {
  resolution: number;
  xRange: [number, number];
  yRange: [number, number];
  /** resolution² class indices, row-major with y varying slowest. */
  classes: number[];
}

export interface Point {
  x: number;
  y: number;
  /** Class index. */
  cls: number;
}

const PALETTE = ['#2f6fdf', '#e0662d', '#3a9e4f', '#b23ac0', '#c9a21a', '#1aa3b8', '#d1435b', '#6b5bd6', '#7f7f7f', '#8c564b'];
const color = (cls: number) => PALETTE[cls % PALETTE.length]!;
/** A class's colour mixed with white (the regions): opaque, so neighbouring cells do not darken where they overlap. */
const pale = (cls: number) => {
  const hex = color(cls), mix = (at: number) => Math.round(parseInt(hex.slice(at, at + 2), 16) * 0.35 + 255 * 0.65);
  return `rgb(${mix(1)}, ${mix(3)}, ${mix(5)})`;
};
/** Blank border around the data, so points on the edge of the range are drawn whole. */
const MARGIN = 8;

export class DecisionRegions {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private points: Point[] = [];
  private grid: Grid | null = null;
  private draws = 0;

  constructor(private readonly size = 360, classNames: string[] = []) {
    this.canvas = h('canvas', { id: 'regions', width: size, height: size, 'data-draws': 0 });
    this.caption = h('figcaption', { class: 'muted' }, 'Waiting for the first decision grid…');
    const legend = h('ul', { class: 'legend' }, ...classNames.map((name, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = color(i);
      return h('li', {}, swatch, name);
    }));
    this.el = h('figure', { class: 'regions' }, this.canvas, this.caption, legend);
  }

  setPoints(points: Point[]): void {
    this.points = points;
    this.draw();
  }

  setGrid(grid: Grid, label: string): void {
    this.grid = grid;
    this.caption.textContent = label;
    this.draws += 1;
    this.canvas.dataset.draws = String(this.draws);
    this.draw();
  }

  /** The span drawn: the grid's, or the points' bounding box before any grid. */
  private span(): { x: [number, number]; y: [number, number] } {
    if (this.grid) return { x: this.grid.xRange, y: this.grid.yRange };
    const xs = this.points.map((p) => p.x), ys = this.points.map((p) => p.y);
    const pad = (lo: number, hi: number): [number, number] => (lo < hi ? [lo, hi] : [lo - 0.5, hi + 0.5]);
    return xs.length ? { x: pad(Math.min(...xs), Math.max(...xs)), y: pad(Math.min(...ys), Math.max(...ys)) } : { x: [0, 1], y: [0, 1] };
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const s = this.size, inner = s - 2 * MARGIN;
    const { x: xr, y: yr } = this.span();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, s, s);
    const grid = this.grid;
    if (grid && grid.resolution > 1) {
      const n = grid.resolution, cell = inner / (n - 1);
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          ctx.fillStyle = pale(grid.classes[j * n + i] ?? 0);
          // Grid point (i, j) sits at the centre of its cell; y grows upwards.
          ctx.fillRect(MARGIN + i * cell - cell / 2, s - MARGIN - j * cell - cell / 2, cell + 1, cell + 1);
        }
      }
    }
    const px = (x: number) => MARGIN + ((x - xr[0]) / (xr[1] - xr[0])) * inner;
    const py = (y: number) => s - MARGIN - ((y - yr[0]) / (yr[1] - yr[0])) * inner;
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#ffffff';
    for (const p of this.points) {
      ctx.beginPath();
      ctx.arc(px(p.x), py(p.y), 3.5, 0, Math.PI * 2);
      ctx.fillStyle = color(p.cls);
      ctx.fill();
      ctx.stroke();
    }
  }
}
