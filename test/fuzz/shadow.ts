/**
 * The fuzzer's tolerance model: an independent float64 implementation of the network's forward pass, loss, backward
 * pass, penalty and optimizer update that carries, next to every value v, an ERROR SCALE s — how far the float32 fast
 * context may be from the exact (float64) result, derived operation by operation from the float32 arithmetic:
 *
 *   u = 2⁻²⁴ (float32 unit roundoff); every comparison of fast against the float64 reference passes when
 *       |fast − ref| ≤ MULT·s + ABS_SLACK + REL_SLACK·|ref|          (MULT = 16, see below)
 *
 * - Matmuls (C = A·B, K terms, f32 accumulation in increasing k, with or without FMA): the rounding error of the
 *   accumulation is Σ_k δ_k·S_k (+ δ'_k·t_k without FMA), |δ| ≤ u, S_k the partial sums, t_k the products. Its scale is
 *   taken as u·√(Σ_k S_k² + t_k²), computed exactly from the reference's own partial sums — the root-sum-square of the
 *   worst case of each rounding. Errors already in the operands propagate, over the features of a layer (forward, dx),
 *   as √(Σ_k s_A² B² + A² s_B²); over the rows of a batch (dW, db, dα) linearly, as Σ_k s_A·|B| + |A|·s_B, because
 *   rows can carry the very same error (identical hinge gradients through the same weights). So the bound of an output
 *   grows like √K·u relative for incoherent sums and like K·u for coherent ones (all S_k growing).
 *   Root-sum-square over features rather than the worst-case Σ|·| is what keeps the bound useful on deep wide nets: a
 *   worst-case bound grows by ‖|W|‖ ≈ √K per layer (10⁶ after four 1024-wide layers), which would let any bug through,
 *   while errors of different units meet weights of independent signs and add in quadrature; MULT = 16 standard
 *   scales covers their tails (a single rounding is already covered by 1 scale) and occasional coherence.
 * - Element-wise float32 operations add u·|result| per rounding (the polynomial sigmoid/tanh/exp/log of the kernels
 *   4u·|result|, their stated 1.5 ulp with margin); hyperparameters rounded to float32 inside the kernels (learning rate,
 *   β, ε, l2, l1, 1/c₂, the loss scale 1/n) add u relative to each term they multiply; values flushed below 1e-30
 *   (weights, velocities, loss gradients, sigmoid outputs) and float32 underflow (of g² in the adaptive moments) add
 *   1e-30 absolute.
 * - Smooth non-linearities scale the incoming error by their largest derivative over the uncertainty interval
 *   v ± MULT·s (sigmoid, tanh); softmax by its ratio bound p'/p ∈ e^±(Δ_j + max Δ); the adaptive update m/(√v + ε) by
 *   its extremes over the corners of the box m ± MULT·s_m, v ± MULT·s_v.
 * - Kinks are where a float32 rounding can change a discrete decision: ReLU/leaky/PReLU at 0, the maxout argmax, the
 *   hinge margins, the argmax of accuracy and decision grids. Where the reference value lies within MULT·s of the kink,
 *   the decision is AMBIGUOUS and the error scale of everything downstream gets the full jump (e.g. |dy|·|1 − α| for a
 *   ReLU derivative, 1/n for a hinge gradient entry); accuracy may differ by the ambiguous rows.
 *
 * Why training is compared after ONE step: the fuzzer re-synchronizes the float64 reference to the fast network's exact
 * float32 state (saveState → restoreState) before every operation, so every comparison covers a single forward,
 * backward and update from identical parameters, optimizer moments and RNG state. Over many steps the two runs would
 * diverge chaotically (a flipped ReLU changes the trajectory) and no tolerance derived from the operation could hold;
 * after one step the bound above is tight enough to catch wrong values (a bug is off by far more than 16 scales), and
 * exact cross-thread identity over long sequences is checked separately, bit for bit.
 *
 * Scope: operations whose values exceed FLOAT32_SAFE (1e15; diverged training) are not compared with the reference —
 * float32 overflows there where float64 does not — and are counted in the report.
 *
 * Values AND scales are computed here, independently of the engine's numerics (layers, ops, losses, update rules): the
 * fuzzer checks this model against the engine's float64 reference with the same allowances, so a model that drifted
 * from the engine's math would be reported too. Taken from the engine: the plan and layout (where each tensor is), the
 * optimizer config's defaults and schedules, the penalized ranges, and the RNG (to draw the same masks and noise).
 * The optimizer update is in ./shadow-update.ts, the constants in ./tolerance.ts.
 */
