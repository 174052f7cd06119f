// One GEMM block call as the engine makes it, and the code paths that can compute it.
//
// Same contract as the WebAssembly kernel (src/engine/kernels/assembly/gemm.ts): row-major f32 operands, forms
//   NN (0): C(M,N) (+)= A(M,K) · B(K,N)     NT (1): A(M,K) · B(N,K)ᵀ     TN (2): A(K,M)ᵀ · B(K,N)
// one call computes C[row0:row1, col0:col1]; every element is reduced as
//   acc = accumulate ? C(i,j) : 0;  for k = 0 .. K-1 in increasing order: acc = fma(A(i,k), B(k,j), acc)
// then the epilogue (none, + bias[j], or max(0, · + bias[j]) computed as (s + |s|)·½). Since every element goes through
// that very sequence of correctly rounded operations, the result has the same bits as the relaxed-SIMD WebAssembly
// kernel's (whose f32x4.relaxed_madd V8 lowers to a fused multiply-add where the CPU has FMA), whatever the tiling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>  // gemm-driver.h (included inside namespaces by each code path)

namespace trainyard {

enum Form : int32_t { kFormNN = 0, kFormNT = 1, kFormTN = 2 };
enum Epilogue : int32_t { kEpiNone = 0, kEpiBias = 1, kEpiBiasRelu = 2 };

// The code paths. Codes are part of the addon's interface (src/engine/kernels/native-addon.ts).
enum Isa : int32_t {
  kIsaGeneric = 0,  // portable C++: 4-wide arrays of std::fma (the NEON path's tiling, testable on any CPU)
  kIsaAvx2 = 1,     // x86-64 AVX2 + FMA3
  kIsaNeon = 2,     // arm64 NEON (vfmaq_f32)
  kIsaAvx512 = 3,   // x86-64 AVX-512 F/BW/DQ/VL (16-lane fused multiply-adds, masked tile edges)
};

// A validated call: pointers into the shared memory, dimensions and the block.
struct GemmCall {
  int32_t form, M, K, N;
  const float* a;
  const float* b;
  float* c;
  bool accumulate;
  int32_t row0, row1, col0, col1;
  int32_t epilogue;
  const float* bias;  // N floats when epilogue != kEpiNone
  float* scratch;     // kScratchBytes, 64-byte aligned, owned by the calling thread for the call
};

// Bytes of per-thread scratch every code path fits in (packed panels of B and A, one C tile), plus alignment slack.
constexpr size_t kScratchBytes = (384 * 1024 + 256 * 384 + 16 * 64 + 64) * 4 + 64;

void gemmGeneric(const GemmCall& call);
#if defined(__x86_64__) || defined(_M_X64)
void gemmAvx2(const GemmCall& call);
void gemmAvx512(const GemmCall& call);
#endif
#if defined(__aarch64__)
void gemmNeon(const GemmCall& call);
#endif

}  // namespace trainyard
