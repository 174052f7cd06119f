/**
 * The fast GEMM kernel, AssemblyScript with 128-bit SIMD. Built twice by scripts/build-wasm.mjs from this one source:
 * with `--enable relaxed-simd` (multiply-add fused: f32x4.relaxed_madd) and without (f32x4.mul then f32x4.add).
 *
 * Dimension letters as in ../../compute.ts: M rows of C, N columns of C, K the reduced dimension.
 * All matrices are dense, row-major f32; pointers are byte offsets into the (imported, shared) memory.
 *   form NN (0): C(M,N) (+)= A(M,K) · B(K,N)     A(i,k) at a[i*K + k], B(k,j) at b[k*N + j]
 *   form NT (1): C(M,N) (+)= A(M,K) · B(N,K)ᵀ    A(i,k) at a[i*K + k], B(k,j) at b[j*K + k]
 *   form TN (2): C(M,N) (+)= A(K,M)ᵀ · B(K,N)    A(i,k) at a[k*M + i], B(k,j) at b[k*N + j]
 *
 * One call computes the block C[row0:row1, col0:col1]. Every element of that block is reduced the same way,
 * whatever the block's bounds and whichever thread runs it:
 *   acc = accumulate ? C(i,j) : 0;  for k = 0 .. K-1 in increasing order: acc = madd(A(i,k), B(k,j), acc)
 * (partial sums between K blocks are stored in C as f32, which loses nothing). Edge tiles run the very same
 * SIMD micro-kernel on a padded copy, so the result is bit-identical for any split of C between threads.
 * With plain SIMD the arithmetic is exactly that of the reference kernel (one rounding per multiply and per add).
 * With relaxed SIMD, V8 lowers relaxed_madd the same way in both of its tiers (a fused vfmadd where the CPU has FMA),
 * so every thread gets the same bits on a given machine (tested: test/engine/gemm.test.ts).
 *
 * Blocking: B is packed per (KC × NC) block into 8-column panels (panel-major, then k, then 8 columns) in the
 * caller's scratch; C is walked in 4×8 register tiles (8 f32x4 accumulators); each 4-row strip of A is packed
 * k-major (4 f32 per k) once per B block and broadcast one f32 at a time against every panel of the block.
 */

/** Rows of the register tile. */
const MR: i32 = 4;
/** Columns of the register tile (two f32x4). */
const NR: i32 = 8;
/** Largest depth of a packed B block (K is cut into equal blocks of at most KC). */
const KC: i32 = 256;
/** Width of a packed B block (a multiple of NR): KC × NC f32 = 256 KiB, at home in L2. */
const NC: i32 = 256;

const FORM_NN: i32 = 0;
const FORM_NT: i32 = 1;
const FORM_TN: i32 = 2;

/** Bytes of scratch one thread needs: the packed B block, a packed 4-row strip of A, one padded 4×8 C tile. */
export function scratchBytes(): i32 {
  return KC * NC * 4 + KC * MR * 4 + MR * NR * 4;
}

/** 1 when this build fuses multiply and add (relaxed SIMD), 0 for plain SIMD. */
export function fused(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

/**
 * The micro-kernel: C(4×8 tile at pc, rows ldc bytes apart) (+)= Ap · Bp over kb steps of k, with
 * Ap a packed A strip (kb rows of 4 f32: A(r,k) at pa + (k*4 + r)*4, broadcast with immediate offsets) and
 * Bp a packed B panel (kb rows of 8 f32). `load` = start from C's values, else from 0.
 */
// @ts-ignore: decorator
@inline function tile4x8(pa: usize, pb: usize, kb: i32, pc: usize, ldc: usize, load: bool): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (load) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc + ldc); c11 = v128.load(pc + ldc, 16);
    c20 = v128.load(pc + 2 * ldc); c21 = v128.load(pc + 2 * ldc, 16);
    c30 = v128.load(pc + 3 * ldc); c31 = v128.load(pc + 3 * ldc, 16);
  } else {
    c00 = f32x4.splat(0); c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00; c30 = c00; c31 = c00;
  }
  for (let k = 0; k < kb; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + ldc, c10); v128.store(pc + ldc, c11, 16);
  v128.store(pc + 2 * ldc, c20); v128.store(pc + 2 * ldc, c21, 16);
  v128.store(pc + 3 * ldc, c30); v128.store(pc + 3 * ldc, c31, 16);
}

