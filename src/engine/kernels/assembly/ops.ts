/**
 * The element-wise kernels, AssemblyScript with 128-bit SIMD, built into one module with gemm.ts (see index.ts). Each one
 * has a TypeScript reference it is tested against (../../ops.ts → activations.ts, losses.ts, optimizers.ts,
 * regularization.ts, stats.ts).
 *
 * Dimension letters: n rows (the batch), u units (columns of a layer's output), k classes.
 *   z, a, da, dz  (n, u) row-major f32;  b, db, α, dα  (u)
 * Pointers are byte offsets into the (imported, shared) memory.
 *
 * Determinism: every output element is a pure function of its inputs (the same whichever lane, vector, chunk or thread
 * computes it), and every reduction runs in an order fixed by the data alone:
 *   - column sums (db, dα) add the rows of each column in increasing order, in f64;
 *   - the update's sums are made per chunk of CHUNK elements (chunk q covers [q·CHUNK, (q+1)·CHUNK)), in an order fixed
 *     within the chunk, and the caller adds the chunks' sums in chunk order.
 * So a pass split between threads by rows (forward), by columns (backward) or by chunks (update) gives the same bits
 * for any thread count.
 *
 * Arithmetic, against the TypeScript reference (which computes in f64 and rounds on store):
 *   - identity, ReLU, leaky ReLU and PReLU forward, and every activation's backward, do the reference's operations in
 *     the same order (in f64 where it computes in f64), so they give the reference's bits exactly;
 *   - sigmoid and tanh forward compute f(z + b) in f32: z + b rounded to f32 (the reference keeps it in f64), then f32
 *     polynomials (simd.ts; within 1.5 ulp), where the reference uses Math.exp / Math.tanh;
 *   - the softmax loss and the optimizer updates compute in f32 (with f64 sums), within a few ulp of the reference.
 */
import {
  exp4, flush, flushNonNegative, FLUSH_BELOW, high64, laneMask, loadPartial, log4, low64, madd, pack64, sigmoid4,
  storePartial, sum64, tanh4,
} from './simd';

// Activation codes (the order is mirrored by ../ops-wasm.ts).
const ACT_IDENTITY: i32 = 0;
const ACT_RELU: i32 = 1;
const ACT_LEAKY_RELU: i32 = 2;
const ACT_PRELU: i32 = 3;
const ACT_SIGMOID: i32 = 4;
const ACT_TANH: i32 = 5;

// ---- activation forward: a = f(z + b) ---------------------------------------------------------------------------------

/** f(z + b) of one vector of `count` lanes (1..4) at pz/pb/pα. PReLU also stores z + b (rounded to f32) back at pz. */
// @ts-ignore: decorator
@inline function forward4(f: i32, pz: usize, pb: usize, palpha: usize, slope: f64, count: i32): v128 {
  const zv = count == 4 ? v128.load(pz) : loadPartial(pz, count);
  const bv = count == 4 ? v128.load(pb) : loadPartial(pb, count);
  if (f == ACT_IDENTITY) return f32x4.add(zv, bv);
  if (f == ACT_RELU) {
    const v = f32x4.add(zv, bv);
    return f32x4.mul(f32x4.add(v, f32x4.abs(v)), f32x4.splat(0.5)); // exactly max(0, v), as the reference writes it
  }
  if (f == ACT_SIGMOID) return sigmoid4(f32x4.add(zv, bv));
  if (f == ACT_TANH) return tanh4(f32x4.add(zv, bv));
  // leaky ReLU, PReLU: v = z + b and α·v in f64, as the reference computes them.
  const lo = f64x2.add(low64(zv), low64(bv));
  const hi = f64x2.add(high64(zv), high64(bv));
  let alphaLo = f64x2.splat(slope), alphaHi = alphaLo;
  if (f == ACT_PRELU) {
    storePartial(pz, f32x4.add(zv, bv), count);
    const av = count == 4 ? v128.load(palpha) : loadPartial(palpha, count);
    alphaLo = low64(av);
    alphaHi = high64(av);
  }
  return pack64(leaky64(lo, alphaLo), leaky64(hi, alphaHi));
}

/** The reference's v·s + α·v·(1 − s) with s = [v > 0], literally (so that −0, ±∞ and NaN come out the same). */
// @ts-ignore: decorator
@inline function leaky64(v: v128, alpha: v128): v128 {
  const one = f64x2.splat(1);
  const s = v128.and(f64x2.gt(v, f64x2.splat(0)), one);
  return f64x2.add(f64x2.mul(v, s), f64x2.mul(f64x2.mul(alpha, v), f64x2.sub(one, s)));
}

/** The reference's s + α·(1 − s) with s = [a > 0]: the slope factor of (leaky/parametric) ReLU's gradient. */
// @ts-ignore: decorator
@inline function slopeFactor64(a: v128, alpha: v128): v128 {
  const one = f64x2.splat(1);
  const s = v128.and(f64x2.gt(a, f64x2.splat(0)), one);
  return f64x2.add(s, f64x2.mul(alpha, f64x2.sub(one, s)));
}

