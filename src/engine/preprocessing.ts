/**
 * Input preprocessing (CS231n "Data preprocessing"), fitted on the training rows only and applied unchanged to any later
 * input (validation rows, predictions):
 *
 *   none         x
 *   center       x − μ
 *   standardize  (x − μ) / σ                                    σ: population std per feature; a constant feature gets σ = 1
 *   pca          ((x − μ) [/ σ]) · U_k                          U_k: top-k eigenvectors of the covariance (1/n)·XᵀX of the
 *                                                               centered [standardized] training rows
 *   whiten       ((x − μ) [/ σ]) · U_k / √(λ_k + ε)            λ: the matching eigenvalues; ε (default 1e-5) > 0
 *
 * Dimension letters: n rows, d input features, k output features. Everything is computed in float64 (the eigen
 * decomposition by ./eigen.ts). The fitted state is plain JSON ({@link FittedPreprocessing}: numbers, no NaN/∞), and a
 * restored preprocessor computes bit-identical outputs: JSON round-trips float64 numbers exactly.
 */
import { symmetricEigen } from './eigen.js';
import { SpecError, type SpecIssue } from './spec.js';

export type PreprocessingSpec =
  | { type: 'none' }
  | { type: 'center' }
  | { type: 'standardize' }
  /** components: k, 1 ≤ k ≤ d; standardize first (default false) */
  | { type: 'pca'; components: number; standardize?: boolean }
  /** components: default d; epsilon: default 1e-5; standardize first (default false) */
  | { type: 'whiten'; components?: number; epsilon?: number; standardize?: boolean };

/** The fitted parameters, JSON-safe. */
export interface FittedPreprocessing {
  format: 'trainyard-preprocessing';
  version: 1;
  spec: PreprocessingSpec;
  /** d */
  inputs: number;
  /** k (= d unless pca/whiten reduce it) */
  outputs: number;
  /** μ, d values (zeros for 'none'). */
  mean: number[];
  /** σ, d values (ones unless standardizing). */
  scale: number[];
  /** U_k, (d, k) row-major: column j is the j-th principal axis (pca/whiten), else null. */
  basis: number[] | null;
  /** λ_1 ≥ … ≥ λ_k, the variances along the axes (pca/whiten), else null. */
  variances: number[] | null;
  /** ε of whitening, else 0. */
  epsilon: number;
}

export const PREPROCESSING_TYPES = ['none', 'center', 'standardize', 'pca', 'whiten'] as const;

/** Every problem of a preprocessing spec for d inputs (empty when valid). */
export function validatePreprocessing(spec: unknown, inputs: number): SpecIssue[] {
  if (typeof spec !== 'object' || spec === null) return [{ path: '', message: 'must be an object' }];
  const s = spec as Record<string, unknown>;
  const issues: SpecIssue[] = [];
  if (!PREPROCESSING_TYPES.includes(s.type as (typeof PREPROCESSING_TYPES)[number])) {
    issues.push({ path: 'type', message: `must be one of ${PREPROCESSING_TYPES.join(', ')}` });
  }
  if (s.type === 'pca' || s.type === 'whiten') {
    const k = s.components;
    if ((s.type === 'pca' || k !== undefined) && !(typeof k === 'number' && Number.isInteger(k) && k >= 1 && k <= inputs)) {
      issues.push({ path: 'components', message: `must be an integer from 1 to the number of inputs (${inputs})` });
    }
    if (s.standardize !== undefined && typeof s.standardize !== 'boolean') issues.push({ path: 'standardize', message: 'must be a boolean' });
  }
  if (s.type === 'whiten' && s.epsilon !== undefined && !(typeof s.epsilon === 'number' && Number.isFinite(s.epsilon) && s.epsilon > 0)) {
    issues.push({ path: 'epsilon', message: 'must be a finite number > 0' });
  }
  return issues;
}

/** Rows per block of the covariance accumulation: a block, transposed, is d·B float64 (~200 KB at d = 784), cache-resident. */
const COV_BLOCK = 32;

/**
 * (1/n)·XᵀX of the centered, scaled rows ((x − μ) / σ), (d, d) row-major, symmetric. Sequential float64 with a fixed
 * summation order (deterministic): rows are taken COV_BLOCK at a time, transposed so that each feature's values over the
 * block are contiguous, and each upper-triangle entry gets the block's dot product (four entries at once); then mirrored.
 */
