// ESCA / ECA CPU kernels: what ops/esca.cc calls (lib/nn/attention/esca.ts states the math). Plain
// pointers and sizes, float32 or float64, for contiguous NCHW (kernels/esca_cpu_nchw.h) or
// channels_last NHWC (kernels/esca_cpu_nhwc.h) buffers. Each kernel is built twice, portable and
// for AVX2+FMA (kernels/esca_cpu.cc, kernels/esca_cpu_avx2.cc); the AVX2 build runs when the CPU
// has both. Saved statistics: g = GAP(x) [N, C], a = σ(conv1d(g)) [N, C], sw = σ(SA logits) [N, H, W]
// (row-major whatever the layout of x).
#pragma once

#include <cstdint>

namespace ecf {
namespace esca_cpu {

struct Dims {
  int64_t N, C, H, W, k;
  int64_t HW() const { return H * W; }
  int64_t PW() const { return W + 2; }            // padded row length
  int64_t PHW() const { return (H + 2) * (W + 2); }  // padded plane size
};

enum class Layout { kNCHW, kNHWC };

// The instruction set the kernels run with on this CPU: "avx2" or "portable".
const char* Isa();

void EcaForward(Layout l, const float* x, const float* wca, const Dims& d, float* out, float* g, float* a);
void EcaForward(Layout l, const double* x, const double* wca, const Dims& d, double* out, double* g, double* a);
void EcaBackward(Layout l, const float* go, const float* x, const float* wca, const float* g, const float* a,
                 const Dims& d, float* dx, float* dwca);
void EcaBackward(Layout l, const double* go, const double* x, const double* wca, const double* g, const double* a,
                 const Dims& d, double* dx, double* dwca);
void EscaForward(Layout l, const float* x, const float* wca, const float* wsa, const Dims& d, float* out, float* g,
                 float* a, float* sw);
void EscaForward(Layout l, const double* x, const double* wca, const double* wsa, const Dims& d, double* out,
                 double* g, double* a, double* sw);
void EscaBackward(Layout l, const float* go, const float* x, const float* wca, const float* wsa, const float* g,
                  const float* a, const float* sw, const Dims& d, float* dx, float* dwca, float* dwsa);
void EscaBackward(Layout l, const double* go, const double* x, const double* wca, const double* wsa,
                  const double* g, const double* a, const double* sw, const Dims& d, double* dx, double* dwca,
                  double* dwsa);

// fn(ctx, begin, end) over [b, e) in chunks of at least `grain`, on libtorch's intra-op threads
// (at::parallel_for; defined in kernels/esca_cpu.cc so that the kernels need no libtorch header).
using RangeFn = void (*)(const void* ctx, int64_t begin, int64_t end);
void ParallelFor(int64_t b, int64_t e, int64_t grain, RangeFn fn, const void* ctx);

}  // namespace esca_cpu
}  // namespace ecf
