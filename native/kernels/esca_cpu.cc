// The portable build of the ESCA CPU kernels (4-wide vectors), the AVX2 dispatch, and
// ParallelFor over libtorch's intra-op threads. API: kernels/esca_cpu.h.
#include "kernels/esca_cpu.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // vector-typed helpers are inlined; no ABI crosses this file
#endif

#include <ATen/Parallel.h>

#include <cstdlib>

#define ECF_ESCA_ISA portable
#define ECF_ESCA_LANES 4
#include "kernels/esca_cpu_build.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define ECF_ESCA_AVX2 1
#endif

namespace ecf {
namespace esca_cpu {

void ParallelFor(int64_t b, int64_t e, int64_t grain, RangeFn fn, const void* ctx) {
  at::parallel_for(b, e, grain, [&](int64_t s, int64_t t) { fn(ctx, s, t); });
}

#if ECF_ESCA_AVX2
namespace avx2 {  // kernels/esca_cpu_avx2.cc
#define ECF_ESCA_DECLS(T)                                                                                        \
  void EcaForward(Layout l, const T* x, const T* wca, const Dims& d, T* out, T* g, T* a);                       \
  void EcaBackward(Layout l, const T* go, const T* x, const T* wca, const T* g, const T* a, const Dims& d, T* dx, \
                   T* dwca);                                                                                    \
  void EscaForward(Layout l, const T* x, const T* wca, const T* wsa, const Dims& d, T* out, T* g, T* a, T* sw); \
  void EscaBackward(Layout l, const T* go, const T* x, const T* wca, const T* wsa, const T* g, const T* a,       \
                    const T* sw, const Dims& d, T* dx, T* dwca, T* dwsa);
ECF_ESCA_DECLS(float)
ECF_ESCA_DECLS(double)
#undef ECF_ESCA_DECLS
}  // namespace avx2

namespace {
// The AVX2 build when the CPU has AVX2 and FMA, unless ECF_ESCA_PORTABLE is set (tests run both).
bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* v = std::getenv("ECF_ESCA_PORTABLE");
  return has && !(v && *v && *v != '0');
}
}  // namespace
#define ECF_ESCA_PICK(fn, ...) return HasAvx2() ? avx2::fn(__VA_ARGS__) : portable::fn(__VA_ARGS__)
#else
#define ECF_ESCA_PICK(fn, ...) return portable::fn(__VA_ARGS__)
#endif

const char* Isa() {
#if ECF_ESCA_AVX2
  if (HasAvx2()) return "avx2";
#endif
  return "portable";
}

#define ECF_ESCA_DISPATCH(T)                                                                                    \
  void EcaForward(Layout l, const T* x, const T* wca, const Dims& d, T* out, T* g, T* a) {                      \
    ECF_ESCA_PICK(EcaForward, l, x, wca, d, out, g, a);                                                         \
  }                                                                                                             \
  void EcaBackward(Layout l, const T* go, const T* x, const T* wca, const T* g, const T* a, const Dims& d, T* dx, \
                   T* dwca) {                                                                                   \
    ECF_ESCA_PICK(EcaBackward, l, go, x, wca, g, a, d, dx, dwca);                                               \
  }                                                                                                             \
  void EscaForward(Layout l, const T* x, const T* wca, const T* wsa, const Dims& d, T* out, T* g, T* a, T* sw) { \
    ECF_ESCA_PICK(EscaForward, l, x, wca, wsa, d, out, g, a, sw);                                               \
  }                                                                                                             \
  void EscaBackward(Layout l, const T* go, const T* x, const T* wca, const T* wsa, const T* g, const T* a,       \
                    const T* sw, const Dims& d, T* dx, T* dwca, T* dwsa) {                                      \
    ECF_ESCA_PICK(EscaBackward, l, go, x, wca, wsa, g, a, sw, d, dx, dwca, dwsa);                               \
  }
ECF_ESCA_DISPATCH(float)
ECF_ESCA_DISPATCH(double)
#undef ECF_ESCA_DISPATCH

}  // namespace esca_cpu
}  // namespace ecf
