/**
 * Inference latency: every forward pass of a served model (predictions and decision grids, src/inference/predict.ts),
 * measured from its first row to its last (wall clock, including the turns it yields to other requests between
 * chunks). Process-wide: the inference code has no app at hand, and an API process serves one app.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export const inferenceRegistry = new Registry();

const duration = new Histogram({
  name: 'trainyard_inference_duration_seconds',
  help: 'Time of one forward pass of a served model (a prediction request or a decision grid), from the first row to the last',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [inferenceRegistry],
});

const rows = new Counter({
  name: 'trainyard_inference_rows_total',
  help: 'Rows predicted (forward passes of served models)',
  registers: [inferenceRegistry],
});

/** Starts timing a forward pass; call the result with its output and row count when it is done (it returns the output). */
export function inferenceTimer(): <T>(output: T, rowCount: number) => T {
  const started = process.hrtime.bigint();
  return (output, rowCount) => {
    duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    rows.inc(rowCount);
    return output;
  };
}
