#include "cpu-features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace trainyard {

CpuFeatures detectCpuFeatures() {
  CpuFeatures f{false, false, false};
#if defined(__x86_64__) || defined(_M_X64)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool fma3 = (ecx & (1u << 12)) != 0;
  const bool osxsave = (ecx & (1u << 27)) != 0;
  const bool avx = (ecx & (1u << 28)) != 0;
  bool ymmSaved = false;
  if (osxsave && avx) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    ymmSaved = (lo & 0x6u) == 0x6u;  // XMM and YMM state enabled by the OS
  }
  bool avx2 = false;
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    avx2 = (ebx & (1u << 5)) != 0;
  }
  f.fma = fma3 && ymmSaved;
  f.avx2Fma = avx2 && f.fma;
#elif defined(__aarch64__)
  f.neon = true;
  f.fma = true;
#endif
  return f;
}

}  // namespace trainyard
