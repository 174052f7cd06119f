/**
 * Eigen-decomposition of a real symmetric matrix, in plain sequential float64 (deterministic: same input, same bits).
 *
 * {@link symmetricEigen} is the classic two-phase method (the EISPACK tred2/tql2 approach; Golub & Van Loan §8.3):
 *   1. Householder tridiagonalization A = Q·T·Qᵀ: reflectors P_k = I − v·vᵀ/H, k = d−1 … 2, each zeroing row k left of
 *      the subdiagonal, applied symmetrically to the lower triangle only; Qᵀ = P_2·…·P_{d−1} is then accumulated.
 *   2. Implicit QL with Wilkinson shifts on T: each step chases a bulge with Givens rotations from the bottom of the
 *      unreduced block up to its top; the rotations are accumulated into the rows of Qᵀ, which end up as the eigenvectors.
 * Eigenvectors are kept as rows (Vᵀ) throughout so that every inner loop runs along contiguous memory. Cost ~ 4/3·d³
 * flops for phase 1 plus ~ 6·d³ for phase 2 (vs ~ 8·d³ per sweep, 6–10 sweeps, for Jacobi).
 *
 * {@link jacobiEigen}, the cyclic Jacobi method, is kept as an independent reference.
 */

export interface Eigen {
  /** Eigenvalues in decreasing order. */
  values: Float64Array;
  /** Eigenvectors as the columns of a (d, d) row-major matrix, in the order of `values`; each with its largest component positive. */
  vectors: Float64Array;
}

const EPS = Number.EPSILON;

