// The portable code path: vectors of 4 floats as plain arrays, each lane through std::fma (one rounding, as the
// hardware instructions). Same tiling as the NEON path (8×12 tiles of 4-wide vectors), so on any CPU it exercises the
// driver as NEON runs it. Slow where std::fma is not one instruction; never chosen by 'auto' (see cpu-features.cc).
#include <algorithm>
#include <cmath>

#include "gemm-call.h"

namespace trainyard {
namespace {

#include "gemm-driver.h"

struct Generic {
  struct V {
    float x[4];
  };
  static constexpr int W = 4, MR = 8, NRV = 3;
  static constexpr int KC = 256, MC = 128, NC = 1020;
  static constexpr int DIRECT_ROWS = 32;
  static inline V zero() { return V{{0.0f, 0.0f, 0.0f, 0.0f}}; }
  static inline V load(const float* p) { return V{{p[0], p[1], p[2], p[3]}}; }
  static inline void store(float* p, V v) {
    for (int l = 0; l < 4; ++l) p[l] = v.x[l];
  }
  static inline V broadcast(const float* p) { return V{{*p, *p, *p, *p}}; }
  static inline V fma(V a, V b, V c) {
    V r;
    for (int l = 0; l < 4; ++l) r.x[l] = std::fma(a.x[l], b.x[l], c.x[l]);
    return r;
  }
  static inline V add(V a, V b) {
    V r;
    for (int l = 0; l < 4; ++l) r.x[l] = a.x[l] + b.x[l];
    return r;
  }
  static inline V mul(V a, V b) {
    V r;
    for (int l = 0; l < 4; ++l) r.x[l] = a.x[l] * b.x[l];
    return r;
  }
  static inline V abs(V a) {
    V r;
    for (int l = 0; l < 4; ++l) r.x[l] = std::fabs(a.x[l]);
    return r;
  }
  static inline V splat(float x) { return V{{x, x, x, x}}; }
  static constexpr bool kPackRows = false;
  static inline void packRows(const float*, ptrdiff_t, int, float*) {}
  static inline void transposeBlock(const float* src, ptrdiff_t ld, float* dst, ptrdiff_t ldd) {
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) dst[c * ldd + r] = src[r * ld + c];
  }
};

}  // namespace

void gemmGeneric(const GemmCall& call) { Driver<Generic>::gemm(call); }

}  // namespace trainyard