function covariance(x: ArrayLike<number>, n: number, d: number, mean: Float64Array, scale: Float64Array): Float64Array {
  const cov = new Float64Array(d * d);
  const B = COV_BLOCK;
  const xt = new Float64Array(d * B); // xt[f·B + t] = value of feature f in row t of the block
  for (let i0 = 0; i0 < n; i0 += B) {
    const rows = Math.min(B, n - i0);
    if (rows < B) xt.fill(0);
    for (let t = 0; t < rows; t++) {
      const o = (i0 + t) * d;
      for (let f = 0; f < d; f++) xt[f * B + t] = (x[o + f] - mean[f]) / scale[f];
    }
    // Two rows (a, a+1) by four columns (b … b+3) of cov at a time: 6 loads per 8 multiply-adds. Row a+1 also gets the
    // lower-triangle entry (a+1, a), which the final mirroring overwrites.
    let a = 0;
    for (; a + 1 < d; a += 2) {
      const oa = a * B, oa1 = oa + B, ca = a * d, ca1 = ca + d;
      let b = a;
      for (; b + 3 < d; b += 4) {
        const o0 = b * B, o1 = o0 + B, o2 = o1 + B, o3 = o2 + B;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        for (let t = 0; t < B; t++) {
          const u = xt[oa + t], v = xt[oa1 + t];
          const w0 = xt[o0 + t], w1 = xt[o1 + t], w2 = xt[o2 + t], w3 = xt[o3 + t];
          s0 += u * w0;
          s1 += u * w1;
          s2 += u * w2;
          s3 += u * w3;
          r0 += v * w0;
          r1 += v * w1;
          r2 += v * w2;
          r3 += v * w3;
        }
        cov[ca + b] += s0;
        cov[ca + b + 1] += s1;
        cov[ca + b + 2] += s2;
        cov[ca + b + 3] += s3;
        cov[ca1 + b] += r0;
        cov[ca1 + b + 1] += r1;
        cov[ca1 + b + 2] += r2;
        cov[ca1 + b + 3] += r3;
      }
      for (; b < d; b++) {
        const ob = b * B;
        let s0 = 0, r0 = 0;
        for (let t = 0; t < B; t++) {
          const w = xt[ob + t];
          s0 += xt[oa + t] * w;
          r0 += xt[oa1 + t] * w;
        }
        cov[ca + b] += s0;
        cov[ca1 + b] += r0;
      }
    }
    if (a < d) { // odd d: the last row is the single entry (d−1, d−1)
      const oa = a * B;
      let s0 = 0;
      for (let t = 0; t < B; t++) s0 += xt[oa + t] * xt[oa + t];
      cov[a * d + a] += s0;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n;
      cov[b * d + a] = cov[a * d + b];
    }
  }
  return cov;
}

export class Preprocessor {
  readonly inputs: number;
  readonly outputs: number;
  private readonly mean: Float64Array;
  private readonly invScale: Float64Array;
  /** (d, k) row-major: basis columns already divided by √(λ + ε) when whitening; null without a projection. */
  private readonly projection: Float64Array | null;

  private constructor(private readonly fitted: FittedPreprocessing) {
    this.inputs = fitted.inputs;
    this.outputs = fitted.outputs;
    this.mean = Float64Array.from(fitted.mean);
    this.invScale = Float64Array.from(fitted.scale, (s) => 1 / s);
    if (fitted.basis) {
      const k = fitted.outputs;
      this.projection = Float64Array.from(fitted.basis);
      if (fitted.spec.type === 'whiten') {
        const factors = fitted.variances!.map((v) => 1 / Math.sqrt(Math.max(v, 0) + fitted.epsilon));
        for (let i = 0; i < this.projection.length; i++) this.projection[i] *= factors[i % k];
      }
    } else this.projection = null;
  }

