// The backward pass of the identity and ReLU activations over columns [col0, col1) of an (n, u) row-major f32 layer:
//   dz = da ⊙ f'(a)   (identity: g = da;  ReLU: g = da · (a > 0 ? 1 : 0), a product, so −0, ∞·0 and NaN behave as
//                      the WebAssembly kernel's f32x4.mul)
//   db[j] = f32( Σ_rows g[i][j] )  the sum in f64, starting from +0, adding rows in increasing order, rounded once.
// That is exactly what the WebAssembly kernel computes (src/engine/kernels/assembly/ops.ts: grad32, backwardColumns16,
// backwardColumns): every g is one correctly rounded f32 product and every column sum the same sequence of f64
// additions, so the bits are the same whichever lanes or column blocks compute them. Identity in place (dz == da)
// stores nothing, as the WebAssembly kernel.
#pragma once

#include <cstdint>

namespace trainyard {

enum BackwardActivation : int32_t { kBackwardIdentity = 0, kBackwardRelu = 1 };

struct BackwardCall {
  int32_t f;  // kBackwardIdentity or kBackwardRelu
  int32_t n, u, col0, col1;
  const float* a;
  const float* da;
  float* dz;  // may be da
  float* db;  // u floats; columns [col0, col1) written
};

void activationBackwardGeneric(const BackwardCall& call);
#if defined(__x86_64__) || defined(_M_X64)
void activationBackwardAvx2(const BackwardCall& call);
void activationBackwardAvx512(const BackwardCall& call);
#endif

}  // namespace trainyard
