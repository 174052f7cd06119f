/**
 * What each warning says: a message with the measured numbers, and the advice of the CS231n notes
 * (cs231n.github.io/neural-networks-1 and -3).
 */
import type { Activation } from '../../engine/spec.js';

export interface WarningText {
  message: string;
  advice: string;
}

const pct = (f: number) => `${Math.round(f * 100)}%`;
const num = (v: number) => v.toPrecision(3);
const exp = (v: number) => v.toExponential(1);

export function deadReluText(layer: string, activation: Activation | null, fraction: number, threshold: number, records: number): WarningText {
  return {
    message: `${pct(fraction)} of the ${activation ?? 'ReLU'} units of layer ${layer} were never active on any training row between two metrics records, ` +
      `${records} records in a row (threshold ${pct(threshold)}).`,
    advice: 'The learning rate is likely too high: a large update can knock ReLU units off the data manifold, and a dead unit ' +
      'never activates or learns again (CS231n: as much as 40% of a network can die). Lower the learning rate; leaky-relu or ' +
      'maxout units do not die.',
  };
}

export function saturatedText(layer: string, activation: 'sigmoid' | 'tanh', fraction: number, threshold: number, records: number): WarningText {
  return {
    message: `${pct(fraction)} of the ${activation} units of layer ${layer} are saturated (output at the flat ends of the ${activation} ` +
      `on most rows of the batch), ${records} records in a row (threshold ${pct(threshold)}).`,
    advice: 'Saturated units kill the gradient, so almost no signal flows back and the network barely learns: the initial weights ' +
      'are likely too large (or the inputs not scaled: standardize them). Prefer ReLU' +
      (activation === 'sigmoid' ? '; if you keep a squashing non-linearity, tanh is better than sigmoid.' : '.'),
  };
}

export function updateRatioText(layer: string, ratio: number, side: 'high' | 'low', bound: number, records: number): WarningText {
  const where = side === 'high' ? `above ${exp(bound)}` : `below ${exp(bound)}`;
  return {
    message: `The update/weight ratio of layer ${layer} is ${exp(ratio)}, ${where}, ${records} records in a row (healthy: about 1e-3).`,
    advice: side === 'high'
      ? 'The updates are large next to the weights: the learning rate is likely too high. Lower it (e.g. ÷10).'
      : 'The updates are tiny next to the weights: the learning rate is likely too low. Raise it (e.g. ×10).',
  };
}

export function lossFlatText(epochs: number, best: number, before: number, first: number, minDecrease: number): WarningText {
  return {
    message: `The training loss has not decreased by ${pct(minDecrease)} over the last ${epochs} epochs: its best there is ${num(best)}, ` +
      `against ${num(before)} before (the first metrics record had ${num(first)}).`,
    advice: 'The loss is not decreasing: the learning rate is likely too low (slow, almost linear progress) or too high (the loss ' +
      'plateaus at a high value). Try it ×10 and ÷10; check that the inputs are standardized and that the network is big enough.',
  };
}

export function overfittingText(
  epochs: number, valThen: number, valNow: number, trainThen: number, trainNow: number, quality: { metric: string; then: number; now: number },
): WarningText {
  return {
    message: `The validation loss rose from ${num(valThen)} to ${num(valNow)} (means of ${epochs} epochs against the ${epochs} before) ` +
      `while the training loss fell from ${num(trainThen)} to ${num(trainNow)}, and ${quality.metric} worsened from ${num(quality.then)} to ` +
      `${num(quality.now)}: the network is overfitting.`,
    advice: 'The network fits the noise of the training data: add regularization (a higher l2, dropout, input noise), use more ' +
      'data, or stop early. CS231n: control overfitting with regularization rather than with a smaller network.',
  };
}