// @ts-ignore: decorator
@inline function forwardRows(f: i32, z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  const ld = <usize>u << 2;
  const full = u & ~3, rest = u & 3;
  for (let i = row0; i < row1; i++) {
    const zr = z + <usize>i * ld, ar = a + <usize>i * ld;
    for (let j = 0; j < full; j += 4) {
      const o = <usize>j << 2;
      v128.store(ar + o, forward4(f, zr + o, b + o, alpha + o, slope, 4));
    }
    if (rest != 0) {
      const o = <usize>full << 2;
      storePartial(ar + o, forward4(f, zr + o, b + o, alpha + o, slope, rest), rest);
    }
  }
}

/**
 * Rows [row0, row1) of a = f(z + b). `a` may be `z` (in place) except for PReLU, which also overwrites z with z + b.
 * `alpha` (PReLU slopes, u) and `slope` (leaky ReLU) are read only by those activations.
 */
export function activationForward(f: i32, z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  switch (f) {
    case ACT_IDENTITY: forwardIdentity(z, b, a, alpha, slope, u, row0, row1); break;
    case ACT_RELU: forwardRelu(z, b, a, alpha, slope, u, row0, row1); break;
    case ACT_LEAKY_RELU: forwardLeakyRelu(z, b, a, alpha, slope, u, row0, row1); break;
    case ACT_PRELU: forwardPrelu(z, b, a, alpha, slope, u, row0, row1); break;
    case ACT_SIGMOID: forwardSigmoid(z, b, a, alpha, slope, u, row0, row1); break;
    case ACT_TANH: forwardTanh(z, b, a, alpha, slope, u, row0, row1); break;
    default: unreachable();
  }
}

// One function per activation: Binaryen folds the arms of a switch over inlined copies back into one loop that tests the
// activation per vector, but keeps separate functions specialized.
function forwardIdentity(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_IDENTITY, z, b, a, alpha, slope, u, row0, row1);
}
function forwardRelu(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_RELU, z, b, a, alpha, slope, u, row0, row1);
}
function forwardLeakyRelu(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_LEAKY_RELU, z, b, a, alpha, slope, u, row0, row1);
}
function forwardPrelu(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_PRELU, z, b, a, alpha, slope, u, row0, row1);
}
function forwardSigmoid(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_SIGMOID, z, b, a, alpha, slope, u, row0, row1);
}
function forwardTanh(z: usize, b: usize, a: usize, alpha: usize, slope: f64, u: i32, row0: i32, row1: i32): void {
  forwardRows(ACT_TANH, z, b, a, alpha, slope, u, row0, row1);
}

// ---- activation backward: dz = da ⊙ f'(…), db = Σ_rows dz ----------------------------------------------------------

/**
 * The reference's g = ∂loss/∂(z + b) in f64, from da and a (one f64x2 half): leaky ReLU da·(a > 0 ? 1 : α),
 * sigmoid (da·a)·(1 − a), tanh da·(1 − a²).
 */
// @ts-ignore: decorator
@inline function grad64(f: i32, da: v128, a: v128, slope: v128): v128 {
  const one = f64x2.splat(1);
  if (f == ACT_LEAKY_RELU) return f64x2.mul(da, slopeFactor64(a, slope));
  if (f == ACT_SIGMOID) return f64x2.mul(f64x2.mul(da, a), f64x2.sub(one, a));
  return f64x2.mul(da, f64x2.sub(one, f64x2.mul(a, a))); // tanh
}

/** g in f32 for the activations whose g is exact in f32: identity da, ReLU da·[a > 0] (a product, so −0 and NaN match). */
// @ts-ignore: decorator
@inline function grad32(f: i32, da: v128, a: v128): v128 {
  if (f == ACT_IDENTITY) return da;
  return f32x4.mul(da, v128.and(f32x4.gt(a, f32x4.splat(0)), f32x4.splat(1)));
}

/** One f64x2 half of g: from grad32 (identity, ReLU), PReLU da·(s + α·(1 − s)), or grad64. */
// @ts-ignore: decorator
@inline function gradHalf(f: i32, g32: v128, da: v128, a: v128, alpha: v128, slope: v128): v128 {
  if (f == ACT_IDENTITY || f == ACT_RELU) return g32;
  if (f == ACT_PRELU) return f64x2.mul(da, slopeFactor64(a, alpha));
  return grad64(f, da, a, slope);
}

/** PReLU's dα term da·v·(1 − s), s = [v > 0], for one f64x2 half. */
// @ts-ignore: decorator
@inline function dalphaHalf(da: v128, v: v128): v128 {
  const one = f64x2.splat(1);
  return f64x2.mul(f64x2.mul(da, v), f64x2.sub(one, v128.and(f64x2.gt(v, f64x2.splat(0)), one)));
}

/**
 * Columns [c, c + width) of the backward pass, all n rows, with f64 column sums (rows in order); width 8 (two vectors),
 * 4 (one), or 1..3. For PReLU, `a` holds z + b (as its forward left it) and dα = Σ_rows da·(z + b)·[z + b ≤ 0] is
 * summed too. (The two vectors are written out: a loop over them is not unrolled, and would pick its accumulators by
 * branching.)
 */