/** Transposes the 4×4 block whose rows are at p0..p3 into 4 rows of 4 f32 at dst, ldd bytes apart. */
// @ts-ignore: decorator
@inline function transpose4(p0: usize, p1: usize, p2: usize, p3: usize, dst: usize, ldd: usize): void {
  const r0 = v128.load(p0), r1 = v128.load(p1), r2 = v128.load(p2), r3 = v128.load(p3);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + ldd, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * ldd, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * ldd, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs B(kc:kc+kb, jc:jc+nc) into 8-column panels at `pack`, zero-padding the last panel to 8 columns.
 * Panel p holds kb rows of 8 f32: pack[(p*kb + k)*8 + j] = B(kc+k, jc+8p+j).
 */
function packB(form: i32, K: i32, N: i32, b: usize, kc: i32, kb: i32, jc: i32, nc: i32, pack: usize): void {
  const panels = (nc + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const j0 = jc + p * NR;
    const nr = min(NR, jc + nc - j0);
    let dst = pack + <usize>(p * kb * NR) * 4;
    if (form == FORM_NT && nr == NR) {
      // B(k,j) at b[j*K + k]: read 4 consecutive k of each of the 8 columns, transpose 4×4 blocks in registers.
      const ldb = <usize>K * 4;
      let src = b + (<usize>j0 * <usize>K + <usize>kc) * 4;
      let k = 0;
      for (; k + 4 <= kb; k += 4) {
        transpose4(src, src + ldb, src + 2 * ldb, src + 3 * ldb, dst, NR * 4);
        transpose4(src + 4 * ldb, src + 5 * ldb, src + 6 * ldb, src + 7 * ldb, dst + 16, NR * 4);
        src += 16;
        dst += 4 * NR * 4;
      }
      for (; k < kb; k++) {
        for (let j = 0; j < NR; j++) store<f32>(dst + <usize>j * 4, load<f32>(src + <usize>j * ldb));
        src += 4;
        dst += NR * 4;
      }
    } else if (form == FORM_NT) {
      for (let k = 0; k < kb; k++) {
        let src = b + (<usize>j0 * <usize>K + <usize>(kc + k)) * 4;
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + <usize>j * 4, j < nr ? load<f32>(src + <usize>j * <usize>K * 4) : 0);
        }
        dst += NR * 4;
      }
    } else if (nr == NR) {
      // B(k,j) at b[k*N + j]: two vectors per row.
      let src = b + (<usize>kc * <usize>N + <usize>j0) * 4;
      const ldb = <usize>N * 4;
      for (let k = 0; k < kb; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += NR * 4;
      }
    } else {
      let src = b + (<usize>kc * <usize>N + <usize>j0) * 4;
      const ldb = <usize>N * 4;
      for (let k = 0; k < kb; k++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + <usize>j * 4, j < nr ? load<f32>(src + <usize>j * 4) : 0);
        }
        src += ldb;
        dst += NR * 4;
      }
    }
  }
}

/**
 * Packs the strip A(i..i+3, kc..kc+kb-1) as kb rows of 4 f32 at dst (A(i+r, kc+k) at dst + (k*4 + r)*4); rows past
 * i+mr-1 repeat row i+mr-1 (their results are discarded). Forms NN/NT store A(i,k) at a[i*K + k] (4×4 transposes),
 * form TN at a[k*M + i] (already 4 contiguous f32 per k: one copy per k; reading them in place instead would touch a
 * line every M*4 bytes, which for M a multiple of 1024 all fall in the same cache set).
 */
