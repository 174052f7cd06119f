/** A one-line chart of a series with the eight block characters, averaged down to `width` cells. */
const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width = 60): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const cells = Math.min(width, finite.length);
  const means: number[] = [];
  for (let c = 0; c < cells; c++) {
    const from = Math.floor((c * finite.length) / cells);
    const to = Math.max(from + 1, Math.floor(((c + 1) * finite.length) / cells));
    let sum = 0;
    for (let i = from; i < to; i++) sum += finite[i]!;
    means.push(sum / (to - from));
  }
  const min = Math.min(...means);
  const max = Math.max(...means);
  const span = max - min;
  return means.map((v) => BLOCKS[span === 0 ? 0 : Math.round(((v - min) / span) * (BLOCKS.length - 1))]).join('');
}