// @ts-ignore: decorator
@inline function backwardColumns(
  f: i32, a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, c: i32, width: i32,
): void {
  const ld = <usize>u << 2;
  const o = <usize>c << 2;
  const two = width == 8;
  const count = two ? 4 : width;
  const exact32 = f == ACT_IDENTITY || f == ACT_RELU;
  const store = f != ACT_IDENTITY || dz != da;
  const zero = f64x2.splat(0);
  const slope64 = f64x2.splat(slope);
  let s0 = zero, s1 = zero, s2 = zero, s3 = zero; // db: lanes 0-1, 2-3 of vector 0, then of vector 1
  let t0 = zero, t1 = zero, t2 = zero, t3 = zero; // dα
  let al0 = zero, ah0 = zero, al1 = zero, ah1 = zero; // PReLU slopes in f64
  if (f == ACT_PRELU) {
    const av = count == 4 ? v128.load(alpha + o) : loadPartial(alpha + o, count);
    al0 = low64(av);
    ah0 = high64(av);
    if (two) {
      const av1 = v128.load(alpha + o + 16);
      al1 = low64(av1);
      ah1 = high64(av1);
    }
  }
  let p = o;
  for (let i = 0; i < n; i++, p += ld) {
    const da0 = count == 4 ? v128.load(da + p) : loadPartial(da + p, count);
    const a0 = count == 4 ? v128.load(a + p) : loadPartial(a + p, count);
    const g0 = exact32 ? grad32(f, da0, a0) : da0;
    const lo0 = gradHalf(f, exact32 ? low64(g0) : zero, low64(da0), low64(a0), al0, slope64);
    const hi0 = gradHalf(f, exact32 ? high64(g0) : zero, high64(da0), high64(a0), ah0, slope64);
    if (store) storePartial(dz + p, exact32 ? g0 : pack64(lo0, hi0), count);
    s0 = f64x2.add(s0, lo0);
    s1 = f64x2.add(s1, hi0);
    if (f == ACT_PRELU) {
      t0 = f64x2.add(t0, dalphaHalf(low64(da0), low64(a0)));
      t1 = f64x2.add(t1, dalphaHalf(high64(da0), high64(a0)));
    }
    if (two) {
      const q = p + 16;
      const da1 = v128.load(da + q), a1 = v128.load(a + q);
      const g1 = exact32 ? grad32(f, da1, a1) : da1;
      const lo1 = gradHalf(f, exact32 ? low64(g1) : zero, low64(da1), low64(a1), al1, slope64);
      const hi1 = gradHalf(f, exact32 ? high64(g1) : zero, high64(da1), high64(a1), ah1, slope64);
      if (store) v128.store(dz + q, exact32 ? g1 : pack64(lo1, hi1));
      s2 = f64x2.add(s2, lo1);
      s3 = f64x2.add(s3, hi1);
      if (f == ACT_PRELU) {
        t2 = f64x2.add(t2, dalphaHalf(low64(da1), low64(a1)));
        t3 = f64x2.add(t3, dalphaHalf(high64(da1), high64(a1)));
      }
    }
  }
  storePartial(db + o, pack64(s0, s1), count);
  if (two) v128.store(db + o + 16, pack64(s2, s3));
  if (f == ACT_PRELU) {
    storePartial(dalpha + o, pack64(t0, t1), count);
    if (two) v128.store(dalpha + o + 16, pack64(t2, t3));
  }
}

/**
 * Columns [c, c + 16) of the backward pass of identity or ReLU (g exact in f32), all n rows: four vectors, eight f64
 * column sums (more independent additions per row than backwardColumns' four).
 */
// @ts-ignore: decorator
@inline function backwardColumns16(f: i32, a: usize, da: usize, dz: usize, db: usize, n: i32, u: i32, c: i32): void {
  const ld = <usize>u << 2;
  const o = <usize>c << 2;
  const store = f != ACT_IDENTITY || dz != da;
  const zero = f64x2.splat(0);
  let s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero;
  const end = o + <usize>n * ld;
  for (let p = o; p < end; p += ld) {
    const g0 = grad32(f, v128.load(da + p), v128.load(a + p));
    const g1 = grad32(f, v128.load(da + p, 16), v128.load(a + p, 16));
    const g2 = grad32(f, v128.load(da + p, 32), v128.load(a + p, 32));
    const g3 = grad32(f, v128.load(da + p, 48), v128.load(a + p, 48));
    if (store) {
      v128.store(dz + p, g0);
      v128.store(dz + p, g1, 16);
      v128.store(dz + p, g2, 32);
      v128.store(dz + p, g3, 48);
    }
    s0 = f64x2.add(s0, low64(g0)); s1 = f64x2.add(s1, high64(g0));
    s2 = f64x2.add(s2, low64(g1)); s3 = f64x2.add(s3, high64(g1));
    s4 = f64x2.add(s4, low64(g2)); s5 = f64x2.add(s5, high64(g2));
    s6 = f64x2.add(s6, low64(g3)); s7 = f64x2.add(s7, high64(g3));
  }
  v128.store(db + o, pack64(s0, s1));
  v128.store(db + o, pack64(s2, s3), 16);
  v128.store(db + o, pack64(s4, s5), 32);
  v128.store(db + o, pack64(s6, s7), 48);
}

