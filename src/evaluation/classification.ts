/**
 * Classification metrics from true and predicted class indices (pure; no model, no I/O):
 *   accuracy                 correct / rows
 *   per class c              precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2·P·R / (P + R), support = rows
 *                            whose true class is c. A ratio with a zero denominator is 0 (scikit-learn's default).
 *   macro averages           the unweighted mean over classes of precision, recall and F1
 *   confusion matrix         matrix[t][p] = rows of true class t predicted as p (rows = true, columns = predicted),
 *                            with the class names in index order
 * The loss and log-loss come from ./losses.ts (they need the model's outputs).
 */

export interface ClassMetrics {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ConfusionMatrix {
  /** Class names, the order of the rows and of the columns. */
  classes: string[];
  /** matrix[true][predicted]: counts. */
  matrix: number[][];
}

export interface ClassificationCounts {
  rows: number;
  accuracy: number;
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  confusionMatrix: ConfusionMatrix;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function confusionMatrix(classNames: readonly string[], truth: ArrayLike<number>, predicted: ArrayLike<number>): ConfusionMatrix {
  const k = classNames.length;
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true classes for ${predicted.length} predictions`);
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!, p = predicted[i]!;
    if (!(t >= 0 && t < k && p >= 0 && p < k && Number.isInteger(t) && Number.isInteger(p))) throw new RangeError(`row ${i}: class ${t} / ${p} outside [0, ${k})`);
    matrix[t]![p]!++;
  }
  return { classes: [...classNames], matrix };
}

export function classificationCounts(classNames: readonly string[], truth: ArrayLike<number>, predicted: ArrayLike<number>): ClassificationCounts {
  const cm = confusionMatrix(classNames, truth, predicted);
  const k = classNames.length;
  let correct = 0;
  for (let c = 0; c < k; c++) correct += cm.matrix[c]![c]!;
  const perClass = classNames.map((name, c): ClassMetrics => {
    const tp = cm.matrix[c]![c]!;
    let predictedAsC = 0, support = 0;
    for (let j = 0; j < k; j++) {
      predictedAsC += cm.matrix[j]![c]!;
      support += cm.matrix[c]![j]!;
    }
    const precision = ratio(tp, predictedAsC), recall = ratio(tp, support);
    return { class: name, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const mean = (pick: (m: ClassMetrics) => number) => perClass.reduce((s, m) => s + pick(m), 0) / k;
  return {
    rows: truth.length,
    accuracy: ratio(correct, truth.length),
    perClass,
    macro: { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) },
    confusionMatrix: cm,
  };
}
