/**
 * Eigen-decomposition of a small real symmetric matrix by the cyclic Jacobi method, in float64.
 *
 * Each rotation J(p, q, θ) zeroes A[p][q] (A ← JᵀAJ, V ← VJ, Golub & Van Loan §8.5); sweeps over all pairs repeat
 * until the off-diagonal mass is negligible. Quadratically convergent, accurate for small eigenvalues, and simple.
 * Cost is about 8·d³ flops per sweep and typically 6–10 sweeps: ~0.2 s for d = 200, ~2 s for d = 400 and ~15 s for
 * d = 784 (MNIST) in V8 — fine for tabular data; for wide inputs a tridiagonal QL solver would be the upgrade.
 */

export interface Eigen {
  /** Eigenvalues in decreasing order. */
  values: Float64Array;
  /** Eigenvectors as the columns of a (d, d) row-major matrix, in the order of `values`; each with its largest component positive. */
  vectors: Float64Array;
}

/** Eigenvalues and eigenvectors of the symmetric (d, d) row-major matrix `a` (not modified). */
export function symmetricEigen(a: Float64Array, d: number, maxSweeps = 100): Eigen {
  if (a.length !== d * d) throw new RangeError(`expected a ${d}×${d} matrix`);
  const A = Float64Array.from(a);
  // Vt holds Vᵀ: row i is the i-th eigenvector, so that both the A updates and the V updates run along rows.
  const Vt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) Vt[i * d + i] = 1;

  let total = 0;
  for (let i = 0; i < d * d; i++) total += A[i] * A[i];
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0, offAbs = 0;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        off += A[p * d + q] * A[p * d + q];
        offAbs += Math.abs(A[p * d + q]);
      }
    }
    if (off === 0 || off <= 1e-30 * total) break;
    // Numerical Recipes' thresholds: the first sweeps rotate only the larger elements; later, an element negligible
    // next to both diagonal entries is set to zero instead of rotated.
    const threshold = sweep < 3 ? (0.2 * offAbs) / (d * d) : 0;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q];
        const app = A[p * d + p], aqq = A[q * d + q];
        const small = 100 * Math.abs(apq);
        if (sweep > 3 && Math.abs(app) + small === Math.abs(app) && Math.abs(aqq) + small === Math.abs(aqq)) {
          A[p * d + q] = 0;
          A[q * d + p] = 0;
          continue;
        }
        if (apq === 0 || Math.abs(apq) <= threshold) continue;
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← JᵀAJ touches rows and columns p, q only. Rows first (contiguous), then mirror them into the columns.
        const rp = p * d, rq = q * d;
        for (let k = 0; k < d; k++) {
          const akp = A[rp + k], akq = A[rq + k];
          A[rp + k] = c * akp - s * akq;
          A[rq + k] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          A[k * d + p] = A[rp + k];
          A[k * d + q] = A[rq + k];
        }
        A[rp + p] = app - t * apq;
        A[rq + q] = aqq + t * apq;
        A[rp + q] = 0;
        A[rq + p] = 0;
        for (let k = 0; k < d; k++) { // V ← V·J, i.e. rows p and q of Vᵀ
          const vp = Vt[rp + k], vq = Vt[rq + k];
          Vt[rp + k] = c * vp - s * vq;
          Vt[rq + k] = s * vp + c * vq;
        }
      }
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => A[j * d + j] - A[i * d + i] || i - j);
  const values = Float64Array.from(order, (i) => A[i * d + i]);
  const vectors = new Float64Array(d * d);
  order.forEach((from, to) => {
    let big = 0;
    for (let k = 0; k < d; k++) if (Math.abs(Vt[from * d + k]) > Math.abs(big)) big = Vt[from * d + k];
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < d; k++) vectors[k * d + to] = sign * Vt[from * d + k];
  });
  return { values, vectors };
}