// @ts-ignore: decorator
@inline function backwardBlock(
  f: i32, a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32,
): void {
  let c = col0;
  if (f == ACT_IDENTITY || f == ACT_RELU) {
    for (; c + 16 <= col1; c += 16) backwardColumns16(f, a, da, dz, db, n, u, c);
  }
  for (; c + 8 <= col1; c += 8) backwardColumns(f, a, da, dz, db, alpha, dalpha, slope, n, u, c, 8);
  if (c + 4 <= col1) {
    backwardColumns(f, a, da, dz, db, alpha, dalpha, slope, n, u, c, 4);
    c += 4;
  }
  if (c < col1) backwardColumns(f, a, da, dz, db, alpha, dalpha, slope, n, u, c, col1 - c);
}

/**
 * Columns [col0, col1) of the backward pass of f over n rows: dz = da ⊙ f'(…) (dz may be da, in place) and
 * db = Σ_rows dz (written, not accumulated). `a` is f's output, except for PReLU where it is z + b; PReLU also writes
 * dα = Σ_rows da·(z + b)·[z + b ≤ 0].
 */
export function activationBackward(
  f: i32, a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32,
): void {
  switch (f) {
    case ACT_IDENTITY: backwardIdentity(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    case ACT_RELU: backwardRelu(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    case ACT_LEAKY_RELU: backwardLeakyRelu(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    case ACT_PRELU: backwardPrelu(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    case ACT_SIGMOID: backwardSigmoid(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    case ACT_TANH: backwardTanh(a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1); break;
    default: unreachable();
  }
}

// One function per activation (see forwardIdentity).
function backwardIdentity(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_IDENTITY, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}
function backwardRelu(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_RELU, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}
function backwardLeakyRelu(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_LEAKY_RELU, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}
function backwardPrelu(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_PRELU, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}
function backwardSigmoid(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_SIGMOID, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}
function backwardTanh(a: usize, da: usize, dz: usize, db: usize, alpha: usize, dalpha: usize, slope: f64, n: i32, u: i32, col0: i32, col1: i32): void {
  backwardBlock(ACT_TANH, a, da, dz, db, alpha, dalpha, slope, n, u, col0, col1);
}

// ---- softmax cross-entropy ------------------------------------------------------------------------------------------

/** Column j of the 4 rows at r0..r3 as one vector. */
// @ts-ignore: decorator
@inline function gather(r0: usize, r1: usize, r2: usize, r3: usize, j: usize): v128 {
  const o = j << 2;
  let v = f32x4.splat(load<f32>(r0 + o));
  v = f32x4.replace_lane(v, 1, load<f32>(r1 + o));
  v = f32x4.replace_lane(v, 2, load<f32>(r2 + o));
  return f32x4.replace_lane(v, 3, load<f32>(r3 + o));
}

// @ts-ignore: decorator
@inline function scatter(r0: usize, r1: usize, r2: usize, r3: usize, j: usize, v: v128): void {
  const o = j << 2;
  store<f32>(r0 + o, f32x4.extract_lane(v, 0));
  store<f32>(r1 + o, f32x4.extract_lane(v, 1));
  store<f32>(r2 + o, f32x4.extract_lane(v, 2));
  store<f32>(r3 + o, f32x4.extract_lane(v, 3));
}

/**
 * Σ over n rows of the softmax cross-entropy −log(e^{s_y} / Σ_j e^{s_j}) of scores (n, k) with class indices `labels`
 * (n i32, each in [0, k)), as log Σ_j e^{s_j − m} − (s_y − m) with m the row's maximum; unless grad is 0, also writes
 * grad (n, k) = scale·(p − 1_y), p flushed to 0 below FLUSH_BELOW. Rows go 4 at a time, one per lane; each row's loss is
 * rounded to f32, the sum is in f64, rows in order.
 */
export function softmaxCrossEntropy(scores: usize, k: i32, labels: usize, n: i32, grad: usize, scale: f32): f64 {
  const ld = <usize>k << 2;
  const K = <usize>k;
  let loss: f64 = 0;
  for (let i = 0; i < n; i += 4) {
    const rows = min(4, n - i);
    // Lanes past the last row repeat it (same values, same writes); their losses are not added.
    const s0 = scores + <usize>i * ld;
    const s1 = s0 + <usize>min(1, rows - 1) * ld, s2 = s0 + <usize>min(2, rows - 1) * ld, s3 = s0 + <usize>min(3, rows - 1) * ld;
    let m = gather(s0, s1, s2, s3, 0);
    for (let j: usize = 1; j < K; j++) m = f32x4.pmax(m, gather(s0, s1, s2, s3, j)); // (a NaN score makes the loss NaN anyway)
    let sum = f32x4.splat(0);
    const g0 = grad + <usize>i * ld;
    const g1 = g0 + (s1 - s0), g2 = g0 + (s2 - s0), g3 = g0 + (s3 - s0);
    for (let j: usize = 0; j < K; j++) {
      const e = exp4(f32x4.sub(gather(s0, s1, s2, s3, j), m));
      sum = f32x4.add(sum, e);
      if (grad != 0) scatter(g0, g1, g2, g3, j, e);
    }
    const y0 = <usize>load<i32>(labels + (<usize>i << 2));
    const y1 = <usize>load<i32>(labels + (<usize>(i + min(1, rows - 1)) << 2));
    const y2 = <usize>load<i32>(labels + (<usize>(i + min(2, rows - 1)) << 2));
    const y3 = <usize>load<i32>(labels + (<usize>(i + min(3, rows - 1)) << 2));
    if (grad != 0) {
      const f = f32x4.div(f32x4.splat(scale), sum);
      for (let j: usize = 0; j < K; j++) scatter(g0, g1, g2, g3, j, flushNonNegative(f32x4.mul(gather(g0, g1, g2, g3, j), f)));
      store<f32>(g0 + (y0 << 2), load<f32>(g0 + (y0 << 2)) - scale);
      if (rows > 1) store<f32>(g1 + (y1 << 2), load<f32>(g1 + (y1 << 2)) - scale);
      if (rows > 2) store<f32>(g2 + (y2 << 2), load<f32>(g2 + (y2 << 2)) - scale);
      if (rows > 3) store<f32>(g3 + (y3 << 2), load<f32>(g3 + (y3 << 2)) - scale);
    }
    let sy = f32x4.splat(load<f32>(s0 + (y0 << 2)));
    sy = f32x4.replace_lane(sy, 1, load<f32>(s1 + (y1 << 2)));
    sy = f32x4.replace_lane(sy, 2, load<f32>(s2 + (y2 << 2)));
    sy = f32x4.replace_lane(sy, 3, load<f32>(s3 + (y3 << 2)));
    const l = f32x4.sub(log4(sum), f32x4.sub(sy, m));
    loss += <f64>f32x4.extract_lane(l, 0);
    if (rows > 1) loss += <f64>f32x4.extract_lane(l, 1);
    if (rows > 2) loss += <f64>f32x4.extract_lane(l, 2);
    if (rows > 3) loss += <f64>f32x4.extract_lane(l, 3);
  }
  return loss;
}

// ---- optimizer update, regularization, sums of squares --------------------------------------------------------------

/** Elements per chunk of the update (a multiple of 4). Fixed: the update's sums are made per chunk (see the top). */
const CHUNK: i32 = 16384;

/** CHUNK, for the host. */
export function updateChunkSize(): i32 {
  return CHUNK;
}

// Update kinds (mirrored by ../ops-wasm.ts).
/** No update: the regularization gradient (when g is given and a penalty is set) and the sums only. */
const UPD_NONE: i32 = 0;
/** w −= lr·g */
const UPD_SGD: i32 = 1;
/** v = μv − lr·g; w += v */
const UPD_MOMENTUM: i32 = 2;
/** v = μv − lr·g; w += −μ·v_prev + (1 + μ)·v */
const UPD_NESTEROV: i32 = 3;
/** v = β₂v + γg²; w −= (lr/c₁)·g / (√(v/c₂) + ε)   (adagrad, rmsprop) */
const UPD_ADAPTIVE: i32 = 4;
/** m = β₁m + (1 − β₁)g; v = β₂v + γg²; w −= (lr/c₁)·m / (√(v/c₂) + ε)   (adam) */
const UPD_ADAPTIVE_MOMENT: i32 = 5;

// Argument block of an update (f64 slots; mirrored by ../ops-wasm.ts). Pointers are byte addresses; 0 = absent.
const A_KIND = 0, A_W = 1, A_G = 2, A_M = 3, A_V = 4, A_LENGTH = 5, A_SEGMENTS = 6, A_SEGMENT_COUNT = 7, A_PARTIALS = 8;
const A_LR = 9, A_MU = 10, A_BETA1 = 11, A_BETA2 = 12, A_GAMMA = 13, A_EPSILON = 14, A_C1 = 15, A_C2 = 16, A_L2 = 17, A_L1 = 18;

/** Reads f64 slot `slot` of the argument block at `args`. */
// @ts-ignore: decorator
@inline function arg(args: usize, slot: i32): f64 {
  return load<f64>(args + (<usize>slot << 3));
}

/**
 * One vector of the update at byte offset o: adds the regularization gradient l2·w + l1·sign(w) to g where
 * `regularized` (storing it back unless g is absent), then updates w (and m, v) by `kind`. Returns the gradient used.
 */
// @ts-ignore: decorator
@inline function updateVector(
  kind: i32, regularized: bool, hasG: bool, wv: v128, gv: v128, w: usize, g: usize, m: usize, v: usize, count: i32,
  negLr: v128, mu: v128, onePlusMu: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, gamma: v128, step: v128,
  inv2: v128, epsilon: v128, l2: v128, l1: v128,
): v128 {
  const zero = f32x4.splat(0);
  if (regularized) {
    const sign = v128.and(v128.or(v128.and(wv, i32x4.splat(0x80000000)), f32x4.splat(1)), f32x4.ne(wv, zero));
    if (hasG) {
      gv = f32x4.add(gv, madd(l1, sign, f32x4.mul(l2, wv)));
      storePartial(g, gv, count);
    }
  }
  if (kind == UPD_NONE) return gv;
  let next: v128;
  if (kind == UPD_SGD) {
    next = madd(negLr, gv, wv);
  } else if (kind == UPD_MOMENTUM || kind == UPD_NESTEROV) {
    const prev = count == 4 ? v128.load(v) : loadPartial(v, count);
    const vi = flush(madd(mu, prev, f32x4.mul(negLr, gv)));
    storePartial(v, vi, count);
    next = kind == UPD_MOMENTUM ? f32x4.add(wv, vi) : madd(onePlusMu, vi, f32x4.sub(wv, f32x4.mul(mu, prev)));
  } else {
    let mi = gv;
    if (kind == UPD_ADAPTIVE_MOMENT) {
      const m0 = count == 4 ? v128.load(m) : loadPartial(m, count);
      mi = madd(beta1, m0, f32x4.mul(oneMinusBeta1, gv)); // moments are not flushed (see ../../optimizers.ts)
      storePartial(m, mi, count);
    }
    const v0 = count == 4 ? v128.load(v) : loadPartial(v, count);
    const vi = madd(beta2, v0, f32x4.mul(gamma, f32x4.mul(gv, gv)));
    storePartial(v, vi, count);
    next = f32x4.sub(wv, f32x4.div(f32x4.mul(step, mi), f32x4.add(f32x4.sqrt(f32x4.mul(vi, inv2)), epsilon)));
  }
  storePartial(w, flush(next), count);
  return gv;
}

/** Σ of the four lanes of an f32 block sum, in f64, added to acc (lane order fixed). */
// @ts-ignore: decorator
@inline function addBlock(acc: v128, block: v128): v128 {
  return f64x2.add(acc, f64x2.add(low64(block), high64(block)));
}

/** Vectors per f32 block sum and accumulator (4 accumulators): each f32 lane sum has at most BLOCK terms. */
const BLOCK: i32 = 8;

/**
 * Elements [start, end) of the update of `kind`, regularized or not, and their sums Σg² and, where regularized, Σw² and
 * Σ|w| (the weights before the update) added to the three f64 at `sums`. The sums are made of f32 block sums of at most
 * BLOCK + 3 terms per lane, added in f64 in an order fixed by start and end.
 */
// @ts-ignore: decorator
@inline function updateLoop(kind: i32, regularized: bool, args: usize, start: i32, end: i32, sums: usize): void {
  const w = <usize>arg(args, A_W), g = <usize>arg(args, A_G), m = <usize>arg(args, A_M), v = <usize>arg(args, A_V);
  // Whether there is a gradient buffer: decided on its base address, never on base + offset (which is non-zero past the
  // first vector even when the base is 0 — the bug that made evaluate() write l2·w over the start of memory).
  const hasG = g != 0;
  const lr = <f32>arg(args, A_LR), muS = <f32>arg(args, A_MU), c1 = <f32>arg(args, A_C1);
  const negLr = f32x4.splat(-lr), mu = f32x4.splat(muS), onePlusMu = f32x4.splat(1 + muS);
  const beta1 = f32x4.splat(<f32>arg(args, A_BETA1)), oneMinusBeta1 = f32x4.splat(<f32>(1 - arg(args, A_BETA1)));
  const beta2 = f32x4.splat(<f32>arg(args, A_BETA2)), gamma = f32x4.splat(<f32>arg(args, A_GAMMA));
  const step = f32x4.splat(<f32>(arg(args, A_LR) / arg(args, A_C1))), inv2 = f32x4.splat(<f32>(1 / arg(args, A_C2)));
  const epsilon = f32x4.splat(<f32>arg(args, A_EPSILON));
  const l2 = f32x4.splat(<f32>arg(args, A_L2)), l1 = f32x4.splat(<f32>arg(args, A_L1));
  const zero = f32x4.splat(0);
  let gs0 = zero, gs1 = zero, gs2 = zero, gs3 = zero;
  let ws0 = zero, ws1 = zero, wa0 = zero, wa1 = zero;
  let accG = f64x2.splat(0), accW = accG, accA = accG;
  let blocks = 0;
  let i = start;
  for (; i + 16 <= end; i += 16) {
    const o = <usize>i << 2;
    const w0 = v128.load(w + o), w1 = v128.load(w + o, 16), w2 = v128.load(w + o, 32), w3 = v128.load(w + o, 48);
    let g0 = zero, g1 = zero, g2 = zero, g3 = zero;
    if (hasG) {
      g0 = v128.load(g + o); g1 = v128.load(g + o, 16); g2 = v128.load(g + o, 32); g3 = v128.load(g + o, 48);
    }
    g0 = updateVector(kind, regularized, hasG, w0, g0, w + o, g + o, m + o, v + o, 4, negLr, mu, onePlusMu, beta1, oneMinusBeta1, beta2, gamma, step, inv2, epsilon, l2, l1);
    g1 = updateVector(kind, regularized, hasG, w1, g1, w + o + 16, g + o + 16, m + o + 16, v + o + 16, 4, negLr, mu, onePlusMu, beta1, oneMinusBeta1, beta2, gamma, step, inv2, epsilon, l2, l1);
    g2 = updateVector(kind, regularized, hasG, w2, g2, w + o + 32, g + o + 32, m + o + 32, v + o + 32, 4, negLr, mu, onePlusMu, beta1, oneMinusBeta1, beta2, gamma, step, inv2, epsilon, l2, l1);
    g3 = updateVector(kind, regularized, hasG, w3, g3, w + o + 48, g + o + 48, m + o + 48, v + o + 48, 4, negLr, mu, onePlusMu, beta1, oneMinusBeta1, beta2, gamma, step, inv2, epsilon, l2, l1);
    gs0 = madd(g0, g0, gs0); gs1 = madd(g1, g1, gs1); gs2 = madd(g2, g2, gs2); gs3 = madd(g3, g3, gs3);
    if (regularized) {
      ws0 = madd(w0, w0, ws0); ws1 = madd(w1, w1, ws1); ws0 = madd(w2, w2, ws0); ws1 = madd(w3, w3, ws1);
      wa0 = f32x4.add(wa0, f32x4.abs(w0)); wa1 = f32x4.add(wa1, f32x4.abs(w1));
      wa0 = f32x4.add(wa0, f32x4.abs(w2)); wa1 = f32x4.add(wa1, f32x4.abs(w3));
    }
    if (++blocks == BLOCK) {
      accG = addBlock(accG, f32x4.add(f32x4.add(gs0, gs1), f32x4.add(gs2, gs3)));
      gs0 = zero; gs1 = zero; gs2 = zero; gs3 = zero;
      if (regularized) {
        accW = addBlock(accW, f32x4.add(ws0, ws1));
        accA = addBlock(accA, f32x4.add(wa0, wa1));
        ws0 = zero; ws1 = zero; wa0 = zero; wa1 = zero;
      }
      blocks = 0;
    }
  }
  for (; i < end; i += 4) {
    const count = min(4, end - i);
    const o = <usize>i << 2;
    const w0 = count == 4 ? v128.load(w + o) : loadPartial(w + o, count);
    let g0 = zero;
    if (hasG) g0 = count == 4 ? v128.load(g + o) : loadPartial(g + o, count);
    g0 = updateVector(kind, regularized, hasG, w0, g0, w + o, g + o, m + o, v + o, count, negLr, mu, onePlusMu, beta1, oneMinusBeta1, beta2, gamma, step, inv2, epsilon, l2, l1);
    gs0 = madd(g0, g0, gs0);
    if (regularized) {
      ws0 = madd(w0, w0, ws0);
      wa0 = f32x4.add(wa0, f32x4.abs(w0));
    }
  }
  accG = addBlock(accG, f32x4.add(f32x4.add(gs0, gs1), f32x4.add(gs2, gs3)));
  store<f64>(sums, load<f64>(sums) + sum64(accG));
  if (regularized) {
    accW = addBlock(accW, f32x4.add(ws0, ws1));
    accA = addBlock(accA, f32x4.add(wa0, wa1));
    store<f64>(sums, load<f64>(sums, 8) + sum64(accW), 8);
    store<f64>(sums, load<f64>(sums, 16) + sum64(accA), 16);
  }
}

/** updateLoop for a kind known at run time: one function per specialization (see forwardIdentity). */
function updateRange(kind: i32, regularized: bool, args: usize, start: i32, end: i32, sums: usize): void {
  if (regularized) {
    switch (kind) {
      case UPD_NONE: updateNonePenalized(args, start, end, sums); break;
      case UPD_SGD: updateSgdPenalized(args, start, end, sums); break;
      case UPD_MOMENTUM: updateMomentumPenalized(args, start, end, sums); break;
      case UPD_NESTEROV: updateNesterovPenalized(args, start, end, sums); break;
      case UPD_ADAPTIVE: updateAdaptivePenalized(args, start, end, sums); break;
      case UPD_ADAPTIVE_MOMENT: updateAdaptiveMomentPenalized(args, start, end, sums); break;
      default: unreachable();
    }
  } else {
    switch (kind) {
      case UPD_NONE: updateNone(args, start, end, sums); break;
      case UPD_SGD: updateSgd(args, start, end, sums); break;
      case UPD_MOMENTUM: updateMomentum(args, start, end, sums); break;
      case UPD_NESTEROV: updateNesterov(args, start, end, sums); break;
      case UPD_ADAPTIVE: updateAdaptive(args, start, end, sums); break;
      case UPD_ADAPTIVE_MOMENT: updateAdaptiveMoment(args, start, end, sums); break;
      default: unreachable();
    }
  }
}
function updateNone(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_NONE, false, args, start, end, sums);
}
function updateNonePenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_NONE, true, args, start, end, sums);
}
function updateSgd(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_SGD, false, args, start, end, sums);
}
function updateSgdPenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_SGD, true, args, start, end, sums);
}
function updateMomentum(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_MOMENTUM, false, args, start, end, sums);
}
function updateMomentumPenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_MOMENTUM, true, args, start, end, sums);
}
function updateNesterov(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_NESTEROV, false, args, start, end, sums);
}
function updateNesterovPenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_NESTEROV, true, args, start, end, sums);
}
function updateAdaptive(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_ADAPTIVE, false, args, start, end, sums);
}
function updateAdaptivePenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_ADAPTIVE, true, args, start, end, sums);
}
function updateAdaptiveMoment(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_ADAPTIVE_MOMENT, false, args, start, end, sums);
}
function updateAdaptiveMomentPenalized(args: usize, start: i32, end: i32, sums: usize): void {
  updateLoop(UPD_ADAPTIVE_MOMENT, true, args, start, end, sums);
}

