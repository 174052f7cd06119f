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
import { loadPartial, madd, storePartial } from './simd';

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


// Epilogues: what a tile's accumulators become on their way to C once K is fully reduced (the dense layer's bias and
// activation, fused; the same f32 operations as ops.ts's activationForward, so the same bits as a separate pass).
/** C as is. */
const EPI_NONE: i32 = 0;
/** C + bias (bias per column). */
const EPI_BIAS: i32 = 1;
/** max(0, C + bias), as (v + |v|)·½. */
const EPI_BIAS_RELU: i32 = 2;

// @ts-ignore: decorator
@inline function epilogue(epi: i32, v: v128, bias: v128): v128 {
  if (epi == EPI_NONE) return v;
  const s = f32x4.add(v, bias);
  if (epi == EPI_BIAS) return s;
  return f32x4.mul(f32x4.add(s, f32x4.abs(s)), f32x4.splat(0.5));
}

/**
 * The micro-kernel: C(4×8 tile at pc, rows ldc bytes apart) (+)= Ap · Bp over kb steps of k, with
 * Ap a packed A strip (kb rows of 4 f32: A(r,k) at pa + (k*4 + r)*4, broadcast with immediate offsets) and
 * Bp kb rows of 8 f32, ldb bytes apart (a packed B panel: ldb = 32; B read in place: ldb = N*4).
 * `load` = start from C's values, else from 0.
 */
// @ts-ignore: decorator
@inline function tile4x8(pa: usize, pb: usize, kb: i32, ldb: usize, pc: usize, ldc: usize, load: bool, epi: i32, pbias: usize): void {
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
    pb += ldb;
  }
  if (epi != EPI_NONE) {
    const e0 = v128.load(pbias), e1 = v128.load(pbias, 16);
    if (epi == EPI_BIAS) {
      c00 = epilogue(EPI_BIAS, c00, e0); c01 = epilogue(EPI_BIAS, c01, e1); c10 = epilogue(EPI_BIAS, c10, e0); c11 = epilogue(EPI_BIAS, c11, e1);
      c20 = epilogue(EPI_BIAS, c20, e0); c21 = epilogue(EPI_BIAS, c21, e1); c30 = epilogue(EPI_BIAS, c30, e0); c31 = epilogue(EPI_BIAS, c31, e1);
    } else {
      c00 = epilogue(EPI_BIAS_RELU, c00, e0); c01 = epilogue(EPI_BIAS_RELU, c01, e1); c10 = epilogue(EPI_BIAS_RELU, c10, e0); c11 = epilogue(EPI_BIAS_RELU, c11, e1);
      c20 = epilogue(EPI_BIAS_RELU, c20, e0); c21 = epilogue(EPI_BIAS_RELU, c21, e1); c30 = epilogue(EPI_BIAS_RELU, c30, e0); c31 = epilogue(EPI_BIAS_RELU, c31, e1);
    }
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + ldc, c10); v128.store(pc + ldc, c11, 16);
  v128.store(pc + 2 * ldc, c20); v128.store(pc + 2 * ldc, c21, 16);
  v128.store(pc + 3 * ldc, c30); v128.store(pc + 3 * ldc, c31, 16);
}

/**
 * The micro-kernel for strips of one or two rows: C(mr × 16 tile at pc) (+)= Ap · Bp over kb steps of k, with Ap a
 * packed A strip as for tile4x8 (rows 0 and 1 read) and Bp kb rows of 16 f32, ldb bytes apart (B read in place).
 * Eight accumulators, as in tile4x8, and the same arithmetic per element; no epilogue other than EPI_NONE/BIAS/RELU.
 */
