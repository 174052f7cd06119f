// The N-API addon: gemm() over the engine's shared WebAssembly memory, with the arguments in a small per-thread block
// (so a call converts no JS values), and the bounds checks that make it touch nothing the WebAssembly kernel could not.
// Context-aware (NAPI_MODULE_INIT): every worker thread that loads it gets its own instance data. Driven by
// src/engine/kernels/native-gemm.ts; see there for the protocol.
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "activation-backward.h"
#include "cpu-features.h"
#include "gemm-call.h"

namespace trainyard {
namespace {

// Bumped whenever the exports change meaning; native-addon.ts refuses another number.
constexpr int32_t kAbiVersion = 1;

// Slots of the argument block (an Int32Array over a SharedArrayBuffer; pointers are byte offsets, read as uint32).
enum ArgSlot {
  kArgForm, kArgM, kArgK, kArgN, kArgA, kArgB, kArgC, kArgAccumulate,
  kArgRow0, kArgRow1, kArgCol0, kArgCol1, kArgScratch, kArgEpilogue, kArgBias, kArgIsa,
  kArgCount
};

// The same block as backward() reads it (slots it does not name are ignored; kArgIsa is shared with gemm()).
enum BackwardSlot { kBwdF, kBwdN, kBwdU, kBwdA, kBwdDa, kBwdDz, kBwdDb, kBwdCol0, kBwdCol1 };
static_assert(static_cast<int>(kBwdCol1) < static_cast<int>(kArgIsa), "backward() slots must not reach the isa slot");

// What bind() gave this thread. `extent` (in a SharedArrayBuffer shared by every thread of one memory) holds the
// memory's base address and the largest byte length any of its threads has seen: a shared WebAssembly memory only grows,
// in place, and a length read from a real view of it is a lower bound of its size, so a thread whose own view predates
// a growth (made by another thread) still checks against the grown size.
struct Binding {
  napi_ref memoryRef = nullptr, extentRef = nullptr, argsRef = nullptr;
  uint8_t* base = nullptr;
  uint64_t length = 0;
  uint64_t* extent = nullptr;
  int32_t* args = nullptr;
};

// Detected once per process (the first thread to load the addon), read by every thread.
const CpuFeatures& cpu() {
  static const CpuFeatures features = detectCpuFeatures();
  return features;
}

bool available(int32_t isa) {
  const CpuFeatures& features = cpu();
  switch (isa) {
    case kIsaGeneric: return true;
    case kIsaAvx2: return features.avx2Fma;
    case kIsaAvx512: return features.avx512;
    case kIsaNeon: return features.neon;
    default: return false;
  }
}

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_range_error(env, nullptr, ("native gemm: " + message).c_str());
  return nullptr;
}

void deleteRefs(napi_env env, Binding* b) {
  if (b->memoryRef) napi_delete_reference(env, b->memoryRef);
  if (b->extentRef) napi_delete_reference(env, b->extentRef);
  if (b->argsRef) napi_delete_reference(env, b->argsRef);
  b->memoryRef = b->extentRef = b->argsRef = nullptr;
}

void finalizeBinding(napi_env env, void* data, void*) {
  auto* b = static_cast<Binding*>(data);
  deleteRefs(env, b);
  delete b;
}

// A typed array's bytes, which must lie in a SharedArrayBuffer (never detached, never moved).
bool sharedBytes(napi_env env, napi_value value, napi_typedarray_type want, uint8_t** data, size_t* bytes) {
  bool isTyped = false;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* ptr = nullptr;
  napi_value buffer;
  if (napi_get_typedarray_info(env, value, &type, &length, &ptr, &buffer, &offset) != napi_ok || type != want) return false;
  bool isPlainArrayBuffer = true;  // napi_is_arraybuffer is false for a SharedArrayBuffer
  if (napi_is_arraybuffer(env, buffer, &isPlainArrayBuffer) != napi_ok || isPlainArrayBuffer) return false;
  *data = static_cast<uint8_t*>(ptr);
  *bytes = length * (want == napi_int32_array ? 4 : want == napi_biguint64_array ? 8 : 1);
  return true;
}

// bind(memory: Uint8Array over all of the memory's SharedArrayBuffer, extent: BigUint64Array(2) shared by the
// memory's threads, args: Int32Array(16) over a SharedArrayBuffer of this thread's own). Call again after the memory grew.
napi_value Bind(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 3) return throwError(env, "bind takes 3 arguments");
  uint8_t *memory = nullptr, *extent = nullptr, *args = nullptr;
  size_t memoryBytes = 0, extentBytes = 0, argsBytes = 0;
  if (!sharedBytes(env, argv[0], napi_uint8_array, &memory, &memoryBytes)) return throwError(env, "memory must be a Uint8Array over a SharedArrayBuffer");
  if (!sharedBytes(env, argv[1], napi_biguint64_array, &extent, &extentBytes) || extentBytes < 16) {
    return throwError(env, "extent must be a BigUint64Array(2) over a SharedArrayBuffer");
  }
  if (!sharedBytes(env, argv[2], napi_int32_array, &args, &argsBytes) || argsBytes < kArgCount * 4) {
    return throwError(env, "args must be an Int32Array(16) over a SharedArrayBuffer");
  }
  auto* words = reinterpret_cast<uint64_t*>(extent);
  const uint64_t base = reinterpret_cast<uintptr_t>(memory);
  uint64_t expected = 0;
  if (!__atomic_compare_exchange_n(&words[0], &expected, base, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && expected != base) {
    return throwError(env, "extent belongs to another memory");
  }
  uint64_t seen = __atomic_load_n(&words[1], __ATOMIC_ACQUIRE);
  while (seen < memoryBytes &&
         !__atomic_compare_exchange_n(&words[1], &seen, static_cast<uint64_t>(memoryBytes), true, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
  }
  Binding* b = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&b)) != napi_ok || b == nullptr) return throwError(env, "no instance data");
  deleteRefs(env, b);
  if (napi_create_reference(env, argv[0], 1, &b->memoryRef) != napi_ok || napi_create_reference(env, argv[1], 1, &b->extentRef) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &b->argsRef) != napi_ok) {
    return throwError(env, "cannot hold the views");
  }
  b->base = memory;
  b->length = memoryBytes;
  b->extent = words;
  b->args = reinterpret_cast<int32_t*>(args);
  return nullptr;
}