/**
 * Chunk q of the update described by the argument block at `args` (A_* slots): elements [q·CHUNK, (q+1)·CHUNK) ∩
 * [0, length). Writes the chunk's sums Σg², Σw², Σ|w| to the f64 slots partials + 32·q (+0, +8, +16). Regularized
 * segments (A_SEGMENTS: A_SEGMENT_COUNT sorted, disjoint [start, end) pairs of i32) get the penalty (A_L2, A_L1) when
 * either is non-zero. Pointers m and v are read by the kinds that keep them.
 */
export function updateChunk(args: usize, q: i32): void {
  const kind = <i32>arg(args, A_KIND);
  const length = <i32>arg(args, A_LENGTH);
  const segments = <usize>arg(args, A_SEGMENTS), segmentCount = <i32>arg(args, A_SEGMENT_COUNT);
  const penalty = arg(args, A_L2) != 0 || arg(args, A_L1) != 0;
  const sums = <usize>arg(args, A_PARTIALS) + (<usize>q << 5);
  store<f64>(sums, 0);
  store<f64>(sums, 0, 8);
  store<f64>(sums, 0, 16);
  const c0 = q * CHUNK, c1 = min(length, c0 + CHUNK);
  let at = c0;
  for (let s = 0; s < segmentCount && at < c1; s++) {
    const s0 = max(load<i32>(segments + (<usize>s << 3)), at);
    const s1 = min(load<i32>(segments + (<usize>s << 3), 4), c1);
    if (s1 <= s0) continue;
    if (at < s0) updateRange(kind, false, args, at, s0, sums);
    updateRange(kind, penalty, args, s0, s1, sums);
    at = s1;
  }
  if (at < c1) updateRange(kind, false, args, at, c1, sums);
}