import type { OptimizerConfig } from '../../src/engine/optimizers.js';
import { layoutParams, type ParamLayout } from '../../src/engine/params.js';
import { weightRanges } from '../../src/engine/regularization.js';
import type { Rng } from '../../src/engine/rng.js';
import { planLayers, resolveSpec, type LayerPlan, type LossKind, type NetworkSpec, type ResolvedSpec } from '../../src/engine/spec.js';
import type { Targets } from '../../src/engine/losses.js';
import { optimizerUpdate } from './shadow-update.js';
import { FLUSH, MULT, U, type Bounded } from './tolerance.js';

/** The largest |value| of the arrays (Infinity if any is NaN). */
export function largest(...arrays: ArrayLike<number>[]): number {
  let m = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (!(v <= m)) m = Number.isNaN(v) ? Infinity : v;
    }
  }
  return m;
}

export function traceMagnitude(t: ForwardTrace): number {
  return largest(t.scores, ...t.layers.flatMap((l) => (l.v ? [l.y, l.v] : [l.y])));
}


export interface LayerTrace {
  plan: LayerPlan;
  /** Input (n × I) and output (n × O) with their error scales. */
  x: Float64Array;
  sx: Float64Array;
  y: Float64Array;
  sy: Float64Array;
  /** dense: z + b (n × O); maxout: z + b per piece (n × O·k). */
  v?: Float64Array;
  sv?: Float64Array;
  /** maxout: winning piece per unit (n × O) and whether another piece could win within the error. */
  arg?: Int32Array;
  ambiguous?: Uint8Array;
  /** dropout: the mask (0 or 1/(1 − p)). */
  mask?: Float64Array;
}

export interface ForwardTrace {
  n: number;
  layers: LayerTrace[];
  scores: Float64Array;
  sScores: Float64Array;
}

// ---- matmul with its rounding statistics -------------------------------------------------------------------------

interface GemmStats {
  /** C = A·B */
  c: Float64Array;
  /** Error scale of the f32 computation of C (see gemmStats). */
  s: Float64Array;
}

/**
 * C (M×N) = A (M×K) · B (K×N), row-major, k increasing, with the error scale of a float32 computation from operands
 * that carry error scales sA, sB (null: exact):
 *   rounding of the accumulation   u·√(Σ_k S_k² + t_k²)
 *   errors of the operands         √(Σ_k s_A²·B² + A²·s_B²)   over the features of a layer (independent terms), or
 *                                  Σ_k s_A·|B| + |A|·s_B        when `linear`: the sums over the rows of a batch (dW),
 * because rows can carry the very same error — identical hinge gradients ±1/n through the same weights give every row
 * the same rounding of dy, and a quadrature sum over 300 such rows fell 10 scales short of the coherent sum.
 */
function gemmStats(
  M: number, K: number, N: number, A: Float64Array, B: Float64Array, sA: Float64Array | null, sB: Float64Array | null, linear = false,
): GemmStats {
  const c = new Float64Array(M * N), r = new Float64Array(M * N), p = new Float64Array(M * N);
  const B2 = sA ? (linear ? B.map(Math.abs) : B.map((b) => b * b)) : null;
  const sB2 = sB ? (linear ? sB : sB.map((s) => s * s)) : null;
  for (let i = 0; i < M; i++) {
    const ci = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k];
      const sa = sA ? sA[i * K + k] : 0;
      const bo = k * N;
      if (a !== 0) {
        for (let j = 0; j < N; j++) {
          const t = a * B[bo + j];
          const acc = c[ci + j] + t;
          c[ci + j] = acc;
          r[ci + j] += acc * acc + t * t;
        }
        if (sB2) {
          const a2 = linear ? Math.abs(a) : a * a;
          for (let j = 0; j < N; j++) p[ci + j] += a2 * sB2[bo + j];
        }
      }
      if (sa !== 0) {
        const sa2 = linear ? sa : sa * sa;
        for (let j = 0; j < N; j++) p[ci + j] += sa2 * B2![bo + j];
      }
    }
  }
  const U2 = U * U;
  const s = new Float64Array(M * N);
  for (let i = 0; i < s.length; i++) s[i] = (linear ? p[i] : Math.sqrt(p[i])) + Math.sqrt(U2 * r[i]);
  return { c, s };
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