/** Eigenvalues and eigenvectors of the symmetric (d, d) row-major matrix `a` (not modified; only its lower triangle is read). */
export function symmetricEigen(a: Float64Array, d: number, maxIterations = 60): Eigen {
  if (a.length !== d * d) throw new RangeError(`expected a ${d}×${d} matrix`);
  const A = Float64Array.from(a);
  const diag = new Float64Array(d);
  const off = new Float64Array(d); // off[i] = T[i][i−1] during phase 1; shifted to T[i][i+1] for phase 2
  const H = new Float64Array(d); // H[k] of reflector k (0: none); its v is kept in row k of A, columns 0 … k−1
  const p = new Float64Array(d);

  // Phase 1: Householder reduction, lower triangle (A[i][j], j ≤ i) only.
  for (let k = d - 1; k >= 2; k--) {
    const rk = k * d, l = k - 1;
    let scale = 0;
    for (let j = 0; j < l; j++) scale += Math.abs(A[rk + j]);
    if (scale === 0) { // row k already tridiagonal
      off[k] = A[rk + l];
      continue;
    }
    scale += Math.abs(A[rk + l]);
    let sigma = 0;
    for (let j = 0; j <= l; j++) {
      const v = (A[rk + j] /= scale);
      sigma += v * v;
    }
    const last = A[rk + l];
    const alpha = last >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    off[k] = scale * alpha;
    const h = sigma - last * alpha; // vᵀv / 2
    A[rk + l] = last - alpha; // row k, columns 0 … l, now holds v
    H[k] = h;
    // p = B·v / h, B = A[0 … l][0 … l] symmetric, stored lower: row-wise with a scatter for the upper half.
    p.fill(0, 0, k);
    for (let i = 0; i <= l; i++) {
      const ri = i * d, vi = A[rk + i];
      let s = 0;
      for (let j = 0; j < i; j++) {
        const bij = A[ri + j];
        s += bij * A[rk + j];
        p[j] += bij * vi;
      }
      p[i] += s + A[ri + i] * vi;
    }
    let vp = 0;
    for (let i = 0; i <= l; i++) {
      p[i] /= h;
      vp += A[rk + i] * p[i];
    }
    const K = vp / (2 * h);
    for (let i = 0; i <= l; i++) p[i] -= K * A[rk + i]; // q = p − K·v
    // B ← B − v·qᵀ − q·vᵀ (lower triangle)
    for (let i = 0; i <= l; i++) {
      const ri = i * d, vi = A[rk + i], qi = p[i];
      for (let j = 0; j <= i; j++) A[ri + j] -= vi * p[j] + qi * A[rk + j];
    }
  }
  if (d >= 2) off[1] = A[d];
  for (let i = 0; i < d; i++) diag[i] = A[i * d + i];

  // Qᵀ = P_2·P_3·…·P_{d−1}: Vt ← Vt·P_k for k = 2 … d−1; before step k, Vt is the identity outside rows/columns 0 … k−2.
  const Vt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) Vt[i * d + i] = 1;
  for (let k = 2; k < d; k++) {
    const h = H[k];
    if (h === 0) continue;
    const rk = k * d;
    for (let r = 0; r < k; r++) {
      const rr = r * d;
      let w = 0;
      for (let c = 0; c < k; c++) w += Vt[rr + c] * A[rk + c];
      if (w === 0) continue;
      w /= h;
      for (let c = 0; c < k; c++) Vt[rr + c] -= w * A[rk + c];
    }
  }

  // Phase 2: implicit QL with Wilkinson shifts. off[i] = T[i][i+1].
  for (let i = 1; i < d; i++) off[i - 1] = off[i];
  if (d > 0) off[d - 1] = 0;
  let norm = 0;
  for (let i = 0; i < d; i++) norm = Math.max(norm, Math.abs(diag[i]) + Math.abs(off[i]));
  const floor = EPS * EPS * norm; // an absolute floor for blocks of (near) zeros; far below the backward error
  for (let l = 0; l < d; l++) {
    for (let iteration = 0; ; iteration++) {
      let m = l;
      for (; m < d - 1; m++) {
        const e = Math.abs(off[m]);
        if (e <= EPS * (Math.abs(diag[m]) + Math.abs(diag[m + 1])) || e <= floor) break;
      }
      if (m === l) break;
      if (iteration >= maxIterations) throw new Error(`symmetricEigen: no convergence after ${maxIterations} QL iterations`);
      // Wilkinson shift μ from the top 2×2 block; g = d_m − μ.
      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, shift = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * off[i], b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) { // underflow: the block splits here
          diag[i + 1] -= shift;
          off[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - shift;
        r = (diag[i] - g) * s + 2 * c * b;
        shift = s * r;
        diag[i + 1] = g + shift;
        g = c * r - b;
        // rows i and i+1 of Vt (eigenvectors as rows) take the rotation
        const ri = i * d, rj = ri + d;
        for (let k = 0; k < d; k++) {
          const t = Vt[rj + k], u = Vt[ri + k];
          Vt[rj + k] = s * u + c * t;
          Vt[ri + k] = c * u - s * t;
        }
      }
      if (r === 0 && i >= l) continue;
      diag[l] -= shift;
      off[l] = g;
      off[m] = 0;
    }
  }
  return sortAndSign(diag, Vt, d);
}

/** Sorts eigenpairs (values[i], row i of Vt) by decreasing value (ties by index) and flips each vector so that its
 * largest-magnitude component (the first one on ties) is positive. */
function sortAndSign(values: Float64Array, Vt: Float64Array, d: number): Eigen {
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => values[j] - values[i] || i - j);
  const sorted = Float64Array.from(order, (i) => values[i]);
  const vectors = new Float64Array(d * d);
  order.forEach((from, to) => {
    let big = 0;
    for (let k = 0; k < d; k++) if (Math.abs(Vt[from * d + k]) > Math.abs(big)) big = Vt[from * d + k];
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < d; k++) vectors[k * d + to] = sign * Vt[from * d + k];
  });
  return { values: sorted, vectors };
}

/**
 * The same decomposition by the cyclic Jacobi method: simple and very accurate but ~10× slower than
 * {@link symmetricEigen} at d = 784. Kept as an independent reference for the tests.
 */
export function jacobiEigen(a: Float64Array, d: number, maxSweeps = 100): Eigen {
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

  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = A[i * d + i];
  return sortAndSign(values, Vt, d);
}
