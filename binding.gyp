# The engine's native GEMM addon (native/), built by scripts/build-native.mjs at install into build/Release/.
# No -ffast-math and no FP contraction anywhere: the kernel's results must be bit-identical to the WebAssembly one's
# (native/gemm-call.h), and -ffast-math would also turn on flush-to-zero for the whole process.
{
  "targets": [
    {
      "target_name": "trainyard_native",
      "sources": [
        "native/addon.cc",
        "native/activation-backward.cc",
        "native/cpu-features.cc",
        "native/gemm-generic.cc",
        "native/gemm-avx2.cc",
        "native/gemm-avx512.cc",
        "native/gemm-neon.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-exceptions"],
      "cflags": ["-O3", "-ffp-contract=off", "-fno-fast-math"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-fast-math"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/O2", "/fp:precise"] }
      }
    }
  ]
}
