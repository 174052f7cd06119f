// Which of the addon's code paths this CPU runs.
#pragma once

namespace trainyard {

struct CpuFeatures {
  bool avx2Fma;  // x86-64: AVX2 and FMA3, and the OS saves the YMM registers
  bool avx512;   // x86-64: avx2Fma, AVX-512 F/BW/DQ/VL, and the OS saves the opmask and ZMM registers
  bool neon;     // arm64 (always)
  bool fma;      // a fused multiply-add instruction exists (what the relaxed-SIMD WebAssembly kernel fuses with)
};

CpuFeatures detectCpuFeatures();

}  // namespace trainyard
