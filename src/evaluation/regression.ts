/**
 * Regression metrics from true and predicted values (pure; float64 sums):
 *   rmse = √(mean e²), mae = mean |e|, with residuals e = true − predicted
 *   r2   = 1 − Σe² / Σ(y − ȳ)²; null when every true value is the same (the ratio is undefined)
 *   loss = mean ½e², the l2 loss the model was trained with (without regularization)
 *   residuals: min, quartiles (q1, median, q3: linear interpolation between order statistics, numpy's default), max, mean
 */

export interface ResidualSummary {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
}

export interface RegressionMetrics {
  rows: number;
  loss: number;
  rmse: number;
  mae: number;
  r2: number | null;
  residuals: ResidualSummary;
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly between the two nearest order statistics. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('no values');
  const at = (n - 1) * q;
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function regressionMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = truth.length;
  if (n === 0) throw new RangeError('no rows');
  if (predicted.length !== n) throw new RangeError(`${n} true values for ${predicted.length} predictions`);
  const residuals = new Float64Array(n);
  let sumSq = 0, sumAbs = 0, sum = 0, sumTrue = 0;
  for (let i = 0; i < n; i++) {
    const e = truth[i]! - predicted[i]!;
    residuals[i] = e;
    sumSq += e * e;
    sumAbs += Math.abs(e);
    sum += e;
    sumTrue += truth[i]!;
  }
  const meanTrue = sumTrue / n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (truth[i]! - meanTrue) ** 2;
  const sorted = residuals.slice().sort();
  return {
    rows: n,
    loss: sumSq / (2 * n),
    rmse: Math.sqrt(sumSq / n),
    mae: sumAbs / n,
    r2: total === 0 ? null : 1 - sumSq / total,
    residuals: { min: sorted[0]!, q1: quantile(sorted, 0.25), median: quantile(sorted, 0.5), q3: quantile(sorted, 0.75), max: sorted[n - 1]!, mean: sum / n },
  };
}