const anyNonZero = (a: Float64Array) => a.some((v) => v !== 0);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/**
 * σ'(v) at the point of [v − r, v + r] nearest 0 (the largest derivative there), as e^−|x|/(1 + e^−|x|)² — not
 * p·(1 − p), which cancels to 0 in float64 for |x| > 37 while the derivative (≈ p) still matters relative to p.
 */
export const sigmoidSlope = (v: number, r: number) => {
  const e = Math.exp(-Math.max(0, Math.abs(v) - r));
  return e / ((1 + e) * (1 + e));
};
/** tanh'(v) likewise: 1 − tanh²x = 4e^−2|x|/(1 + e^−2|x|)². */
const tanhSlope = (v: number, r: number) => {
  const e = Math.exp(-2 * Math.max(0, Math.abs(v) - r));
  return (4 * e) / ((1 + e) * (1 + e));
};

// ---- the model -----------------------------------------------------------------------------------------------------

export class Shadow {
  readonly resolved: ResolvedSpec;
  readonly plans: LayerPlan[];
  readonly layout: ParamLayout;

  constructor(spec: NetworkSpec) {
    this.resolved = resolveSpec(spec);
    this.plans = planLayers(this.resolved);
    this.layout = layoutParams(this.plans);
  }

  private entry(layer: string, role: 'weight' | 'bias' | 'alpha') {
    return this.layout.entries.find((e) => e.layer === layer && e.role === role)!;
  }

  private view(params: Float64Array, layer: string, role: 'weight' | 'bias' | 'alpha'): Float64Array {
    const e = this.entry(layer, role);
    return params.subarray(e.offset, e.offset + e.size);
  }

