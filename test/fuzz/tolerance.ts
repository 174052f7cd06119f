/**
 * The constants of the fuzzer's tolerance model (./shadow.ts explains it): a fast value matches the float64 reference
 * value r of error scale s when |fast − r| ≤ MULT·s + ABS_SLACK + REL_SLACK·|r|.
 */

/** float32 unit roundoff. */
export const U = 2 ** -24;
/** Error scales allowed between the fast context and the float64 reference. */
export const MULT = 16;
/** Absolute slack of every comparison: a few flushes (1e-30) and float32 denormals. */
export const ABS_SLACK = 1e-29;
/** Relative slack of every comparison: the float64 computations' own rounding (≈ 1e-16·K), with a wide margin. */
export const REL_SLACK = 1e-9;
/** The engine flushes magnitudes below this to 0 (weights, velocities, loss gradients, sigmoid outputs; see backend.ts). */
export const FLUSH = 1e-30;
/**
 * The model's scope: an operation whose values (activations, scores, gradients, updated state) exceed this magnitude is
 * not compared with the reference — float32 overflows there (or the squares of its norms do) where float64 does not, as
 * when training diverges. Such operations are still checked for bit-identity across threads and for the invariants.
 */
export const FLOAT32_SAFE = 1e15;

/** A value and its error scale, element by element. */
export interface Bounded {
  v: Float64Array;
  s: Float64Array;
}