  /** Fits on n rows of x (n, d) row-major — the training rows only. Throws SpecError on a bad spec, RangeError on bad data. */
  static fit(spec: PreprocessingSpec, x: ArrayLike<number>, n: number, d: number): Preprocessor {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`inputs must be an integer ≥ 1, got ${d}`);
    const issues = validatePreprocessing(spec, d);
    if (issues.length) throw new SpecError(issues.map((i) => ({ path: `preprocessing.${i.path}`, message: i.message })));
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`preprocessing needs at least one row, got ${n}`);
    if (x.length < n * d) throw new RangeError(`x has ${x.length} values, ${n} rows of ${d} need ${n * d}`);
    for (let i = 0; i < n * d; i++) if (!Number.isFinite(x[i])) throw new RangeError(`x[${i}] is not finite`);

    const mean = new Float64Array(d);
    const scale = new Float64Array(d).fill(1);
    if (spec.type !== 'none') {
      for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += x[i * d + f];
      for (let f = 0; f < d; f++) mean[f] /= n;
    }
    const standardize = spec.type === 'standardize' || ((spec.type === 'pca' || spec.type === 'whiten') && spec.standardize === true);
    if (standardize) {
      const sq = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        for (let f = 0; f < d; f++) {
          const c = x[i * d + f] - mean[f];
          sq[f] += c * c;
        }
      }
      for (let f = 0; f < d; f++) {
        const std = Math.sqrt(sq[f] / n);
        scale[f] = std > 0 ? std : 1;
      }
    }

    let outputs = d, basis: number[] | null = null, variances: number[] | null = null, epsilon = 0;
    if (spec.type === 'pca' || spec.type === 'whiten') {
      outputs = spec.components ?? d;
      const cov = covariance(x, n, d, mean, scale);
      const { values, vectors } = symmetricEigen(cov, d);
      basis = [];
      for (let f = 0; f < d; f++) for (let j = 0; j < outputs; j++) basis.push(vectors[f * d + j]);
      variances = Array.from(values.subarray(0, outputs), (v) => Math.max(v, 0));
      if (spec.type === 'whiten') epsilon = spec.epsilon ?? 1e-5;
    }
    return new Preprocessor({
      format: 'trainyard-preprocessing',
      version: 1,
      spec: JSON.parse(JSON.stringify(spec)) as PreprocessingSpec,
      inputs: d,
      outputs,
      mean: Array.from(mean),
      scale: Array.from(scale),
      basis,
      variances,
      epsilon,
    });
  }

  /** A preprocessor from its toJSON() form (e.g. parsed from storage); validates the shape. */
  static fromJSON(json: unknown): Preprocessor {
    const f = json as Partial<FittedPreprocessing> | null;
    const fail = (why: string): never => {
      throw new RangeError(`not a fitted preprocessing: ${why}`);
    };
    if (!f || f.format !== 'trainyard-preprocessing' || f.version !== 1) return fail('format');
    const d = f.inputs, k = f.outputs;
    if (!Number.isInteger(d) || !Number.isInteger(k) || d! < 1 || k! < 1 || k! > d!) return fail('inputs/outputs');
    if (validatePreprocessing(f.spec, d!).length) return fail('spec');
    const numbers = (a: unknown, length: number, name: string) => {
      if (!Array.isArray(a) || a.length !== length || !a.every((v) => typeof v === 'number' && Number.isFinite(v))) fail(name);
    };
    numbers(f.mean, d!, 'mean');
    numbers(f.scale, d!, 'scale');
    if (f.scale!.some((s) => s <= 0)) fail('scale');
    const projects = f.spec!.type === 'pca' || f.spec!.type === 'whiten';
    if (projects) {
      numbers(f.basis, d! * k!, 'basis');
      numbers(f.variances, k!, 'variances');
    } else if (f.basis !== null || f.variances !== null || k !== d) fail('basis');
    if (!(typeof f.epsilon === 'number' && f.epsilon >= 0 && (f.spec!.type !== 'whiten' || f.epsilon > 0))) fail('epsilon');
    return new Preprocessor(JSON.parse(JSON.stringify(f)) as FittedPreprocessing);
  }

  toJSON(): FittedPreprocessing {
    return JSON.parse(JSON.stringify(this.fitted)) as FittedPreprocessing;
  }

  /** Transforms n rows of x (n, d) into out (n, k), a new Float32Array unless given. */
  apply(x: ArrayLike<number>, n: number): Float32Array<ArrayBuffer>;
  apply<O extends Float32Array | Float64Array>(x: ArrayLike<number>, n: number, out: O): O;
  apply(x: ArrayLike<number>, n: number, out: Float32Array | Float64Array = new Float32Array(n * this.outputs)): Float32Array | Float64Array {
    const d = this.inputs, k = this.outputs;
    if (x.length < n * d) throw new RangeError(`x has ${x.length} values, ${n} rows of ${d} need ${n * d}`);
    if (out.length < n * k) throw new RangeError(`out has ${out.length} values, ${n} rows of ${k} need ${n * k}`);
    const mean = this.mean, inv = this.invScale, P = this.projection;
    if (!P) {
      for (let i = 0; i < n * d; i++) out[i] = (x[i] - mean[i % d]) * inv[i % d];
      return out;
    }
    const acc = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      for (let f = 0; f < d; f++) {
        const v = (x[i * d + f] - mean[f]) * inv[f];
        for (let j = 0; j < k; j++) acc[j] += v * P[f * k + j];
      }
      for (let j = 0; j < k; j++) out[i * k + j] = acc[j];
    }
    return out;
  }
}