  /**
   * The forward pass over n rows of x (n × inputs). Training mode draws noise and dropout masks from `rng` in the
   * engine's order (forward order, one value per element); inference mode skips both.
   */
  forward(params: Float64Array, x: ArrayLike<number>, n: number, rng: Rng | null): ForwardTrace {
    const training = rng !== null;
    let cur: Float64Array = Float64Array.from({ length: n * this.resolved.inputs }, (_, i) => x[i]);
    let sCur: Float64Array = new Float64Array(cur.length);
    const layers: LayerTrace[] = [];
    for (const plan of this.plans) {
      const I = plan.inputs, O = plan.outputs;
      const t: LayerTrace = { plan, x: cur, sx: sCur, y: cur, sy: sCur };
      if (plan.kind === 'noise') {
        if (training) {
          const noise = new Float64Array(n * O);
          rng.fillNormal(noise, 0, noise.length, 0, plan.rate);
          t.y = new Float64Array(n * O);
          t.sy = new Float64Array(n * O);
          for (let i = 0; i < n * O; i++) {
            const y = cur[i] + noise[i];
            t.y[i] = y;
            t.sy[i] = sCur[i] + U * Math.abs(noise[i]) + U * Math.abs(y); // noise rounded to f32, then the f32 add
          }
        }
      } else if (plan.kind === 'dropout') {
        if (training) {
          const threshold = Math.floor(plan.rate * 4294967296), scale = 1 / (1 - plan.rate);
          t.mask = new Float64Array(n * O);
          t.y = new Float64Array(n * O);
          t.sy = new Float64Array(n * O);
          for (let i = 0; i < n * O; i++) {
            const m = rng.nextUint32() >= threshold ? scale : 0;
            t.mask[i] = m;
            t.y[i] = cur[i] * m;
            t.sy[i] = m * sCur[i] + 2 * U * Math.abs(t.y[i]); // f32 mask (1/(1 − p) rounded), f32 product
          }
        }
      } else if (plan.kind === 'dense') {
        const W = this.view(params, plan.name, 'weight'), b = this.view(params, plan.name, 'bias');
        const alpha = plan.activation === 'prelu' ? this.view(params, plan.name, 'alpha') : null;
        const g = gemmStats(n, I, O, cur, W, anyNonZero(sCur) ? sCur : null, null);
        const v = g.c, sv = g.s;
        for (let i = 0; i < n * O; i++) {
          v[i] += b[i % O];
          sv[i] += U * Math.abs(v[i]); // the bias add in f32
        }
        const y = new Float64Array(n * O), sy = new Float64Array(n * O);
        const f = plan.activation!;
        for (let i = 0; i < n * O; i++) {
          const z = v[i], s = sv[i];
          switch (f) {
            case 'identity': y[i] = z; sy[i] = s; break;
            case 'relu': y[i] = z > 0 ? z : 0; sy[i] = s; break;
            case 'leaky-relu': {
              const a = plan.alpha;
              y[i] = z > 0 ? z : a * z;
              sy[i] = Math.max(1, a) * s + U * Math.abs(y[i]);
              break;
            }
            case 'prelu': {
              const a = alpha![i % O];
              y[i] = z > 0 ? z : a * z;
              sy[i] = Math.max(1, Math.abs(a)) * s + U * Math.abs(y[i]);
              break;
            }
            case 'sigmoid': y[i] = sigmoid(z); sy[i] = sigmoidSlope(z, MULT * s) * s + 4 * U * y[i] + FLUSH; break;
            case 'tanh': y[i] = Math.tanh(z); sy[i] = tanhSlope(z, MULT * s) * s + 4 * U * Math.abs(y[i]); break;
            default: throw new Error(`shadow: activation ${f} in a dense layer`);
          }
        }
        Object.assign(t, { v, sv, y, sy });
      } else {
        const k = plan.pieces, width = O * k;
        const W = this.view(params, plan.name, 'weight'), b = this.view(params, plan.name, 'bias');
        const g = gemmStats(n, I, width, cur, W, anyNonZero(sCur) ? sCur : null, null);
        const v = g.c, sv = g.s;
        for (let i = 0; i < n * width; i++) v[i] += b[i % width]; // added in f64 by the engine, rounded only as output
        const y = new Float64Array(n * O), sy = new Float64Array(n * O);
        const arg = new Int32Array(n * O), ambiguous = new Uint8Array(n * O);
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < O; j++) {
            const o = r * width + j * k;
            let at = 0;
            for (let p = 1; p < k; p++) if (v[o + p] > v[o + at]) at = p;
            const best = v[o + at];
            let s = sv[o + at], candidates = 0;
            for (let p = 0; p < k; p++) {
              if (v[o + p] >= best - MULT * (sv[o + p] + sv[o + at])) {
                candidates++;
                s = Math.max(s, sv[o + p]);
              }
            }
            y[r * O + j] = best;
            sy[r * O + j] = s + U * Math.abs(best);
            arg[r * O + j] = at;
            ambiguous[r * O + j] = +(candidates > 1);
          }
        }
        Object.assign(t, { v, sv, y, sy, arg, ambiguous });
      }
      layers.push(t);
      cur = t.y;
      sCur = t.sy;
    }
    return { n, layers, scores: cur, sScores: sCur };
  }

  /**
   * Loss of each row (bounded) and, when `scale` is given, the gradient scale·∂(Σ loss)/∂scores (bounded) — as the
   * network computes them with scale = 1/n.
   */
  loss(scores: Float64Array, sScores: Float64Array, targets: Targets, n: number, scale: number | null): { rows: Bounded; grad: Bounded | null } {
    const K = this.resolved.outputs, kind: LossKind = this.resolved.loss;
    const rows: Bounded = { v: new Float64Array(n), s: new Float64Array(n) };
    const grad: Bounded | null = scale === null ? null : { v: new Float64Array(n * K), s: new Float64Array(n * K) };
    for (let i = 0; i < n; i++) {
      const o = i * K;
      if (kind === 'softmax') {
        const y = (targets as Int32Array)[i];
        const { m, sMax, sum } = softmaxRow(scores, sScores, o, K);
        const L = Math.log(sum) - (scores[o + y] - m);
        rows.v[i] = L;
        // −log p_y moves by at most s_y + max_j s_j (p'_y/p_y ∈ e^{±(Δ_y + max Δ)}); the f32 row: exp, K-term sum, log.
        rows.s[i] = sScores[o + y] + sMax + (K + 8) * U * (1 + Math.abs(L) + Math.abs(scores[o + y] - m));
        if (grad) {
          for (let j = 0; j < K; j++) {
            const p = Math.exp(scores[o + j] - m) / sum;
            const g = scale! * (p - (j === y ? 1 : 0));
            grad.v[o + j] = g;
            const dev = Math.min(1, p * Math.expm1(Math.min(700, MULT * (sScores[o + j] + sMax))));
            grad.s[o + j] = scale! * (dev / MULT + (K + 8) * U * p) + 2 * U * Math.abs(g) + FLUSH;
          }
        }
      } else if (kind === 'logistic') {
        for (let j = 0; j < K; j++) {
          const t = targets instanceof Int32Array ? (K === 1 ? targets[i] : +(targets[i] === j)) : targets[o + j];
          const s = scores[o + j], ss = sScores[o + j];
          rows.v[i] += Math.max(s, 0) - t * s + Math.log1p(Math.exp(-Math.abs(s)));
          rows.s[i] += ss; // |∂L/∂s| = |σ(s) − t| ≤ 1
          if (grad) {
            const g = scale! * (sigmoid(s) - t);
            grad.v[o + j] = g;
            grad.s[o + j] = scale! * sigmoidSlope(s, MULT * ss) * ss + U * Math.abs(g) + FLUSH;
          }
        }
      } else if (kind === 'svm') {
        const labels = targets as Int32Array;
        if (K === 1) {
          const t = labels[i] === 1 ? 1 : -1;
          const margin = 1 - t * scores[i], sm = sScores[i];
          rows.v[i] = Math.max(0, margin);
          rows.s[i] = margin > -MULT * sm ? sm : 0;
          if (grad) {
            grad.v[i] = margin > 0 ? -t * scale! : 0;
            grad.s[i] = Math.abs(margin) <= MULT * sm && sm > 0 ? scale! : 0; // the hinge may flip
          }
        } else {
          const y = labels[i], sy = scores[o + y], ssy = sScores[o + y];
          let violated = 0, flips = 0;
          for (let j = 0; j < K; j++) {
            if (j === y) continue;
            const margin = scores[o + j] - sy + 1, sm = sScores[o + j] + ssy;
            if (margin > 0) {
              rows.v[i] += margin;
              violated++;
            }
            if (margin > -MULT * sm) rows.s[i] += sm;
            const flip = Math.abs(margin) <= MULT * sm && sm > 0;
            if (flip) flips++;
            if (grad) {
              grad.v[o + j] = margin > 0 ? scale! : 0;
              grad.s[o + j] = flip ? scale! : 0;
            }
          }
          if (grad) {
            grad.v[o + y] = -violated * scale!;
            grad.s[o + y] = flips * scale!;
          }
        }
      } else {
        const t = targets as Float32Array;
        for (let j = 0; j < K; j++) {
          const d = scores[o + j] - t[o + j], sd = sScores[o + j];
          rows.v[i] += 0.5 * d * d;
          rows.s[i] += Math.abs(d) * sd + 0.5 * MULT * sd * sd;
          if (grad) {
            grad.v[o + j] = scale! * d;
            grad.s[o + j] = scale! * sd + U * Math.abs(scale! * d);
          }
        }
      }
    }
    return { rows, grad };
  }

  /**
   * The backward pass: the gradient of the data loss with respect to every parameter (in the padded layout), from the
   * gradient with respect to the scores.
   */
  backward(params: Float64Array, trace: ForwardTrace, dScores: Bounded): Bounded {
    const n = trace.n, L = this.plans.length;
    const grads: Bounded = { v: new Float64Array(this.layout.bufferLength), s: new Float64Array(this.layout.bufferLength) };
    const learnsBefore = this.plans.map((_, l) => this.plans.slice(0, l).some((p) => p.parameterCount > 0));
    let dy: Float64Array = dScores.v, sdy: Float64Array = dScores.s;
    for (let l = L - 1; l >= 0; l--) {
      const t = trace.layers[l], plan = t.plan, I = plan.inputs, O = plan.outputs;
      const needDx = learnsBefore[l];
      if (plan.parameterCount === 0 && !needDx) break;
      if (plan.kind === 'dropout') {
        const dx = new Float64Array(n * O), sdx = new Float64Array(n * O);
        for (let i = 0; i < n * O; i++) {
          const m = t.mask ? t.mask[i] : 1;
          dx[i] = dy[i] * m;
          sdx[i] = m * sdy[i] + 2 * U * Math.abs(dx[i]);
        }
        dy = dx;
        sdy = sdx;
        continue;
      }
      if (plan.kind === 'noise') continue; // dx = dy
      // dz (n × width) from dy, then db, dW and dx.
      const k = plan.kind === 'maxout' ? plan.pieces : 1, width = O * k;
      const dz = new Float64Array(n * width), sdz = new Float64Array(n * width);
      const gb = this.entry(plan.name, 'bias');
      const db = grads.v.subarray(gb.offset, gb.offset + width), sdb = grads.s.subarray(gb.offset, gb.offset + width);
      if (plan.kind === 'maxout') {
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < O; j++) {
            const i = r * O + j, o = r * width + j * k;
            dz[o + t.arg![i]] = dy[i];
            if (t.ambiguous![i]) {
              const best = t.v![o + t.arg![i]];
              for (let p = 0; p < k; p++) {
                if (t.v![o + p] >= best - MULT * (t.sv![o + p] + t.sv![o + t.arg![i]])) sdz[o + p] = Math.abs(dy[i]) + MULT * sdy[i];
              }
            } else sdz[o + t.arg![i]] = sdy[i];
          }
        }
      } else {
        const f = plan.activation!;
        const alpha = f === 'prelu' ? this.view(params, plan.name, 'alpha') : null;
        const ga = f === 'prelu' ? this.entry(plan.name, 'alpha') : null;
        const dalphaS = new Float64Array(O);
        for (let i = 0; i < n * O; i++) {
          const j = i % O, v = t.v![i], sv = t.sv![i], a = t.y[i], sa = t.sy[i];
          const g = dy[i], sg = sdy[i];
          let d: number, sd: number;
          if (f === 'identity') {
            d = g;
            sd = sg;
          } else if (f === 'relu' || f === 'leaky-relu' || f === 'prelu') {
            const slope = f === 'relu' ? 0 : f === 'leaky-relu' ? plan.alpha : alpha![j];
            const positive = v > 0;
            const factor = positive ? 1 : slope;
            d = g * factor;
            sd = Math.abs(factor) * sg;
            const flip = Math.abs(v) <= MULT * sv && sv > 0;
            if (flip) sd += (Math.abs(g) + MULT * sg) * Math.abs(1 - slope);
            if (f === 'prelu') {
              // dα_j = Σ_rows dy·v·[v ≤ 0] (row errors add linearly, as for db)
              if (!positive) {
                grads.v[ga!.offset + j] += g * v;
                dalphaS[j] += Math.abs(v) * sg + Math.abs(g) * sv + MULT * sg * sv;
              }
              if (flip) dalphaS[j] += (Math.abs(g) + MULT * sg) * MULT * sv;
            }
          } else if (f === 'sigmoid') {
            const fp = a * (1 - a), sfp = Math.abs(1 - 2 * a) * sa + MULT * sa * sa;
            d = g * fp;
            sd = fp * sg + (Math.abs(g) + MULT * sg) * sfp;
          } else {
            const fp = 1 - a * a, sfp = 2 * Math.abs(a) * sa + MULT * sa * sa;
            d = g * fp;
            sd = fp * sg + (Math.abs(g) + MULT * sg) * sfp;
          }
          dz[i] = d;
          sdz[i] = sd + U * Math.abs(d);
        }
        if (ga) {
          for (let j = 0; j < O; j++) grads.s[ga.offset + j] = dalphaS[j] + U * Math.abs(grads.v[ga.offset + j]);
        }
      }
      // db = Σ_rows dz (f64 column sums, stored f32); row errors add linearly (they can be the same, see gemmStats)
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < width; j++) {
          db[j] += dz[r * width + j];
          sdb[j] += sdz[r * width + j];
        }
      }
      for (let j = 0; j < width; j++) sdb[j] += U * Math.abs(db[j]);
      // dW = xᵀ·dz (I × width), K = n
      const gw = this.entry(plan.name, 'weight');
      const dW = gemmStats(I, n, width, transpose(t.x, n, I), dz, anyNonZero(t.sx) ? transpose(t.sx, n, I) : null, sdz, true);
      grads.v.set(dW.c, gw.offset);
      grads.s.set(dW.s, gw.offset);
      if (needDx) {
        // dx = dz·Wᵀ (n × I), K = width
        const W = this.view(params, plan.name, 'weight');
        const dx = gemmStats(n, width, I, dz, transpose(W, I, width), sdz, null);
        dy = dx.c;
        sdy = dx.s;
      }
    }
    return grads;
  }

  /**
   * One training step as Network.trainStep does it, from parameters and optimizer state (float32 values, here as
   * float64): forward (training), loss, backward, penalty, update. Returns everything the fuzzer compares.
   */
  trainStep(state: ShadowState, x: ArrayLike<number>, targets: Targets, n: number, rng: Rng): ShadowStep {
    const params = state.params;
    const trace = this.forward(params, x, n, rng);
    const { rows, grad } = this.loss(trace.scores, trace.sScores, targets, n, 1 / n);
    const grads = this.backward(params, trace, grad!);
    let dataLoss = 0, sDataLoss = 0;
    for (let i = 0; i < n; i++) {
      dataLoss += rows.v[i];
      sDataLoss += rows.s[i];
    }
    dataLoss /= n;
    sDataLoss /= n;
    // penalty: g += l2·w + l1·sign(w) over the weights; its value ½·l2·Σw² + l1·Σ|w| (f32 block sums)
    const { l2, l1 } = this.resolved.regularization;
    let regLoss = 0;
    if (l2 !== 0 || l1 !== 0) {
      let squares = 0, absolutes = 0;
      for (const [start, end] of weightRanges(this.layout)) {
        for (let i = start; i < end; i++) {
          const w = params[i];
          squares += w * w;
          absolutes += Math.abs(w);
          const pen = l2 * w + l1 * Math.sign(w);
          grads.v[i] += pen;
          grads.s[i] += 3 * U * (Math.abs(l2 * w) + l1) + U * Math.abs(grads.v[i]);
        }
      }
      regLoss = 0.5 * l2 * squares + l1 * absolutes;
    }
    const sRegLoss = 16 * U * regLoss;
    let gradSquares = 0, sNorm2 = 0;
    for (let i = 0; i < grads.v.length; i++) {
      gradSquares += grads.v[i] ** 2;
      sNorm2 += grads.s[i] ** 2;
    }
    const gradNorm = Math.sqrt(gradSquares);
    const update = optimizerUpdate(this.layout.bufferLength, state, grads);
    return {
      trace, grads, update,
      magnitude: Math.max(traceMagnitude(trace), largest(grads.v, update.params.v, ...update.buffers.map((b) => b.v), [dataLoss, regLoss])),
      dataLoss: { v: dataLoss, s: sDataLoss },
      regLoss: { v: regLoss, s: sRegLoss },
      loss: { v: dataLoss + regLoss, s: sDataLoss + sRegLoss },
      gradNorm: { v: gradNorm, s: Math.sqrt(sNorm2) + 8 * U * gradNorm },
    };
  }
}

