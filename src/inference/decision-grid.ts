/**
 * The decision grid of a 2-input model (the ConvNetJS picture): predictions at resolution × resolution points spanning
 * the training data's range of both features, in the raw (unpreprocessed) feature space — the points of
 * src/models/grid.ts, as in the live `decision` event.
 */
import { gridPoints, gridSpan } from '../models/grid.js';
import type { LoadedModel } from './loaded-model.js';
import { classIndex, forward } from './predict.js';

export interface DecisionGrid {
  resolution: number;
  xRange: [number, number];
  yRange: [number, number];
  /** Classification: the predicted class index per point. */
  classes: number[] | null;
  /** Classification: per point, the network's outputs in classNames order (probabilities, or margins for svm). */
  outputs: number[][] | null;
  /** Regression: the predicted value per point. */
  values: number[] | null;
}

/** The grid; the model must take exactly two inputs. */
export async function decisionGrid(model: LoadedModel, resolution: number): Promise<DecisionGrid> {
  const xRange = gridSpan(model.inputRange[0]!.min, model.inputRange[0]!.max);
  const yRange = gridSpan(model.inputRange[1]!.min, model.inputRange[1]!.max);
  const n = resolution * resolution;
  const x = gridPoints(xRange, yRange, resolution);
  const out = await forward(model, x, n);
  const k = model.outputs;
  if (model.task === 'regression') return { resolution, xRange, yRange, classes: null, outputs: null, values: Array.from(out) };
  const classes = new Array<number>(n);
  const outputs = new Array<number[]>(n);
  for (let p = 0; p < n; p++) {
    classes[p] = classIndex(model, out, p);
    outputs[p] = Array.from(out.subarray(p * k, (p + 1) * k));
  }
  return { resolution, xRange, yRange, classes, outputs, values: null };
}