function packA(form: i32, M: i32, K: i32, a: usize, i: i32, mr: i32, kc: i32, kb: i32, dst: usize): void {
  if (form == FORM_TN) {
    let src = a + (<usize>kc * <usize>M + <usize>i) * 4;
    const lda = <usize>M * 4;
    if (mr == MR) {
      for (let k = 0; k < kb; k++) {
        v128.store(dst, v128.load(src));
        src += lda;
        dst += MR * 4;
      }
    } else {
      for (let k = 0; k < kb; k++) {
        for (let r = 0; r < MR; r++) store<f32>(dst + <usize>r * 4, load<f32>(src + <usize>min(r, mr - 1) * 4));
        src += lda;
        dst += MR * 4;
      }
    }
    return;
  }
  const lda = <usize>K * 4;
  let p0 = a + (<usize>i * <usize>K + <usize>kc) * 4;
  let p1 = p0 + <usize>min(1, mr - 1) * lda;
  let p2 = p0 + <usize>min(2, mr - 1) * lda;
  let p3 = p0 + <usize>min(3, mr - 1) * lda;
  let k = 0;
  for (; k + 4 <= kb; k += 4) {
    transpose4(p0, p1, p2, p3, dst, MR * 4);
    p0 += 16; p1 += 16; p2 += 16; p3 += 16;
    dst += 4 * MR * 4;
  }
  for (; k < kb; k++) {
    store<f32>(dst, load<f32>(p0));
    store<f32>(dst, load<f32>(p1), 4);
    store<f32>(dst, load<f32>(p2), 8);
    store<f32>(dst, load<f32>(p3), 12);
    p0 += 4; p1 += 4; p2 += 4; p3 += 4;
    dst += MR * 4;
  }
}

/**
 * C[row0:row1, col0:col1] (+)= op(A)·op(B) for the given form (see the top of this file).
 * `scratch` points to scratchBytes() bytes that no other thread uses during the call.
 */
export function gemmBlock(
  form: i32, M: i32, K: i32, N: i32, a: usize, b: usize, c: usize, accumulate: i32,
  row0: i32, row1: i32, col0: i32, col1: i32, scratch: usize,
): void {
  if (row0 >= row1 || col0 >= col1) return;
  const pack = scratch;
  const strip = pack + <usize>(KC * NC) * 4;
  const tile = strip + <usize>(KC * MR) * 4;
  const ldc = <usize>N * 4;
  if (K == 0) {
    // Nothing to reduce: C = 0 unless accumulating.
    if (accumulate == 0) {
      for (let i = row0; i < row1; i++) memory.fill(c + (<usize>i * <usize>N + <usize>col0) * 4, 0, <usize>(col1 - col0) * 4);
    }
    return;
  }
  // K blocks of equal depth (at most KC): 784 = 4 × 196 rather than 3 × 256 + 16.
  const kcStep = (K + (K + KC - 1) / KC - 1) / ((K + KC - 1) / KC);
  for (let jc = col0; jc < col1; jc += NC) {
    const nc = min(NC, col1 - jc);
    const panels = (nc + NR - 1) / NR;
    for (let kc = 0; kc < K; kc += kcStep) {
      const kb = min(kcStep, K - kc);
      const load = accumulate != 0 || kc > 0;
      packB(form, K, N, b, kc, kb, jc, nc, pack);
      for (let i = row0; i < row1; i += MR) {
        const mr = min(MR, row1 - i);
        packA(form, M, K, a, i, mr, kc, kb, strip);
        for (let p = 0; p < panels; p++) {
          const j = jc + p * NR;
          const nr = min(NR, jc + nc - j);
          const pb = pack + <usize>(p * kb * NR) * 4;
          const pc = c + (<usize>i * <usize>N + <usize>j) * 4;
          if (mr == MR && nr == NR) {
            tile4x8(strip, pb, kb, pc, ldc, load);
          } else {
            // Edge tile: copy the valid part of C into a zero-padded 4×8 tile, run the same micro-kernel, copy back.
            memory.fill(tile, 0, MR * NR * 4);
            if (load) {
              for (let r = 0; r < mr; r++) memory.copy(tile + <usize>(r * NR) * 4, pc + <usize>r * ldc, <usize>nr * 4);
            }
            tile4x8(strip, pb, kb, tile, NR * 4, load);
            for (let r = 0; r < mr; r++) memory.copy(pc + <usize>r * ldc, tile + <usize>(r * NR) * 4, <usize>nr * 4);
          }
        }
      }
    }
  }
}
