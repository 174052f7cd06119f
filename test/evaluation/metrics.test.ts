/** The evaluation metrics against hand-computed values (and scikit-learn's documented examples). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classificationCounts, confusionMatrix } from '../../src/evaluation/classification.js';
import { classifierLosses } from '../../src/evaluation/losses.js';
import { evaluationMetrics } from '../../src/evaluation/metrics.js';
import { quantile, regressionMetrics } from '../../src/evaluation/regression.js';

const close = (actual: number | null, expected: number, what: string) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

describe('classification metrics', () => {
  // truth a a b b c c c, predicted a b b b c a c (worked by hand below)
  const names = ['a', 'b', 'c'];
  const truth = [0, 0, 1, 1, 2, 2, 2];
  const predicted = [0, 1, 1, 1, 2, 0, 2];

  it('confusion matrix: rows are the true class, columns the predicted one', () => {
    assert.deepEqual(confusionMatrix(names, truth, predicted), { classes: names, matrix: [[1, 1, 0], [0, 2, 0], [1, 0, 2]] });
  });

  it('accuracy, per-class precision / recall / F1 / support, macro averages', () => {
    const m = classificationCounts(names, truth, predicted);
    close(m.accuracy, 5 / 7, 'accuracy');
    // a: TP 1, predicted a twice, 2 true a → P ½, R ½, F1 ½. b: TP 2 of 3 predicted, 2 true → P ⅔, R 1, F1 0.8.
    // c: TP 2 of 2 predicted, 3 true → P 1, R ⅔, F1 0.8.
    const expected = [[0.5, 0.5, 0.5, 2], [2 / 3, 1, 0.8, 2], [1, 2 / 3, 0.8, 3]];
    m.perClass.forEach((c, i) => {
      assert.equal(c.class, names[i]);
      close(c.precision, expected[i]![0]!, `${c.class} precision`);
      close(c.recall, expected[i]![1]!, `${c.class} recall`);
      close(c.f1, expected[i]![2]!, `${c.class} f1`);
      assert.equal(c.support, expected[i]![3]);
    });
    close(m.macro.precision, (0.5 + 2 / 3 + 1) / 3, 'macro precision');
    close(m.macro.recall, (0.5 + 1 + 2 / 3) / 3, 'macro recall');
    close(m.macro.f1, 0.7, 'macro f1');
  });

  it('a class never predicted and never true has precision, recall and F1 0 (no division by zero)', () => {
    const m = classificationCounts(['x', 'y', 'z'], [0, 1], [0, 1]);
    assert.deepEqual([m.perClass[2]!.precision, m.perClass[2]!.recall, m.perClass[2]!.f1, m.perClass[2]!.support], [0, 0, 0, 0]);
    assert.equal(m.accuracy, 1);
  });

  it('refuses a class index outside the classes', () => {
    assert.throws(() => confusionMatrix(['a', 'b'], [0, 2], [0, 1]), RangeError);
  });
});

describe('classifier losses', () => {
  it('softmax: the loss and the log-loss are the mean of −ln p_y', () => {
    const l = classifierLosses('softmax', [0.8, 0.2, 0.4, 0.6], 2, [0, 0]);
    close(l.loss, (-Math.log(0.8) - Math.log(0.4)) / 2, 'loss');
    close(l.logLoss, 0.5697171415537006, 'log-loss');
  });

  it('logistic with one output: binary cross-entropy of P(class 1)', () => {
    const l = classifierLosses('logistic', [0.9, 0.2, 0.3], 1, [1, 1, 0]);
    close(l.loss, (0.10536051565782628 + 1.6094379124341003 + 0.35667494393873245) / 3, 'loss');
    close(l.logLoss, l.loss, 'log-loss');
  });

  it('logistic one-vs-all: the loss sums the outputs\' cross-entropies, the log-loss normalizes the probabilities', () => {
    const l = classifierLosses('logistic', [0.6, 0.2, 0.2], 3, [0]);
    close(l.loss, -Math.log(0.6) - 2 * Math.log(0.8), 'loss');
    close(l.logLoss, -Math.log(0.6), 'log-loss');
  });

  it('multiclass SVM: the CS231n example (2.9, 0, 12.9), no log-loss', () => {
    const scores = [3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1];
    const l = classifierLosses('svm', scores, 3, [0, 1, 2]);
    close(l.loss, (2.9 + 0 + 12.9) / 3, 'loss');
    assert.equal(l.logLoss, null);
  });

  it('binary SVM: max(0, 1 − t·s) with t = ±1', () => {
    close(classifierLosses('svm', [0.5, -2, 3], 1, [1, 1, 0]).loss, (0.5 + 3 + 4) / 3, 'loss');
  });

  it('a confidently wrong row costs −ln 1e-15, not ∞', () => {
    close(classifierLosses('softmax', [1, 0], 2, [1]).logLoss, -Math.log(1e-15), 'log-loss');
  });
});

describe('regression metrics', () => {
  // scikit-learn's documented example: y_true [3, -0.5, 2, 7], y_pred [2.5, 0.0, 2, 8]: MAE 0.5, MSE 0.375, R² 0.948…
  it('RMSE, MAE, R², loss and the residual summary', () => {
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]);
    close(m.mae, 0.5, 'mae');
    close(m.rmse, Math.sqrt(0.375), 'rmse');
    close(m.r2, 0.9486081370449679, 'r2');
    close(m.loss, 0.1875, 'loss');
    // residuals true − predicted: 0.5, −0.5, 0, −1 → sorted −1, −0.5, 0, 0.5
    assert.deepEqual(m.residuals, { min: -1, q1: -0.625, median: -0.25, q3: 0.125, max: 0.5, mean: -0.25 });
  });

  it('R² is null when every true value is the same', () => {
    assert.equal(regressionMetrics([2, 2, 2], [1, 2, 3]).r2, null);
  });

  it('quantiles interpolate linearly between order statistics (numpy\'s default)', () => {
    assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([7], 0.75), 7);
  });
});

describe('evaluationMetrics', () => {
  it('classification: reads the predicted class from the outputs and adds loss and log-loss', () => {
    const out = new Float32Array([0.7, 0.3, 0.1, 0.9, 0.6, 0.4]);
    const m = evaluationMetrics(
      { task: 'classification', loss: 'softmax', outputs: 2, classNames: ['n', 'y'], classOf: (o, i) => (o[i * 2]! >= o[i * 2 + 1]! ? 0 : 1) },
      out, new Float64Array([0, 1, 1]),
    );
    assert.equal(m.task, 'classification');
    if (m.task !== 'classification') return;
    close(m.accuracy, 2 / 3, 'accuracy');
    assert.deepEqual(m.confusionMatrix.matrix, [[1, 0], [1, 1]]);
    close(m.logLoss, (-Math.log(Math.fround(0.7)) - Math.log(Math.fround(0.9)) - Math.log(Math.fround(0.4))) / 3, 'log-loss');
  });

  it('regression: the first output is the prediction', () => {
    const m = evaluationMetrics({ task: 'regression', loss: 'l2', outputs: 1, classNames: [], classOf: () => 0 }, new Float32Array([1, 2]), new Float64Array([1, 4]));
    assert.equal(m.task, 'regression');
    if (m.task === 'regression') close(m.rmse, Math.sqrt(2), 'rmse');
  });
});
