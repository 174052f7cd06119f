// The identity/ReLU backward pass (activation-backward.h) in three code paths: portable C++, AVX2 (8 f32 lanes, each
// vector's column sums in two f64x4) and AVX-512 (16 lanes, two f64x8). Every path walks column blocks of up to 64
// (AVX2: 32, AVX-512: 128) columns, all rows of a block in increasing order into f64 accumulators held in registers, and writes the
// block's db once; a block's last vector is masked, so any width runs without a scalar tail. Only the vector
// sections are compiled for their ISA (target pragmas around them); they are called only when the CPU has it.
#include "activation-backward.h"

// GCC 12's AVX-512 headers warn that their own _mm512_undefined_* placeholders are uninitialized (GCC bug 105593), once
// per inlined intrinsic: hundreds of lines, enough to overflow the build script's output buffer.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstddef>

namespace trainyard {
namespace {

// ---- portable ----------------------------------------------------------------------------------------------------

constexpr int32_t kGenericBlock = 64;

template <bool kRelu, bool kStore>
void genericBlocks(const BackwardCall& c) {
  const size_t ld = static_cast<size_t>(c.u);
  for (int32_t j = c.col0; j < c.col1; j += kGenericBlock) {
    const int32_t w = std::min(kGenericBlock, c.col1 - j);
    double sum[kGenericBlock] = {};
    const float* pa = c.a + j;
    const float* pd = c.da + j;
    float* pz = c.dz + j;
    for (int32_t i = 0; i < c.n; i++, pa += ld, pd += ld, pz += ld) {
      for (int32_t k = 0; k < w; k++) {
        // A product, not a select: da·0 is −0 for a negative da and NaN for an infinite one, as f32x4.mul gives.
        const float g = kRelu ? pd[k] * (pa[k] > 0.0f ? 1.0f : 0.0f) : pd[k];
        if (kStore) pz[k] = g;
        sum[k] += static_cast<double>(g);
      }
    }
    for (int32_t k = 0; k < w; k++) c.db[j + k] = static_cast<float>(sum[k]);
  }
}

}  // namespace

void activationBackwardGeneric(const BackwardCall& c) {
  if (c.f == kBackwardRelu) genericBlocks<true, true>(c);
  else if (c.dz != c.da) genericBlocks<false, true>(c);
  else genericBlocks<false, false>(c);
}

}  // namespace trainyard

#if defined(__x86_64__) || defined(_M_X64)

// ---- AVX2 --------------------------------------------------------------------------------------------------------

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace trainyard {
namespace {

// V vectors of 8 columns from column j; the last one's lanes are those set in `last`.
template <int V, bool kRelu, bool kStore>
void avx2Block(const BackwardCall& c, int32_t j, __m256i last) {
  const size_t ld = static_cast<size_t>(c.u);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256i all = _mm256_set1_epi32(-1);
  __m256d lo[V], hi[V];
  for (int v = 0; v < V; v++) lo[v] = hi[v] = _mm256_setzero_pd();
  const float* pa = c.a + j;
  const float* pd = c.da + j;
  float* pz = c.dz + j;
  for (int32_t i = 0; i < c.n; i++, pa += ld, pd += ld, pz += ld) {
    for (int v = 0; v < V; v++) {
      const __m256i m = v == V - 1 ? last : all;
      __m256 g = v == V - 1 ? _mm256_maskload_ps(pd + 8 * v, m) : _mm256_loadu_ps(pd + 8 * v);
      if (kRelu) {
        const __m256 av = v == V - 1 ? _mm256_maskload_ps(pa + 8 * v, m) : _mm256_loadu_ps(pa + 8 * v);
        g = _mm256_mul_ps(g, _mm256_and_ps(_mm256_cmp_ps(av, zero, _CMP_GT_OQ), one));
      }
      if (kStore) {
        if (v == V - 1) _mm256_maskstore_ps(pz + 8 * v, m, g);
        else _mm256_storeu_ps(pz + 8 * v, g);
      }
      lo[v] = _mm256_add_pd(lo[v], _mm256_cvtps_pd(_mm256_castps256_ps128(g)));
      hi[v] = _mm256_add_pd(hi[v], _mm256_cvtps_pd(_mm256_extractf128_ps(g, 1)));
    }
  }
  for (int v = 0; v < V; v++) {
    const __m256 s = _mm256_set_m128(_mm256_cvtpd_ps(hi[v]), _mm256_cvtpd_ps(lo[v]));
    if (v == V - 1) _mm256_maskstore_ps(c.db + j + 8 * v, last, s);
    else _mm256_storeu_ps(c.db + j + 8 * v, s);
  }
}

template <bool kRelu, bool kStore>
void avx2Blocks(const BackwardCall& c) {
  for (int32_t j = c.col0; j < c.col1; j += 32) {
    const int32_t w = std::min<int32_t>(32, c.col1 - j);
    const int vectors = (w + 7) / 8;
    const int32_t lanes = w - 8 * (vectors - 1);
    const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    switch (vectors) {
      case 4: avx2Block<4, kRelu, kStore>(c, j, last); break;
      case 3: avx2Block<3, kRelu, kStore>(c, j, last); break;
      case 2: avx2Block<2, kRelu, kStore>(c, j, last); break;
      default: avx2Block<1, kRelu, kStore>(c, j, last); break;
    }
  }
}

}  // namespace

void activationBackwardAvx2(const BackwardCall& c) {
  if (c.f == kBackwardRelu) avx2Blocks<true, true>(c);
  else if (c.dz != c.da) avx2Blocks<false, true>(c);
  else avx2Blocks<false, false>(c);
}

}  // namespace trainyard

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// ---- AVX-512 -----------------------------------------------------------------------------------------------------

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif

