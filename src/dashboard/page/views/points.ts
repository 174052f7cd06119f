/** The points of a 2-input dataset for a decision-region picture (the first MAX_POINTS rows). */
import { api } from '../api.js';
import type { Point } from '../widgets/regions.js';

const MAX_POINTS = 3000;
const PAGE = 1000;

export async function datasetPoints(datasetId: string): Promise<Point[]> {
  const points: Point[] = [];
  for (let offset = 0; offset < MAX_POINTS; offset += PAGE) {
    const page = await api().datasets.rows(datasetId, { offset, limit: PAGE });
    for (const r of page.items) points.push({ x: r.x[0]!, y: r.x[1]!, cls: r.y });
    if (offset + PAGE >= page.total) break;
  }
  return points;
}
