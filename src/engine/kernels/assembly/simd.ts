/**
 * Inline SIMD helpers shared by the kernels (gemm.ts, ops.ts). Everything here is @inline: nothing of it is exported by
 * the module, it is compiled into the kernels that use it.
 *
 * Lanes are f32x4 unless a name says f64. Every function is a pure function of its lanes, so a value does not depend on
 * which lane, which vector or which thread computes it.
 */

/** Magnitudes below this are flushed to zero where the kernels produce them (FLUSH_BELOW of ../../backend.ts). */
// @ts-ignore: decorator
@inline export const FLUSH_BELOW: f32 = 1e-30;

/**
 * c + a·b: fused (one rounding, f32x4.relaxed_madd, which V8 lowers to vfmadd in both of its tiers) in the relaxed-SIMD
 * build; multiply then add (two roundings) in the plain build.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

/** x, or 0 where |x| < FLUSH_BELOW (NaN stays NaN). */
// @ts-ignore: decorator
@inline export function flush(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(f32x4.abs(x), f32x4.splat(FLUSH_BELOW)));
}

/** x, or 0 where x < FLUSH_BELOW (for values that are never negative; NaN stays NaN). */
// @ts-ignore: decorator
@inline export function flushNonNegative(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(x, f32x4.splat(FLUSH_BELOW)));
}

/** Lanes 0 and 1 as f64x2 (exact). */
// @ts-ignore: decorator
@inline export function low64(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

/** Lanes 2 and 3 as f64x2 (exact). */
// @ts-ignore: decorator
@inline export function high64(x: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 2, 3));
}

/** Two f64x2 rounded to one f32x4 (lo → lanes 0, 1; hi → lanes 2, 3), round to nearest like a Float32Array store. */
// @ts-ignore: decorator
@inline export function pack64(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** The sum of both lanes of an f64x2, lane 0 first. */
// @ts-ignore: decorator
@inline export function sum64(x: v128): f64 {
  return f64x2.extract_lane(x, 0) + f64x2.extract_lane(x, 1);
}

/** All-ones in the first `count` lanes (1..4), zero in the others. */
// @ts-ignore: decorator
@inline export function laneMask(count: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count));
}

/** The f32 at p, p + 4, … for `count` lanes (1..3); the other lanes are 0. Reads nothing past the `count` values. */
// @ts-ignore: decorator
@inline export function loadPartial(p: usize, count: i32): v128 {
  let v = f32x4.splat(load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v128.and(v, laneMask(count));
}

/** Stores the first `count` lanes (1..4) of v at p. */
// @ts-ignore: decorator
@inline export function storePartial(p: usize, v: v128, count: i32): void {
  if (count == 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * e^x (Cephes expf: x = n·ln2 + r, |r| ≤ ½ln2, a degree-6 polynomial for e^r, 2^n built in the exponent bits); relative
 * error about 2 ulp. Never denormal, and nothing computed on the way is: x ≤ ln(FLUSH_BELOW) ≈ −69.08 gives 0 (as
 * FLUSH_BELOW would flush it), x ≥ 70 gives e^70 ≈ 2.5e30 (callers only need "large": 1/(1 + e^70) is still normal);
 * NaN gives NaN.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(-69.0775527898)); // e^x < 1e-30
  // pmax/pmin (one instruction each on x86) where min/max would cost several; NaN passes through both.
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-80.0)), f32x4.splat(70.0));
  // n = round(x·log2 e) by the 1.5·2^23 trick: t's low mantissa bits hold n (|n| ≤ 116), and t − 1.5·2^23 = n exactly.
  const t = madd(x, f32x4.splat(1.44269504088896341), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = madd(n, f32x4.splat(-0.693359375), x);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // 2^n: (bits(t) + 127) << 23 — t's bits are 0x4B400000 + n, whose high part the shift drops.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, scale), tiny);
}

/**
 * ln x for positive, normal x (Cephes logf: x = m·2^e with m in [√½, √2), a degree-8 polynomial in m − 1); relative
 * error about 2 ulp. Used on sums of exponentials, which are ≥ 1.
 */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [½, 1)
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, small); // small lanes are −1
  m = f32x4.add(f32x4.sub(m, f32x4.splat(1)), v128.and(m, small)); // 2m − 1 or m − 1
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let y = f32x4.splat(7.0376836292e-2);
  y = madd(y, m, f32x4.splat(-1.1514610310e-1));
  y = madd(y, m, f32x4.splat(1.1676998740e-1));
  y = madd(y, m, f32x4.splat(-1.2420140846e-1));
  y = madd(y, m, f32x4.splat(1.4249322787e-1));
  y = madd(y, m, f32x4.splat(-1.6668057665e-1));
  y = madd(y, m, f32x4.splat(2.0000714765e-1));
  y = madd(y, m, f32x4.splat(-2.4999993993e-1));
  y = madd(y, m, f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd(ef, f32x4.splat(-2.12194440e-4), y);
  y = madd(z, f32x4.splat(-0.5), y);
  return madd(ef, f32x4.splat(0.693359375), f32x4.add(m, y));
}

/** σ(x) = 1 / (1 + e^−x), flushed to 0 below FLUSH_BELOW (x < −69.08; e^−x saturates at e^70 there, so σ stays normal until flushed). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return flushNonNegative(f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(x)))));
}

/**
 * tanh x: for |x| < 0.625 the Cephes tanhf polynomial x + x³·P(x²); above, 1 − 2/(e^{2|x|} + 1) with the sign of x.
 * Relative error about 1 ulp.
 */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const ax = v128.andnot(x, i32x4.splat(0x80000000));
  const e = exp4(f32x4.add(ax, ax));
  let big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  big = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  const z = f32x4.mul(x, x);
  let p = madd(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}