// Whether [at, at + bytes) lies in the first `limit` bytes and `at` is 4-byte aligned.
bool inside(uint64_t at, uint64_t bytes, uint64_t limit) { return at % 4 == 0 && at <= limit && bytes <= limit - at; }

// gemm(): the call in the argument block (see ArgSlot); throws a RangeError, computing nothing, on arguments the
// WebAssembly kernel would trap on (an operand past the memory) and on any that are inconsistent.
napi_value Gemm(napi_env env, napi_callback_info) {
  Binding* b = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&b)) != napi_ok || b == nullptr || b->args == nullptr) {
    return throwError(env, "bind() was not called in this thread");
  }
  int32_t s[kArgCount];
  std::memcpy(s, b->args, sizeof s);
  const int32_t form = s[kArgForm], M = s[kArgM], K = s[kArgK], N = s[kArgN], epi = s[kArgEpilogue], isa = s[kArgIsa];
  if (form < kFormNN || form > kFormTN) return throwError(env, "unknown form " + std::to_string(form));
  if (epi < kEpiNone || epi > kEpiBiasRelu) return throwError(env, "unknown epilogue " + std::to_string(epi));
  if (!available(isa)) return throwError(env, "code path " + std::to_string(isa) + " is not available on this CPU");
  if (M < 0 || K < 0 || N < 0) return throwError(env, "negative dimension");
  if (s[kArgRow0] < 0 || s[kArgRow0] > s[kArgRow1] || s[kArgRow1] > M || s[kArgCol0] < 0 || s[kArgCol0] > s[kArgCol1] || s[kArgCol1] > N) {
    return throwError(env, "block outside C");
  }
  const uint64_t limit = std::max(b->length, __atomic_load_n(&b->extent[1], __ATOMIC_ACQUIRE));
  const auto at = [&](int slot) { return static_cast<uint64_t>(static_cast<uint32_t>(s[slot])); };
  const uint64_t m = static_cast<uint64_t>(M), k = static_cast<uint64_t>(K), n = static_cast<uint64_t>(N);
  if (!inside(at(kArgA), 4 * m * k, limit)) return throwError(env, "A lies outside the memory");
  if (!inside(at(kArgB), 4 * k * n, limit)) return throwError(env, "B lies outside the memory");
  if (!inside(at(kArgC), 4 * m * n, limit)) return throwError(env, "C lies outside the memory");
  if (epi != kEpiNone && !inside(at(kArgBias), 4 * n, limit)) return throwError(env, "bias lies outside the memory");
  if (!inside(at(kArgScratch), kScratchBytes, limit)) return throwError(env, "scratch lies outside the memory");
  GemmCall call;
  call.form = form;
  call.M = M;
  call.K = K;
  call.N = N;
  call.a = reinterpret_cast<const float*>(b->base + at(kArgA));
  call.b = reinterpret_cast<const float*>(b->base + at(kArgB));
  call.c = reinterpret_cast<float*>(b->base + at(kArgC));
  call.accumulate = s[kArgAccumulate] != 0;
  call.row0 = s[kArgRow0];
  call.row1 = s[kArgRow1];
  call.col0 = s[kArgCol0];
  call.col1 = s[kArgCol1];
  call.epilogue = epi;
  call.bias = epi != kEpiNone ? reinterpret_cast<const float*>(b->base + at(kArgBias)) : nullptr;
  call.scratch = reinterpret_cast<float*>(b->base + at(kArgScratch));
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case kIsaAvx2: gemmAvx2(call); break;
    case kIsaAvx512: gemmAvx512(call); break;