namespace trainyard {
namespace {

// How a block's last vector is read and written: whole (kFull), or its `last` lanes through a masked access of 4, 8 or
// 16 lanes, the narrowest that covers them. A masked store counts as its whole width when a later load is checked
// against it: a 16-lane one past a row's end (u = 100 leaves 4) overlaps the next row's first load, which then waits
// for the store to retire — in place (dz = da) the 300×100 layer ran 2× slower than out of place until the tail was
// narrowed. Unmasked everywhere else (full masks measured slower too).
enum Tail { kFull = 0, kTail4 = 1, kTail8 = 2, kTail16 = 3 };

template <int kTail>
inline __m512 load(const float* p, __mmask16 m) {
  if constexpr (kTail == kFull) return _mm512_loadu_ps(p);
  if constexpr (kTail == kTail4) return _mm512_zextps128_ps512(_mm_maskz_loadu_ps(static_cast<__mmask8>(m), p));
  if constexpr (kTail == kTail8) return _mm512_zextps256_ps512(_mm256_maskz_loadu_ps(static_cast<__mmask8>(m), p));
  return _mm512_maskz_loadu_ps(m, p);
}

template <int kTail>
inline void store(float* p, __mmask16 m, __m512 g) {
  if constexpr (kTail == kFull) _mm512_storeu_ps(p, g);
  else if constexpr (kTail == kTail4) _mm_mask_storeu_ps(p, static_cast<__mmask8>(m), _mm512_castps512_ps128(g));
  else if constexpr (kTail == kTail8) _mm256_mask_storeu_ps(p, static_cast<__mmask8>(m), _mm512_castps512_ps256(g));
  else _mm512_mask_storeu_ps(p, m, g);
}

// V vectors of 16 columns from column j (sixteen f64x8 sums at most, in registers); the last one's lanes: `last`.
// Blocks of up to 128 columns: a layer of ≤ 128 units is read in one pass down its rows (the 300×100 spiral layer:
// 64-column blocks, which read each row in two passes over lines they partly share, were slower). The sums are named
// variables, not arrays: GCC 12 kept arrays of them on the stack, storing every sum at every row.
#define TRAINYARD_BWD_STEP(v, lo, hi)                                                                    \
  if constexpr (V > v) {                                                                                 \
    constexpr int tail = v == V - 1 ? kTail : kFull;                                                     \
    __m512 g = load<tail>(pd + 16 * v, last);                                                            \
    if (kRelu) {                                                                                         \
      const __m512 av = load<tail>(pa + 16 * v, last);                                                   \
      g = _mm512_mul_ps(g, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(av, zero, _CMP_GT_OQ), one));         \
    }                                                                                                    \
    if (kStore) store<tail>(pz + 16 * v, last, g);                                                       \
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(g)));                                  \
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(g, 1)));                               \
  }