// @ts-ignore: decorator
@inline function tile2x16(pa: usize, pb: usize, kb: i32, ldb: usize, pc: usize, ldc: usize, load: bool, mr: i32, epi: i32, pbias: usize): void {
  let c00: v128, c01: v128, c02: v128, c03: v128, c10: v128, c11: v128, c12: v128, c13: v128;
  c00 = f32x4.splat(0); c01 = c00; c02 = c00; c03 = c00; c10 = c00; c11 = c00; c12 = c00; c13 = c00;
  if (load) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16); c02 = v128.load(pc, 32); c03 = v128.load(pc, 48);
    if (mr > 1) {
      c10 = v128.load(pc + ldc); c11 = v128.load(pc + ldc, 16); c12 = v128.load(pc + ldc, 32); c13 = v128.load(pc + ldc, 48);
    }
  }
  for (let k = 0; k < kb; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01); c02 = madd(a, b2, c02); c03 = madd(a, b3, c03);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11); c12 = madd(a, b2, c12); c13 = madd(a, b3, c13);
    pa += MR * 4;
    pb += ldb;
  }
  if (epi != EPI_NONE) {
    const e0 = v128.load(pbias), e1 = v128.load(pbias, 16), e2 = v128.load(pbias, 32), e3 = v128.load(pbias, 48);
    const relu = epi == EPI_BIAS_RELU;
    c00 = relu ? epilogue(EPI_BIAS_RELU, c00, e0) : epilogue(EPI_BIAS, c00, e0);
    c01 = relu ? epilogue(EPI_BIAS_RELU, c01, e1) : epilogue(EPI_BIAS, c01, e1);
    c02 = relu ? epilogue(EPI_BIAS_RELU, c02, e2) : epilogue(EPI_BIAS, c02, e2);
    c03 = relu ? epilogue(EPI_BIAS_RELU, c03, e3) : epilogue(EPI_BIAS, c03, e3);
    c10 = relu ? epilogue(EPI_BIAS_RELU, c10, e0) : epilogue(EPI_BIAS, c10, e0);
    c11 = relu ? epilogue(EPI_BIAS_RELU, c11, e1) : epilogue(EPI_BIAS, c11, e1);
    c12 = relu ? epilogue(EPI_BIAS_RELU, c12, e2) : epilogue(EPI_BIAS, c12, e2);
    c13 = relu ? epilogue(EPI_BIAS_RELU, c13, e3) : epilogue(EPI_BIAS, c13, e3);
  }
  v128.store(pc, c00); v128.store(pc, c01, 16); v128.store(pc, c02, 32); v128.store(pc, c03, 48);
  if (mr > 1) {
    v128.store(pc + ldc, c10); v128.store(pc + ldc, c11, 16); v128.store(pc + ldc, c12, 32); v128.store(pc + ldc, c13, 48);
  }
}

/** Columns 0..nr-1 (1..8) of a C row at p as two vectors' worth: the first vector. */
// @ts-ignore: decorator
@inline function loadLow(p: usize, nr: i32): v128 {
  return nr >= 4 ? v128.load(p) : loadPartial(p, nr);
}

/** … and the second (columns 4..nr-1). */
// @ts-ignore: decorator
@inline function loadHigh(p: usize, nr: i32): v128 {
  return nr == 8 ? v128.load(p, 16) : nr > 4 ? loadPartial(p + 16, nr - 4) : f32x4.splat(0);
}

// @ts-ignore: decorator
@inline function storeRow(p: usize, low: v128, high: v128, nr: i32): void {
  if (nr >= 4) {
    v128.store(p, low);
    if (nr > 4) storePartial(p + 16, high, nr - 4);
  } else {
    storePartial(p, low, nr);
  }
}

/**
 * An edge tile: the valid mr × nr corner (mr ≤ 4, nr ≤ 8, one of them short) of a 4×8 tile of C, with the very same
 * arithmetic as tile4x8 (rows past mr are computed from the repeated last row of the strip and dropped; columns past nr
 * from the panel's zero padding, and dropped). Reads and writes only the valid part of C.
 */
