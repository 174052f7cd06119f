/**
 * A 2-input model's decision regions in the terminal (the ConvNetJS demo in a shell): each text cell is two grid
 * points stacked ('▀', foreground above, background below), one ANSI colour per class; without colour (not a terminal,
 * NO_COLOR), one letter per class. Regression models shade the value from low (blue) to high (red).
 */
import type { DecisionGridResult } from '../client/node.js';
import { formatNumber } from './output.js';

/** xterm-256 colours, distinguishable on dark and light backgrounds. */
const PALETTE = [33, 208, 34, 160, 129, 94, 205, 244, 178, 37];
const RAMP = [21, 27, 33, 39, 45, 51, 50, 49, 48, 226, 220, 214, 208, 202, 196];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The index (class, or ramp step) of every grid point, row-major with y varying slowest. */
function cellsOf(grid: DecisionGridResult): { index: number[]; legend: string[]; colours: number[] } {
  if (grid.classes) {
    const colours = grid.classNames.map((_, i) => PALETTE[i % PALETTE.length]!);
    return { index: grid.classes, legend: grid.classNames, colours };
  }
  const values = grid.values ?? [];
  const min = Math.min(...values), max = Math.max(...values);
  const span = max - min || 1;
  const index = values.map((v) => Math.round(((v - min) / span) * (RAMP.length - 1)));
  return { index, legend: [`low ${formatNumber(min)}`, `high ${formatNumber(max)}`], colours: RAMP };
}

export function renderGrid(grid: DecisionGridResult, colour: boolean): string {
  const n = grid.resolution;
  const { index, legend, colours } = cellsOf(grid);
  const at = (x: number, y: number) => index[y * n + x]!;
  const lines: string[] = [];
  // The top line shows the largest y.
  if (colour) {
    for (let y = n - 1; y >= 0; y -= 2) {
      let line = '';
      for (let x = 0; x < n; x++) {
        const top = colours[at(x, y)]!;
        line += y - 1 >= 0 ? `\x1b[38;5;${top}m\x1b[48;5;${colours[at(x, y - 1)]!}m▀` : `\x1b[38;5;${top}m\x1b[49m▀`;
      }
      lines.push(`${line}\x1b[0m`);
    }
  } else {
    for (let y = n - 1; y >= 0; y -= 2) {
      let line = '';
      for (let x = 0; x < n; x++) line += grid.classes ? LETTERS[at(x, y) % LETTERS.length] : String(Math.min(9, Math.floor((at(x, y) / RAMP.length) * 10)));
      lines.push(line);
    }
  }
  const [fx, fy] = grid.featureNames;
  lines.push(`${fx} ${formatNumber(grid.xRange[0])} … ${formatNumber(grid.xRange[1])} →   ${fy} ${formatNumber(grid.yRange[0])} … ${formatNumber(grid.yRange[1])} ↑`);
  const keys = legend.map((name, i) =>
    colour ? `\x1b[38;5;${grid.classes ? colours[i] : colours[i === 0 ? 0 : colours.length - 1]}m██\x1b[0m ${name}` : `${grid.classes ? LETTERS[i % LETTERS.length] : i === 0 ? '0' : '9'} ${name}`,
  );
  lines.push(keys.join('   '));
  return lines.join('\n');
}