// ---- chunked jobs -------------------------------------------------------------------------------------------------

// Jobs a pool runs chunk by chunk (mirrored by ../ops-wasm.ts); each reads its arguments from an f64 block.
/** updateChunk(args, q). */
const JOB_UPDATE: i32 = 0;
/** activationForward on rows [q·B_ROWS, …): B_F, B_Z, B_B, B_A, B_ALPHA, B_SLOPE, B_U, B_N, B_STEP (rows per chunk). */
const JOB_FORWARD: i32 = 1;
/** activationBackward on columns [q·B_STEP, …): B_F, B_A, B_DA, B_DZ, B_DB, B_ALPHA, B_DALPHA, B_SLOPE, B_N, B_U, B_STEP. */
const JOB_BACKWARD: i32 = 2;

const B_F = 0, B_SLOPE = 1, B_N = 2, B_U = 3, B_STEP = 4, B_Z = 5, B_B = 6, B_A = 7, B_ALPHA = 8, B_DA = 9, B_DZ = 10, B_DB = 11, B_DALPHA = 12;

/** Chunk q of job `job` (JOB_*) whose argument block is at `args`. */
export function runChunk(job: i32, args: usize, q: i32): void {
  if (job == JOB_UPDATE) {
    updateChunk(args, q);
    return;
  }
  const f = <i32>arg(args, B_F), slope = arg(args, B_SLOPE), n = <i32>arg(args, B_N), u = <i32>arg(args, B_U), step = <i32>arg(args, B_STEP);
  if (job == JOB_FORWARD) {
    activationForward(f, <usize>arg(args, B_Z), <usize>arg(args, B_B), <usize>arg(args, B_A), <usize>arg(args, B_ALPHA), slope, u,
      q * step, min(n, (q + 1) * step));
  } else if (job == JOB_BACKWARD) {
    activationBackward(f, <usize>arg(args, B_A), <usize>arg(args, B_DA), <usize>arg(args, B_DZ), <usize>arg(args, B_DB),
      <usize>arg(args, B_ALPHA), <usize>arg(args, B_DALPHA), slope, n, u, q * step, min(u, (q + 1) * step));
  } else {
    unreachable();
  }
}