#endif
#if defined(__aarch64__)
    case kIsaNeon: gemmNeon(call); break;
#endif
    default: gemmGeneric(call); break;
  }
  return nullptr;
}

// backward(): the identity/ReLU backward pass in the argument block (see BackwardSlot and activation-backward.h);
// throws a RangeError, computing nothing, on operands outside the memory or inconsistent arguments.
napi_value Backward(napi_env env, napi_callback_info) {
  Binding* b = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&b)) != napi_ok || b == nullptr || b->args == nullptr) {
    return throwError(env, "bind() was not called in this thread");
  }
  int32_t s[kArgCount];
  std::memcpy(s, b->args, sizeof s);
  const int32_t f = s[kBwdF], n = s[kBwdN], u = s[kBwdU], col0 = s[kBwdCol0], col1 = s[kBwdCol1], isa = s[kArgIsa];
  if (f != kBackwardIdentity && f != kBackwardRelu) return throwError(env, "backward: unknown activation " + std::to_string(f));
  if (!available(isa)) return throwError(env, "code path " + std::to_string(isa) + " is not available on this CPU");
  if (n < 0 || u < 0 || col0 < 0 || col0 > col1 || col1 > u) return throwError(env, "backward: bad shape or columns");
  const uint64_t limit = std::max(b->length, __atomic_load_n(&b->extent[1], __ATOMIC_ACQUIRE));
  const auto at = [&](int slot) { return static_cast<uint64_t>(static_cast<uint32_t>(s[slot])); };
  const uint64_t elements = static_cast<uint64_t>(n) * static_cast<uint64_t>(u);
  if (!inside(at(kBwdA), 4 * elements, limit)) return throwError(env, "backward: a lies outside the memory");
  if (!inside(at(kBwdDa), 4 * elements, limit)) return throwError(env, "backward: da lies outside the memory");
  if (!inside(at(kBwdDz), 4 * elements, limit)) return throwError(env, "backward: dz lies outside the memory");
  if (!inside(at(kBwdDb), 4 * static_cast<uint64_t>(u), limit)) return throwError(env, "backward: db lies outside the memory");
  BackwardCall call;
  call.f = f;
  call.n = n;
  call.u = u;
  call.col0 = col0;
  call.col1 = col1;
  call.a = reinterpret_cast<const float*>(b->base + at(kBwdA));
  call.da = reinterpret_cast<const float*>(b->base + at(kBwdDa));
  call.dz = reinterpret_cast<float*>(b->base + at(kBwdDz));
  call.db = reinterpret_cast<float*>(b->base + at(kBwdDb));
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case kIsaAvx2: activationBackwardAvx2(call); break;
    case kIsaAvx512: activationBackwardAvx512(call); break;
#endif
    default: activationBackwardGeneric(call); break;
  }
  return nullptr;
}

napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value boolean(napi_env env, bool x) {
  napi_value v;
  napi_get_boolean(env, x, &v);
  return v;
}

}  // namespace
}  // namespace trainyard

using namespace trainyard;

// exports: abiVersion, scratchBytes, fma (the CPU fuses multiply-adds), isas (available code paths, best first:
// { name, code }), bind(), gemm(), backward().
NAPI_MODULE_INIT() {
  auto* binding = new Binding();
  if (napi_set_instance_data(env, binding, finalizeBinding, nullptr) != napi_ok) {
    delete binding;
    return nullptr;
  }
  napi_value isas;
  napi_create_array(env, &isas);
  uint32_t count = 0;
  const auto addIsa = [&](const char* name, int32_t code) {
    if (!available(code)) return;
    napi_value entry, nameValue;
    napi_create_object(env, &entry);
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &nameValue);
    napi_set_named_property(env, entry, "name", nameValue);
    napi_set_named_property(env, entry, "code", number(env, code));
    napi_set_element(env, isas, count++, entry);
  };
  addIsa("avx512", kIsaAvx512);
  addIsa("avx2", kIsaAvx2);
  addIsa("neon", kIsaNeon);
  addIsa("generic", kIsaGeneric);
  napi_value bindFn, gemmFn, backwardFn;
  napi_create_function(env, "bind", NAPI_AUTO_LENGTH, Bind, nullptr, &bindFn);
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, nullptr, &gemmFn);
  napi_create_function(env, "backward", NAPI_AUTO_LENGTH, Backward, nullptr, &backwardFn);
  napi_set_named_property(env, exports, "abiVersion", number(env, kAbiVersion));
  napi_set_named_property(env, exports, "scratchBytes", number(env, static_cast<double>(kScratchBytes)));
  napi_set_named_property(env, exports, "fma", boolean(env, cpu().fma));
  napi_set_named_property(env, exports, "isas", isas);
  napi_set_named_property(env, exports, "bind", bindFn);
  napi_set_named_property(env, exports, "gemm", gemmFn);
  napi_set_named_property(env, exports, "backward", backwardFn);
  return exports;
}
