// The NEON code path (arm64): 8×12 register tiles (24 q-register accumulators), vfmaq_f32. Every arm64 CPU has it.
// The driver's tiling is the generic path's (gemm-generic.cc), which the tests run on every machine.
#if defined(__aarch64__)

#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "gemm-call.h"

namespace trainyard {
namespace {

#include "gemm-driver.h"

struct Neon {
  using V = float32x4_t;
  static constexpr int W = 4, MR = 8, NRV = 3;
  static constexpr int KC = 256, MC = 128, NC = 1020;
  static constexpr int DIRECT_ROWS = 32;
  static inline V zero() { return vdupq_n_f32(0.0f); }
  static inline V load(const float* p) { return vld1q_f32(p); }
  static inline void store(float* p, V v) { vst1q_f32(p, v); }
  static inline V broadcast(const float* p) { return vld1q_dup_f32(p); }
  // vfmaq_f32(c, a, b) = c + a·b, one rounding.
  static inline V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static inline V add(V a, V b) { return vaddq_f32(a, b); }
  static inline V mul(V a, V b) { return vmulq_f32(a, b); }
  static inline V abs(V a) { return vabsq_f32(a); }
  static inline V splat(float x) { return vdupq_n_f32(x); }
  static constexpr bool kPackRows = false;
  static inline void packRows(const float*, ptrdiff_t, int, float*) {}
  static inline void transposeBlock(const float* src, ptrdiff_t ld, float* dst, ptrdiff_t ldd) {
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) dst[c * ldd + r] = src[r * ld + c];
  }
};

}  // namespace

void gemmNeon(const GemmCall& call) { Driver<Neon>::gemm(call); }

}  // namespace trainyard

#endif
