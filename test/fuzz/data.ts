/**
 * The generated data of a fuzz case and the network spec it implies: raw rows from a seeded RNG (features of very
 * different scales, offsets, a few constant features, correlated features — so that standardize, pca and whiten all
 * have work to do), the case's preprocessing fitted on them, and targets of the kind the loss takes.
 */
import { Preprocessor } from '../../src/engine/preprocessing.js';
import { Rng } from '../../src/engine/rng.js';
import type { NetworkSpec } from '../../src/engine/spec.js';
import type { Targets } from '../../src/engine/losses.js';
import type { FuzzCase } from './case.js';

export interface CaseData {
  /** Raw rows (rows × features). */
  raw: Float32Array;
  /** Preprocessed rows (rows × inputs): what the networks see. */
  x: Float32Array;
  inputs: number;
  targets: Targets;
  preprocessor: Preprocessor;
  spec: NetworkSpec;
}

export function networkSpec(c: FuzzCase, inputs: number): NetworkSpec {
  const spec: NetworkSpec = {
    inputs, layers: c.layers.map((l) => ({ ...l })), outputs: c.outputs, loss: c.loss,
    regularization: { ...c.regularization }, inputNoise: c.inputNoise,
  };
  if (c.init) spec.init = c.init;
  return spec;
}

export function generateData(c: FuzzCase): CaseData {
  const rng = new Rng(c.dataSeed);
  const n = c.rows, F = c.features;
  // Features: a few latent factors mixed, plus noise; per-feature scale 10^[-2, 2] and offset; ~1 in 16 constant.
  const latent = Math.min(F, 4);
  const mix = new Float64Array(latent * F);
  rng.fillNormal(mix, 0, mix.length);
  const scale = Float64Array.from({ length: F }, () => Math.pow(10, 4 * rng.uniform() - 2));
  const offset = Float64Array.from({ length: F }, () => 3 * rng.normal());
  const constant = Uint8Array.from({ length: F }, () => +(F > 2 && rng.int(16) === 0));
  const raw = new Float32Array(n * F);
  const z = new Float64Array(latent);
  const noise = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    rng.fillNormal(z, 0, latent);
    rng.fillNormal(noise, 0, F, 0, 0.3);
    for (let f = 0; f < F; f++) {
      if (constant[f]) {
        raw[i * F + f] = offset[f];
        continue;
      }
      let v = noise[f];
      for (let t = 0; t < latent; t++) v += z[t] * mix[t * F + f];
      raw[i * F + f] = offset[f] + scale[f] * v;
    }
  }
  const preprocessor = Preprocessor.fit(c.preprocessing, raw, n, F);
  const x = preprocessor.apply(raw, n);
  const D = preprocessor.outputs, K = c.outputs;
  // Targets from a random linear teacher on the preprocessed inputs (so that there is something to learn).
  const teacher = new Float64Array(D * K);
  rng.fillNormal(teacher, 0, teacher.length, 0, 1 / Math.sqrt(D));
  const scores = new Float64Array(K);
  const labels = new Int32Array(n);
  const values = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    scores.fill(0);
    for (let d = 0; d < D; d++) {
      const v = x[i * D + d];
      if (v !== 0) for (let k = 0; k < K; k++) scores[k] += v * teacher[d * K + k];
    }
    let best = 0;
    for (let k = 1; k < K; k++) if (scores[k] > scores[best]) best = k;
    labels[i] = K === 1 ? +(scores[0] + 0.2 * rng.normal() > 0) : rng.int(8) === 0 ? rng.int(K) : best;
    for (let k = 0; k < K; k++) {
      values[i * K + k] = c.loss === 'logistic' ? 1 / (1 + Math.exp(-2 * scores[k])) : scores[k] + 0.1 * rng.normal();
    }
  }
  const targets: Targets = c.loss === 'l2' || (c.loss === 'logistic' && c.floatTargets) ? values : labels;
  return { raw, x, inputs: D, targets, preprocessor, spec: networkSpec(c, D) };
}

/** Rows [start, start + rows) of the targets. */
export function targetRows(t: Targets, K: number, start: number, rows: number): Targets {
  return t instanceof Int32Array ? t.subarray(start, start + rows) : t.subarray(start * K, (start + rows) * K);
}