/** What an update starts from: the network's parameters (padded), optimizer buffers and step, as float64. */
export interface ShadowState {
  params: Float64Array;
  buffers: Float64Array[];
  step: number;
  optimizer: OptimizerConfig;
}

export interface ShadowStep {
  trace: ForwardTrace;
  /** The largest magnitude of the step's values (see FLOAT32_SAFE). */
  magnitude: number;
  /** Gradient of the total loss (penalty included), padded layout. */
  grads: Bounded;
  update: { params: Bounded; buffers: Bounded[]; learningRate: number };
  dataLoss: { v: number; s: number };
  regLoss: { v: number; s: number };
  loss: { v: number; s: number };
  gradNorm: { v: number; s: number };
}

/**
 * One row's softmax pieces, from scores[o, o + K) and their error bounds sScores: the largest score m, the largest
 * bound sMax, and Σ e^(score − m). Shared by the loss (here) and predict's probabilities (./shadow-inference.ts).
 */
export function softmaxRow(scores: Float64Array, sScores: Float64Array, o: number, K: number): { m: number; sMax: number; sum: number } {
  let m = scores[o], sMax = 0;
  for (let j = 0; j < K; j++) {
    m = Math.max(m, scores[o + j]);
    sMax = Math.max(sMax, sScores[o + j]);
  }
  let sum = 0;
  for (let j = 0; j < K; j++) sum += Math.exp(scores[o + j] - m);
  return { m, sMax, sum };
}
