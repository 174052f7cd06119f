#include "cpu-features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace trainyard {

CpuFeatures detectCpuFeatures() {
  CpuFeatures f{false, false, false, false};
#if defined(__x86_64__) || defined(_M_X64)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma3 = (ecx & (1u << 12)) != 0;
  const bool osxsave = (ecx & (1u << 27)) != 0;
  const bool avx = (ecx & (1u << 28)) != 0;
  bool ymmSaved = false, zmmSaved = false;
  if (osxsave && avx) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    ymmSaved = (lo & 0x6u) == 0x6u;  // XMM and YMM state enabled by the OS
    zmmSaved = (lo & 0xE6u) == 0xE6u;  // and opmask, ZMM0-15 upper halves, ZMM16-31 (bits 5-7)
  }
  bool avx2 = false, avx512 = false;
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    avx2 = (ebx & (1u << 5)) != 0;
    // F (bit 16), DQ (17), BW (30), VL (31): the code path uses F; the rest is what every AVX-512 CPU since Skylake-SP
    // has, required so that no compiler-chosen instruction of those subsets can fault.
    const unsigned want = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
    avx512 = (ebx & want) == want;
  }
  f.fma = fma3 && ymmSaved;
  f.avx2Fma = avx2 && f.fma;
  f.avx512 = f.avx2Fma && avx512 && zmmSaved;
#elif defined(__aarch64__)
  f.neon = true;
  f.fma = true;
#endif
  return f;
}

}  // namespace trainyard