function tileEdge(
  pa: usize, pb: usize, kb: i32, ldb: usize, pc: usize, ldc: usize, load: bool, mr: i32, nr: i32, epi: i32, pbias: usize,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (load) {
    c00 = loadLow(pc, nr); c01 = loadHigh(pc, nr);
    if (mr > 1) { c10 = loadLow(pc + ldc, nr); c11 = loadHigh(pc + ldc, nr); }
    if (mr > 2) { c20 = loadLow(pc + 2 * ldc, nr); c21 = loadHigh(pc + 2 * ldc, nr); }
    if (mr > 3) { c30 = loadLow(pc + 3 * ldc, nr); c31 = loadHigh(pc + 3 * ldc, nr); }
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
    pb += ldb;
  }
  if (epi != EPI_NONE) {
    const e0 = loadLow(pbias, nr), e1 = loadHigh(pbias, nr);
    const relu = epi == EPI_BIAS_RELU;
    c00 = relu ? epilogue(EPI_BIAS_RELU, c00, e0) : epilogue(EPI_BIAS, c00, e0);
    c01 = relu ? epilogue(EPI_BIAS_RELU, c01, e1) : epilogue(EPI_BIAS, c01, e1);
    c10 = relu ? epilogue(EPI_BIAS_RELU, c10, e0) : epilogue(EPI_BIAS, c10, e0);
    c11 = relu ? epilogue(EPI_BIAS_RELU, c11, e1) : epilogue(EPI_BIAS, c11, e1);
    c20 = relu ? epilogue(EPI_BIAS_RELU, c20, e0) : epilogue(EPI_BIAS, c20, e0);
    c21 = relu ? epilogue(EPI_BIAS_RELU, c21, e1) : epilogue(EPI_BIAS, c21, e1);
    c30 = relu ? epilogue(EPI_BIAS_RELU, c30, e0) : epilogue(EPI_BIAS, c30, e0);
    c31 = relu ? epilogue(EPI_BIAS_RELU, c31, e1) : epilogue(EPI_BIAS, c31, e1);
  }
  storeRow(pc, c00, c01, nr);
  if (mr > 1) storeRow(pc + ldc, c10, c11, nr);
  if (mr > 2) storeRow(pc + 2 * ldc, c20, c21, nr);
  if (mr > 3) storeRow(pc + 3 * ldc, c30, c31, nr);
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
 * `bt`: B(k,j) is stored at b[j*K + k] (B transposed, as in form NT), else at b[k*N + j].
 */
function packB(bt: bool, K: i32, N: i32, b: usize, kc: i32, kb: i32, jc: i32, nc: i32, pack: usize): void {
  const panels = (nc + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const j0 = jc + p * NR;
    const nr = min(NR, jc + nc - j0);
    let dst = pack + <usize>(p * kb * NR) * 4;
    if (bt && nr == NR) {
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
    } else if (bt) {
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
 * i+mr-1 repeat row i+mr-1 (their results are discarded). `at` (A transposed, as in form TN): A(i,k) is stored at
 * a[k*M + i] (already 4 contiguous f32 per k: one copy per k; reading them in place instead would touch a line every
 * M*4 bytes, which for M a multiple of 1024 all fall in the same cache set); else at a[i*K + k] (4×4 transposes).
 */
function packA(at: bool, M: i32, K: i32, a: usize, i: i32, mr: i32, kc: i32, kb: i32, dst: usize): void {
  if (at) {
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
 * `epi` (EPI_*): the dense layer's bias (`bias`, N f32) and activation applied to C on its way out, once K is reduced;
 * EPI_NONE for a plain product (bias unused).
 *
 * Three ways through, all with the same arithmetic per element of C (so a block's bits do not depend on the way):
 *   - narrow blocks (fewer than 8 columns, more rows than columns): Cᵀ = op(B)ᵀ·op(A)ᵀ through the same micro-kernel,
 *     so the 4×8 tile runs along C's rows instead of wasting most of its 8 columns (fma(a, b, c) = fma(b, a, c));
 *   - at most 32 rows with B stored row-major (forms NN, TN): B read in place, not packed (for few rows, packing costs
 *     more than the strided reads it saves: +3–13% on (16..32)×784×256), and K not blocked;
 *   - otherwise B packed per (KC × NC) block, A per 4-row strip.
 */
export function gemmBlock(
  form: i32, M: i32, K: i32, N: i32, a: usize, b: usize, c: usize, accumulate: i32,
  row0: i32, row1: i32, col0: i32, col1: i32, scratch: usize, epi: i32, bias: usize,
): void {
  if (row0 >= row1 || col0 >= col1) return;
  if (K == 0) {
    // Nothing to reduce: C = 0 unless accumulating (then the epilogue, if any, on what is there).
    for (let i = row0; i < row1; i++) {
      const pc = c + (<usize>i * <usize>N + <usize>col0) * 4;
      if (accumulate == 0) memory.fill(pc, 0, <usize>(col1 - col0) * 4);
      if (epi != EPI_NONE) {
        for (let j = 0; j < col1 - col0; j++) {
          const at = pc + (<usize>j << 2);
          const v = epi == EPI_BIAS_RELU
            ? epilogue(EPI_BIAS_RELU, f32x4.splat(load<f32>(at)), f32x4.splat(load<f32>(bias + (<usize>(col0 + j) << 2))))
            : epilogue(EPI_BIAS, f32x4.splat(load<f32>(at)), f32x4.splat(load<f32>(bias + (<usize>(col0 + j) << 2))));
          store<f32>(at, f32x4.extract_lane(v, 0));
        }
      }
    }
    return;
  }
  const rows = row1 - row0, cols = col1 - col0;
  if (cols < NR && rows > cols) {
    // op(B)ᵀ (cols × K) is stored like A of form TN when B is row-major (K, N), like A of form NN when it is (N, K);
    // op(A)ᵀ (K × rows) like B of form NT when A is (M, K), like B of form NN when it is (K, M).
    blockTransposed(form != FORM_NT, form != FORM_TN, M, K, N, a, b, c, accumulate != 0, row0, row1, col0, col1, scratch, epi, bias);
  } else if (rows <= DIRECT_ROWS && form != FORM_NT && K <= MAX_DIRECT_K) {
    blockDirect(form == FORM_TN, M, K, N, a, b, c, accumulate != 0, row0, row1, col0, col1, scratch, epi, bias);
  } else {
    blockPacked(form == FORM_TN, form == FORM_NT, M, K, N, a, b, c, accumulate != 0, row0, row1, col0, col1, scratch, epi, bias);
  }
}

/** Most rows of a block that reads B in place. */
const DIRECT_ROWS: i32 = 32;

/** Deepest K of the in-place path: its A strip (K × 4) and one packed edge panel (K × 8) fit in the B-block scratch. */
const MAX_DIRECT_K: i32 = (KC * NC) / (MR + NR);

/** K blocks of equal depth (at most KC): 784 = 4 × 196 rather than 3 × 256 + 16. */
// @ts-ignore: decorator
@inline function kBlockDepth(K: i32): i32 {
  const blocks = (K + KC - 1) / KC;
  return (K + blocks - 1) / blocks;
}

/** The packed path (see gemmBlock): `at`, `bt` as in packA, packB. */
function blockPacked(
  at: bool, bt: bool, M: i32, K: i32, N: i32, a: usize, b: usize, c: usize, accumulate: bool,
  row0: i32, row1: i32, col0: i32, col1: i32, scratch: usize, epi: i32, bias: usize,
): void {
  const pack = scratch;
  const strip = pack + <usize>(KC * NC) * 4;
  const ldc = <usize>N * 4;
  const kcStep = kBlockDepth(K);
  for (let jc = col0; jc < col1; jc += NC) {
    const nc = min(NC, col1 - jc);
    const panels = (nc + NR - 1) / NR;
    for (let kc = 0; kc < K; kc += kcStep) {
      const kb = min(kcStep, K - kc);
      const load = accumulate || kc > 0;
      const last = kc + kb == K; // the epilogue goes with the last K block
      packB(bt, K, N, b, kc, kb, jc, nc, pack);
      for (let i = row0; i < row1; i += MR) {
        const mr = min(MR, row1 - i);
        packA(at, M, K, a, i, mr, kc, kb, strip);
        for (let p = 0; p < panels; p++) {
          const j = jc + p * NR;
          const nr = min(NR, jc + nc - j);
          const pb = pack + <usize>(p * kb * NR) * 4;
          const pc = c + (<usize>i * <usize>N + <usize>j) * 4;
          const e = last ? epi : EPI_NONE, pe = bias + (<usize>j << 2);
          if (mr == MR && nr == NR) tile4x8(strip, pb, kb, NR * 4, pc, ldc, load, e, pe);
          else tileEdge(strip, pb, kb, NR * 4, pc, ldc, load, mr, nr, e, pe);
        }
      }
    }
  }
}

/**
 * The in-place path (see gemmBlock), for at most DIRECT_ROWS rows and B stored (K, N) row-major: each strip of A packed
 * whole (K deep) at the start of the scratch, full 8-column panels read straight from B (16-column ones for strips of
 * one or two rows), the last partial panel packed (zero-padded) after the strip.
 */
function blockDirect(
  at: bool, M: i32, K: i32, N: i32, a: usize, b: usize, c: usize, accumulate: bool,
  row0: i32, row1: i32, col0: i32, col1: i32, scratch: usize, epi: i32, bias: usize,
): void {
  const strip = scratch;
  const edge = strip + <usize>(K * MR) * 4;
  const ldc = <usize>N * 4, ldb = <usize>N * 4;
  const full = col0 + ((col1 - col0) / NR) * NR;
  const tail = col1 - full;
  if (tail > 0) packB(false, K, N, b, 0, K, full, tail, edge);
  for (let i = row0; i < row1; i += MR) {
    const mr = min(MR, row1 - i);
    packA(at, M, K, a, i, mr, 0, K, strip);
    const pc = c + <usize>i * ldc;
    let j = col0;
    if (mr <= 2) {
      // one or two rows: 2×16 tiles, which waste no accumulator on missing rows
      for (; j + 2 * NR <= full; j += 2 * NR) {
        tile2x16(strip, b + <usize>j * 4, K, ldb, pc + <usize>j * 4, ldc, accumulate, mr, epi, bias + (<usize>j << 2));
      }
    }
    for (; j < full; j += NR) {
      const pe = bias + (<usize>j << 2);
      if (mr == MR) tile4x8(strip, b + <usize>j * 4, K, ldb, pc + <usize>j * 4, ldc, accumulate, epi, pe);
      else tileEdge(strip, b + <usize>j * 4, K, ldb, pc + <usize>j * 4, ldc, accumulate, mr, NR, epi, pe);
    }
    if (tail > 0) tileEdge(strip, edge, K, NR * 4, pc + <usize>full * 4, ldc, accumulate, mr, tail, epi, bias + (<usize>full << 2));
  }
}

/**
 * The transposed path (see gemmBlock): Cᵀ[col0:col1, row0:row1] = op(B)ᵀ·op(A)ᵀ, with op(B)ᵀ as the A strips (packA,
 * `at`: stored K-major) and op(A)ᵀ as the B panels (`bt`: stored row-major (rows, K), else (K, rows)). When op(A)ᵀ is
 * (K, rows) row-major (form TN) and K is not too deep, it is read in place like blockDirect's B; otherwise packed per
 * (KC × NC) block like blockPacked's. Each 4×8 tile of Cᵀ goes through the scratch tile (tileTransposed).
 */
function blockTransposed(
  at: bool, bt: bool, M: i32, K: i32, N: i32, a: usize, b: usize, c: usize, accumulate: bool,
  row0: i32, row1: i32, col0: i32, col1: i32, scratch: usize, epi: i32, bias: usize,
): void {
  const tile = scratch + <usize>(KC * NC) * 4 + <usize>(KC * MR) * 4;
  if (!bt && K <= MAX_DIRECT_K) {
    const strip = scratch;
    const edge = strip + <usize>(K * MR) * 4;
    const full = row0 + ((row1 - row0) / NR) * NR;
    const tail = row1 - full;
    if (tail > 0) packB(false, K, M, a, 0, K, full, tail, edge);
    for (let j = col0; j < col1; j += MR) {
      const jr = min(MR, col1 - j);
      packA(at, N, K, b, j, jr, 0, K, strip);
      for (let i = row0; i < full; i += NR) {
        tileTransposed(strip, a + <usize>i * 4, K, <usize>M * 4, c, N, i, NR, j, jr, accumulate, epi, bias, tile);
      }
      if (tail > 0) tileTransposed(strip, edge, K, NR * 4, c, N, full, tail, j, jr, accumulate, epi, bias, tile);
    }
    return;
  }
  const pack = scratch;
  const strip = pack + <usize>(KC * NC) * 4;
  const kcStep = kBlockDepth(K);
  for (let ic = row0; ic < row1; ic += NC) {
    const nc = min(NC, row1 - ic);
    const panels = (nc + NR - 1) / NR;
    for (let kc = 0; kc < K; kc += kcStep) {
      const kb = min(kcStep, K - kc);
      const fromC = accumulate || kc > 0;
      const e = kc + kb == K ? epi : EPI_NONE;
      // op(A)ᵀ(k, i) for i in [ic, ic + nc): B of a problem with N' = M
      packB(bt, K, M, a, kc, kb, ic, nc, pack);
      for (let j = col0; j < col1; j += MR) {
        const jr = min(MR, col1 - j);
        // op(B)ᵀ(j, k): A of a problem with M' = N
        packA(at, N, K, b, j, jr, kc, kb, strip);
        for (let p = 0; p < panels; p++) {
          const i = ic + p * NR;
          tileTransposed(strip, pack + <usize>(p * kb * NR) * 4, kb, NR * 4, c, N, i, min(NR, ic + nc - i), j, jr, fromC, e, bias, tile);
        }
      }
    }
  }
}

/**
 * One 4×8 tile of Cᵀ (rows j.. of Cᵀ = columns j..j+jr of C; columns i.. of Cᵀ = rows i..i+nr of C) through the scratch
 * tile: C gathered in (when `fromC`), tile4x8, the epilogue (the bias of C's column j + r on the tile's row r), scattered
 * back: C(i + q, j + r) = tile[r·8 + q].
 */
function tileTransposed(
  pa: usize, pb: usize, kb: i32, ldb: usize, c: usize, N: i32, i: i32, nr: i32, j: i32, jr: i32, fromC: bool,
  epi: i32, bias: usize, tile: usize,
): void {
  const ldc = <usize>N * 4;
  const pc = c + (<usize>i * <usize>N + <usize>j) * 4;
  for (let t: usize = 0; t < <usize>(MR * NR * 4); t += 16) v128.store(tile + t, f32x4.splat(0));
  if (fromC) {
    for (let q = 0; q < nr; q++) {
      for (let r = 0; r < jr; r++) store<f32>(tile + <usize>(r * NR + q) * 4, load<f32>(pc + <usize>q * ldc + <usize>r * 4));
    }
  }
  tile4x8(pa, pb, kb, ldb, tile, NR * 4, fromC, EPI_NONE, 0);
  if (epi != EPI_NONE) {
    for (let r = 0; r < jr; r++) {
      const e = f32x4.splat(load<f32>(bias + (<usize>(j + r) << 2)));
      const row = tile + <usize>(r * NR) * 4;
      if (epi == EPI_BIAS_RELU) {
        v128.store(row, epilogue(EPI_BIAS_RELU, v128.load(row), e));
        v128.store(row, epilogue(EPI_BIAS_RELU, v128.load(row, 16), e), 16);
      } else {
        v128.store(row, epilogue(EPI_BIAS, v128.load(row), e));
        v128.store(row, epilogue(EPI_BIAS, v128.load(row, 16), e), 16);
      }
    }
  }
  for (let q = 0; q < nr; q++) {
    for (let r = 0; r < jr; r++) store<f32>(pc + <usize>q * ldc + <usize>r * 4, load<f32>(tile + <usize>(r * NR + q) * 4));
  }
}
