/** A tiny inline loss curve (SVG polyline), for lists. */
const SVG = 'http://www.w3.org/2000/svg';

export function sparkline(values: readonly number[], width = 120, height = 28): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'sparkline');
  svg.dataset.points = String(values.length);
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return svg;
  const min = Math.min(...finite), max = Math.max(...finite);
  const span = max - min || 1;
  const points = finite.map((v, i) => `${((i / (finite.length - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - ((v - min) / span) * (height - 2)).toFixed(1)}`);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.appendChild(line);
  return svg;
}
