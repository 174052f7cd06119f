// The AVX-512 code path (x86-64 with AVX-512 F/BW/DQ/VL): 6×64 register tiles (24 zmm accumulators),
// _mm512_fmadd_ps, tile edges straight on C through AVX-512 masks (the driver's kMaskedEdges). Only this file's own functions are compiled for AVX-512 (the
// target pragma below, after every #include, so no inline function of a header shared with the other paths gets
// AVX-512 code); called only when the CPU has it and the OS saves the zmm state (cpu-features.cc).
//
// Arithmetic is the driver's (gemm-driver.h): 16 lanes instead of 8 change which elements are computed together,
// never the k order of any element's fused multiply-adds, so the bits are the AVX2 path's and the WebAssembly kernel's.
#if defined(__x86_64__) || defined(_M_X64)

// GCC 12's AVX-512 headers warn that their own _mm512_undefined_* placeholders are uninitialized (GCC bug 105593),
// once per inlined intrinsic: a hundred lines of noise in build/native-build.log.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "gemm-call.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif

namespace trainyard {
namespace {

#include "gemm-driver.h"

// Blocking (each overridable with -D for tuning builds). Measured on Zen 5
// (EPYC, 2 cores), GFLOPS at 1 thread on (64,784,256) / (256,256,256) / 1024³: 6×64 tiles (24 accumulators + 4 B
// vectors + 1 broadcast) ≈ 8×32 ≈ 14×32 ≈ 12×32 within noise (170–200), 6×64 ahead on 1024³ and with the fewest loads
// per fused multiply-add (10 per 24); K blocks ≤ 384, 96-row A blocks, 1024-column B blocks as AVX2 (KC 192–384 and MC
// 48–240 within noise). B read in place up to 64 rows (+10% on (64,784,256), +15% on (32,784,256) over 16), A read in
// place up to 512 columns (+5% on 256³ at 1 thread; a 2-thread column chunk no longer packs all of A again).
#ifndef TRAINYARD_AVX512_MR
#define TRAINYARD_AVX512_MR 6
#endif
#ifndef TRAINYARD_AVX512_NRV
#define TRAINYARD_AVX512_NRV 4
#endif
#ifndef TRAINYARD_AVX512_KC
#define TRAINYARD_AVX512_KC 384
#endif
#ifndef TRAINYARD_AVX512_MC
#define TRAINYARD_AVX512_MC 96
#endif
#ifndef TRAINYARD_AVX512_NC
#define TRAINYARD_AVX512_NC 1024
#endif
#ifndef TRAINYARD_AVX512_ADIRECT
#define TRAINYARD_AVX512_ADIRECT 512
#endif
#ifndef TRAINYARD_AVX512_DIRECT
#define TRAINYARD_AVX512_DIRECT 64
#endif

struct Avx512 {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int W = 16, MR = TRAINYARD_AVX512_MR, NRV = TRAINYARD_AVX512_NRV;
  static constexpr int KC = TRAINYARD_AVX512_KC, MC = TRAINYARD_AVX512_MC, NC = TRAINYARD_AVX512_NC;
  static constexpr int DIRECT_ROWS = TRAINYARD_AVX512_DIRECT;
  static constexpr int A_DIRECT_COLS = TRAINYARD_AVX512_ADIRECT;
  static inline V zero() { return _mm512_setzero_ps(); }
  static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static inline V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static inline V abs(V a) { return _mm512_abs_ps(a); }
  static inline V splat(float x) { return _mm512_set1_ps(x); }

  // Masked edges (the driver's kMaskedEdges): the first n < W lanes; masked-off lanes are neither read (no fault past
  // an operand's end) nor written.
  static constexpr bool kMaskedEdges = true;
  static inline Mask mask(int n) { return static_cast<Mask>(n >= W ? 0xFFFFu : (1u << n) - 1u); }
  static inline V loadMasked(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static inline void storeMasked(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }

  // The 16×16 transpose of r[0..15], in place.
  static inline void transpose16(V r[16]) {
    V t[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // t[2q], t[2q+1] hold rows 2q, 2q+1 interleaved per 128-bit lane; pair them in fours.
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // r[4g + s] now holds, in 128-bit lane L, column 4L + s of rows 4g .. 4g+3. Gather the lanes.
    for (int s = 0; s < 4; ++s) {
      t[s] = _mm512_shuffle_f32x4(r[s], r[4 + s], 0x88);       // lanes 0,2 of rows 0-3 | lanes 0,2 of rows 4-7
      t[4 + s] = _mm512_shuffle_f32x4(r[s], r[4 + s], 0xDD);   // lanes 1,3
      t[8 + s] = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0x88);
      t[12 + s] = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0xDD);
    }
    for (int s = 0; s < 4; ++s) {
      r[s] = _mm512_shuffle_f32x4(t[s], t[8 + s], 0x88);        // column s (lane 0)
      r[8 + s] = _mm512_shuffle_f32x4(t[s], t[8 + s], 0xDD);    // column 8 + s (lane 2)
      r[4 + s] = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0x88);   // column 4 + s (lane 1)
      r[12 + s] = _mm512_shuffle_f32x4(t[4 + s], t[12 + s], 0xDD);  // column 12 + s (lane 3)
    }
  }
  static inline void transposeBlock(const float* src, ptrdiff_t ld, float* dst, ptrdiff_t ldd) {
    V r[16];
    for (int i = 0; i < 16; ++i) r[i] = load(src + i * ld);
    transpose16(r);
    for (int i = 0; i < 16; ++i) store(dst + i * ldd, r[i]);
  }
  // A full strip of MR rows (src + r·ld, r < MR, each kb contiguous floats) packed as dst[k·MR + r]: 16 k at a time
  // through a 16×16 transpose (zero rows past MR), each k's first MR lanes stored under a mask.
  static constexpr bool kPackRows = MR <= 16;
  static inline void packRows(const float* src, ptrdiff_t ld, int kb, float* dst) {
    const Mask rows = mask(MR);
    int k = 0;
    for (; k + 16 <= kb; k += 16) {
      V r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < MR ? load(src + i * ld + k) : zero();
      transpose16(r);
      for (int i = 0; i < 16; ++i) storeMasked(dst + (k + i) * MR, r[i], rows);
    }
    if (k < kb) {
      const Mask cols = mask(kb - k);
      V r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < MR ? loadMasked(src + i * ld + k, cols) : zero();
      transpose16(r);
      for (int i = 0; i < kb - k; ++i) storeMasked(dst + (k + i) * MR, r[i], rows);
    }
  }
};

}  // namespace

void gemmAvx512(const GemmCall& call) { Driver<Avx512>::gemm(call); }

}  // namespace trainyard

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
