// The float32 CPU kernels of the fused margin op compiled for AVX2+FMA (8-wide vectors);
// kernels/margin_cpu.cc calls them when the CPU supports both. Empty on other architectures.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC optimize("O3")
#pragma GCC target("avx2,fma")
#endif

#define ECF_MARGIN_VW 8
#include "kernels/margin_cpu_impl.h"

namespace ecf {
namespace margin {
namespace avx2 {

void ForwardRowsF(const float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                  int64_t r1, const Consts<float>& k, float t, float* row_out, float* scratch) {
  margin::ForwardRows<float>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, scratch);
}
void BackwardRowsF(float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                   int64_t r1, const Consts<float>& k, float t, const float* row_out, float gscale) {
  margin::BackwardRows<float>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, gscale);
}
void ForwardShardRowsF(const float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                       int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, float* row_out,
                       float* scratch) {
  margin::ForwardShardRows<float>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, scratch);
}
void BackwardShardRowsF(float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy, int64_t C,
                        int64_t r0, int64_t r1, const Consts<float>& k, float t, const float* row_out,
                        const float* gl, const float* gt) {
  margin::BackwardShardRows<float>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, gl, gt);
}
void ProjectColumnsF(const float* W, float* A, const float* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                     float* scratch) {
  margin::ProjectColumns<float>(W, A, q, D, C, c0, c1, scratch);
}

}  // namespace avx2
}  // namespace margin
}  // namespace ecf

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