#define TRAINYARD_BWD_SUM(v, lo, hi)                                                                     \
  if constexpr (V > v) {                                                                                 \
    const __m512 s = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1); \
    _mm512_mask_storeu_ps(c.db + j + 16 * v, v == V - 1 ? last : full, s);                               \
  }

template <int V, int kTail, bool kRelu, bool kStore>
void avx512Block(const BackwardCall& c, int32_t j, __mmask16 last) {
  const size_t ld = static_cast<size_t>(c.u);
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  const __mmask16 full = 0xFFFF;
  __m512d lo0 = _mm512_setzero_pd(), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
  __m512d lo4 = lo0, hi4 = lo0, lo5 = lo0, hi5 = lo0, lo6 = lo0, hi6 = lo0, lo7 = lo0, hi7 = lo0;
  const float* pa = c.a + j;
  const float* pd = c.da + j;
  float* pz = c.dz + j;
  for (int32_t i = 0; i < c.n; i++, pa += ld, pd += ld, pz += ld) {
    TRAINYARD_BWD_STEP(0, lo0, hi0)
    TRAINYARD_BWD_STEP(1, lo1, hi1)
    TRAINYARD_BWD_STEP(2, lo2, hi2)
    TRAINYARD_BWD_STEP(3, lo3, hi3)
    TRAINYARD_BWD_STEP(4, lo4, hi4)
    TRAINYARD_BWD_STEP(5, lo5, hi5)
    TRAINYARD_BWD_STEP(6, lo6, hi6)
    TRAINYARD_BWD_STEP(7, lo7, hi7)
  }
  TRAINYARD_BWD_SUM(0, lo0, hi0)
  TRAINYARD_BWD_SUM(1, lo1, hi1)
  TRAINYARD_BWD_SUM(2, lo2, hi2)
  TRAINYARD_BWD_SUM(3, lo3, hi3)
  TRAINYARD_BWD_SUM(4, lo4, hi4)
  TRAINYARD_BWD_SUM(5, lo5, hi5)
  TRAINYARD_BWD_SUM(6, lo6, hi6)
  TRAINYARD_BWD_SUM(7, lo7, hi7)
}
#undef TRAINYARD_BWD_STEP
#undef TRAINYARD_BWD_SUM

template <int kTail, bool kRelu, bool kStore>
void avx512Vectors(const BackwardCall& c, int32_t j, int vectors, __mmask16 last) {
  switch (vectors) {
    case 8: avx512Block<8, kTail, kRelu, kStore>(c, j, last); break;
    case 7: avx512Block<7, kTail, kRelu, kStore>(c, j, last); break;
    case 6: avx512Block<6, kTail, kRelu, kStore>(c, j, last); break;
    case 5: avx512Block<5, kTail, kRelu, kStore>(c, j, last); break;
    case 4: avx512Block<4, kTail, kRelu, kStore>(c, j, last); break;
    case 3: avx512Block<3, kTail, kRelu, kStore>(c, j, last); break;
    case 2: avx512Block<2, kTail, kRelu, kStore>(c, j, last); break;
    default: avx512Block<1, kTail, kRelu, kStore>(c, j, last); break;
  }
}

template <bool kRelu, bool kStore>
void avx512Blocks(const BackwardCall& c) {
  for (int32_t j = c.col0; j < c.col1; j += 128) {
    const int32_t w = std::min<int32_t>(128, c.col1 - j);
    const int vectors = (w + 15) / 16;
    const int32_t lanes = w - 16 * (vectors - 1);
    const __mmask16 last = static_cast<__mmask16>((1u << lanes) - 1u);
    if (lanes == 16) avx512Vectors<kFull, kRelu, kStore>(c, j, vectors, last);
    else if (lanes <= 4) avx512Vectors<kTail4, kRelu, kStore>(c, j, vectors, last);
    else if (lanes <= 8) avx512Vectors<kTail8, kRelu, kStore>(c, j, vectors, last);
    else avx512Vectors<kTail16, kRelu, kStore>(c, j, vectors, last);
  }
}

}  // namespace

void activationBackwardAvx512(const BackwardCall& c) {
  if (c.f == kBackwardRelu) avx512Blocks<true, true>(c);
  else if (c.dz != c.da) avx512Blocks<false, true>(c);
  else avx512Blocks<false, false>(c);
}

}  // namespace trainyard

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // x86-64
