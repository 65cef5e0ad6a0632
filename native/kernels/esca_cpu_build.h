// The entry points of one build of the ESCA CPU kernels (namespace ECF_ESCA_ISA): each picks the
// NCHW or NHWC kernel. Included once by kernels/esca_cpu.cc (portable) and once by
// kernels/esca_cpu_avx2.cc (AVX2+FMA).
#pragma once

#include "kernels/esca_cpu.h"
#include "kernels/esca_cpu_nchw.h"
#include "kernels/esca_cpu_nhwc.h"

namespace ecf {
namespace esca_cpu {
namespace ECF_ESCA_ISA {

#define ECF_ESCA_ENTRIES(T)                                                                                      \
  void EcaForward(Layout l, const T* x, const T* wca, const Dims& d, T* out, T* g, T* a) {                      \
    if (l == Layout::kNHWC)                                                                                     \
      nhwc::EcaForward<T>(x, wca, d, out, g, a);                                                                \
    else                                                                                                        \
      ECF_ESCA_ISA::EcaForward<T>(x, wca, d, out, g, a);                                                        \
  }                                                                                                             \
  void EcaBackward(Layout l, const T* go, const T* x, const T* wca, const T* g, const T* a, const Dims& d, T* dx, \
                   T* dwca) {                                                                                   \
    if (l == Layout::kNHWC)                                                                                     \
      nhwc::EcaBackward<T>(go, x, wca, g, a, d, dx, dwca);                                                      \
    else                                                                                                        \
      ECF_ESCA_ISA::EcaBackward<T>(go, x, wca, g, a, d, dx, dwca);                                              \
  }                                                                                                             \
  void EscaForward(Layout l, const T* x, const T* wca, const T* wsa, const Dims& d, T* out, T* g, T* a, T* sw) { \
    if (l == Layout::kNHWC)                                                                                     \
      nhwc::EscaForward<T>(x, wca, wsa, d, out, g, a, sw);                                                      \
    else                                                                                                        \
      ECF_ESCA_ISA::EscaForward<T>(x, wca, wsa, d, out, g, a, sw);                                              \
  }                                                                                                             \
  void EscaBackward(Layout l, const T* go, const T* x, const T* wca, const T* wsa, const T* g, const T* a,       \
                    const T* sw, const Dims& d, T* dx, T* dwca, T* dwsa) {                                      \
    if (l == Layout::kNHWC)                                                                                     \
      nhwc::EscaBackward<T>(go, x, wca, wsa, g, a, sw, d, dx, dwca, dwsa);                                      \
    else                                                                                                        \
      ECF_ESCA_ISA::EscaBackward<T>(go, x, wca, wsa, g, a, sw, d, dx, dwca, dwsa);                              \
  }

ECF_ESCA_ENTRIES(float)
ECF_ESCA_ENTRIES(double)
#undef ECF_ESCA_ENTRIES

}  // namespace ECF_ESCA_ISA
}  // namespace esca_cpu
}  // namespace ecf
