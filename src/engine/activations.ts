/**
 * Element-wise non-linearities, each forward beside its backward with the same argument order. The forward pass is
 * fused with the bias add (one pass over the layer's output); the backward pass with the bias gradient (column sums).
 *
 * Dimension letters: n rows (the batch), u units, k maxout pieces.
 *   z   (n, u) pre-activations without bias, as the matmul left them (maxout: (n, u·k))
 *   b   (u) bias (maxout: (u·k))
 *   a   (n, u) activations: a = f(z + b). `a` may be the same array as `z` (in place) except for PReLU.
 *   da  (n, u) ∂loss/∂a;  dz (n, u) ∂loss/∂(z + b), which may be the same array as `da` (in place)
 *   db  (u) float64 accumulator: db[j] += Σ_i dz[i, j]   (callers zero it first)
 * The loops are written branch-free where the branch would be unpredictable (ReLU signs): on typical data that is 3–5×
 * faster in V8 than `v > 0 ? v : 0`.
 */
import { FLUSH_BELOW, type Real } from './backend.js';

// identity: a = z + b ---------------------------------------------------------------------------------------------------

export function identityForward(z: Real, b: Real, a: Real, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) a[o + j] = z[o + j] + b[j];
  }
}

export function identityBackward(a: Real, da: Real, dz: Real, db: Float64Array, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const g = da[o + j];
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// relu: a = max(0, z + b) ------------------------------------------------------------------------------------------------

export function reluForward(z: Real, b: Real, a: Real, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const v = z[o + j] + b[j];
      a[o + j] = (v + Math.abs(v)) * 0.5; // exactly max(0, v), without a branch
    }
  }
}

export function reluBackward(a: Real, da: Real, dz: Real, db: Float64Array, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const g = da[o + j] * +(a[o + j] > 0);
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// leaky relu: a = z + b if positive, else α·(z + b); 0 ≤ α < 1, so a > 0 exactly when z + b > 0 ------------------------

export function leakyReluForward(z: Real, b: Real, a: Real, n: number, u: number, alpha: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const v = z[o + j] + b[j];
      const s = +(v > 0);
      a[o + j] = v * s + alpha * v * (1 - s);
    }
  }
}

export function leakyReluBackward(a: Real, da: Real, dz: Real, db: Float64Array, n: number, u: number, alpha: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const s = +(a[o + j] > 0);
      const g = da[o + j] * (s + alpha * (1 - s));
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// prelu: like leaky relu with a learned slope α_j per unit. α may take any value, so the sign of the pre-activation is
// kept: the forward pass stores z + b back into z (z must not be the same array as a), the backward pass reads it.

export function preluForward(z: Real, b: Real, alpha: Real, a: Real, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const v = z[o + j] + b[j];
      z[o + j] = v;
      const s = +(v > 0);
      a[o + j] = v * s + alpha[j] * v * (1 - s);
    }
  }
}

/** Also accumulates dalpha[j] += Σ_i da[i, j]·(z + b)[i, j]·[z + b ≤ 0]. */
export function preluBackward(
  z: Real, alpha: Real, da: Real, dz: Real, db: Float64Array, dalpha: Float64Array, n: number, u: number,
): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const v = z[o + j];
      const s = +(v > 0);
      const d = da[o + j];
      const g = d * (s + alpha[j] * (1 - s));
      dalpha[j] += d * v * (1 - s);
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// sigmoid: a = 1 / (1 + e^−(z + b)); da/dz = a·(1 − a) ------------------------------------------------------------------

export function sigmoidForward(z: Real, b: Real, a: Real, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const y = 1 / (1 + Math.exp(-(z[o + j] + b[j])));
      a[o + j] = y < FLUSH_BELOW ? 0 : y; // see FLUSH_BELOW in ./backend.ts
    }
  }
}

export function sigmoidBackward(a: Real, da: Real, dz: Real, db: Float64Array, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const y = a[o + j];
      const g = da[o + j] * y * (1 - y);
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// tanh: a = tanh(z + b); da/dz = 1 − a² --------------------------------------------------------------------------------

export function tanhForward(z: Real, b: Real, a: Real, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) a[o + j] = Math.tanh(z[o + j] + b[j]);
  }
}

export function tanhBackward(a: Real, da: Real, dz: Real, db: Float64Array, n: number, u: number): void {
  for (let i = 0, o = 0; i < n; i++, o += u) {
    for (let j = 0; j < u; j++) {
      const y = a[o + j];
      const g = da[o + j] * (1 - y * y);
      dz[o + j] = g;
      db[j] += g;
    }
  }
}

// maxout: a[i, j] = max_p (z + b)[i, j·k + p]; the k pieces of unit j are adjacent columns. The winning piece is kept
// in `arg` (n, u) for the backward pass, which routes da to it (ties go to the first piece).

export function maxoutForward(z: Real, b: Real, a: Real, arg: Uint8Array, n: number, u: number, k: number): void {
  const w = u * k;
  for (let i = 0, zo = 0, o = 0; i < n; i++, zo += w, o += u) {
    for (let j = 0, c = 0; j < u; j++, c += k) {
      let best = z[zo + c] + b[c];
      let at = 0;
      for (let p = 1; p < k; p++) {
        const v = z[zo + c + p] + b[c + p];
        if (v > best) {
          best = v;
          at = p;
        }
      }
      a[o + j] = best;
      arg[o + j] = at;
    }
  }
}

/** dz is (n, u·k) and is overwritten (zero except at the winning pieces); db has u·k entries. */
export function maxoutBackward(arg: Uint8Array, da: Real, dz: Real, db: Float64Array, n: number, u: number, k: number): void {
  const w = u * k;
  dz.fill(0, 0, n * w);
  for (let i = 0, zo = 0, o = 0; i < n; i++, zo += w, o += u) {
    for (let j = 0, c = 0; j < u; j++, c += k) {
      const at = c + arg[o + j];
      const g = da[o + j];
      dz[zo + at] = g;
      db[at] += g;
    }
  }
}
