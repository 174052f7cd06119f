// The AVX2 + FMA3 code path (x86-64): 6×16 register tiles (12 ymm accumulators), _mm256_fmadd_ps. Only this file's
// own functions are compiled for AVX2/FMA (the target pragma below, after every #include, so no inline function of a
// header shared with the other paths gets AVX2 code); called only when the CPU has both (cpu-features.cc).
#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "gemm-call.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace trainyard {
namespace {

#include "gemm-driver.h"

struct Avx2 {
  using V = __m256;
  static constexpr int W = 8, MR = 6, NRV = 2;
  // K blocks ≤ 384 deep (a 24 KiB B micro-panel in L1), 96-row A blocks (144 KiB, L2), 1024-column B blocks (L3):
  // measured on Zen 3 against KC 256 / MC 144 (+4–5% on 1024³ and 64×784×256).
  static constexpr int KC = 384, MC = 96, NC = 1024;
  static constexpr int DIRECT_ROWS = 16;
  static inline V zero() { return _mm256_setzero_ps(); }
  static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static inline V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static inline V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static inline V splat(float x) { return _mm256_set1_ps(x); }
  // The 8×8 transpose of r[0..7], in place.
  static inline void transpose8(V r[8]) {
    const V t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const V t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const V t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const V t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const V u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE), u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const V u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE), u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
  }
  static inline void transposeBlock(const float* src, ptrdiff_t ld, float* dst, ptrdiff_t ldd) {
    V r[8];
    for (int i = 0; i < 8; ++i) r[i] = load(src + i * ld);
    transpose8(r);
    for (int i = 0; i < 8; ++i) store(dst + i * ldd, r[i]);
  }
  // A full strip of MR = 6 rows (src + r·ld, r < 6, each kb contiguous floats) packed as dst[k·6 + r]: 8 k at a time
  // through an 8×8 transpose (two zero rows), each k's 8 lanes stored at dst + k·6 — the 2 extra lanes land where the
  // next k's row goes and are overwritten by it, so the vector steps stop before the strip's last k.
  static constexpr bool kPackRows = true;
  static inline void packRows(const float* src, ptrdiff_t ld, int kb, float* dst) {
    int k = 0;
    for (; k + 8 < kb; k += 8) {
      V r[8];
      for (int i = 0; i < 6; ++i) r[i] = load(src + i * ld + k);
      r[6] = r[7] = zero();
      transpose8(r);
      for (int i = 0; i < 8; ++i) store(dst + (k + i) * 6, r[i]);
    }
    for (; k < kb; ++k)
      for (int i = 0; i < 6; ++i) dst[k * 6 + i] = src[i * ld + k];
  }
};

}  // namespace

void gemmAvx2(const GemmCall& call) { Driver<Avx2>::gemm(call); }

}  // namespace trainyard

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
