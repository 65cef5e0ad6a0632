// CPU kernels of the fused margin + cross-entropy op (layout: kernels/margin.h; formulas:
// kernels/margin_math.h; bodies: kernels/margin_cpu_impl.h). No libtorch here: ops/margin.cc
// splits rows/columns over at::parallel_for. This file holds the portable build (4-wide vectors)
// and picks the AVX2+FMA build (kernels/margin_cpu_avx2.cc) at run time when the CPU has it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#define ECF_MARGIN_VW 4
#include "kernels/margin_cpu_impl.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define ECF_MARGIN_AVX2 1
#endif

namespace ecf {
namespace margin {

#if ECF_MARGIN_AVX2
namespace avx2 {
void ForwardRowsF(const float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                  int64_t r1, const Consts<float>& k, float t, float* row_out, float* scratch);
void BackwardRowsF(float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                   int64_t r1, const Consts<float>& k, float t, const float* row_out, float gscale);
void ForwardShardRowsF(const float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                       int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, float* row_out,
                       float* scratch);
void BackwardShardRowsF(float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy, int64_t C,
                        int64_t r0, int64_t r1, const Consts<float>& k, float t, const float* row_out,
                        const float* gl, const float* gt);
void ProjectColumnsF(const float* W, float* A, const float* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                     float* scratch);
}  // namespace avx2

namespace {
bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
}  // namespace
#endif

void ForwardRowsCpu(const float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                    int64_t r1, const Consts<float>& k, float t, float* row_out, float* scratch) {
#if ECF_MARGIN_AVX2
  if (HasAvx2()) return avx2::ForwardRowsF(buf, ld, inv, labels, C, r0, r1, k, t, row_out, scratch);
#endif
  ForwardRows<float>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, scratch);
}
void ForwardRowsCpu(const double* buf, int64_t ld, const double* inv, const int64_t* labels, int64_t C, int64_t r0,
                    int64_t r1, const Consts<double>& k, double t, double* row_out, double* scratch) {
  ForwardRows<double>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, scratch);
}
void BackwardRowsCpu(float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                     int64_t r1, const Consts<float>& k, float t, const float* row_out, float gscale) {
#if ECF_MARGIN_AVX2
  if (HasAvx2()) return avx2::BackwardRowsF(buf, ld, inv, labels, C, r0, r1, k, t, row_out, gscale);
#endif
  BackwardRows<float>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, gscale);
}
void BackwardRowsCpu(double* buf, int64_t ld, const double* inv, const int64_t* labels, int64_t C, int64_t r0,
                     int64_t r1, const Consts<double>& k, double t, const double* row_out, double gscale) {
  BackwardRows<double>(buf, ld, inv, labels, C, r0, r1, k, t, row_out, gscale);
}
void ForwardShardRowsCpu(const float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                         int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, float* row_out,
                         float* scratch) {
#if ECF_MARGIN_AVX2
  if (HasAvx2()) return avx2::ForwardShardRowsF(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, scratch);
#endif
  ForwardShardRows<float>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, scratch);
}
void ForwardShardRowsCpu(const double* buf, int64_t ld, const double* inv, const int64_t* labels, const double* cy,
                         int64_t C, int64_t r0, int64_t r1, const Consts<double>& k, double t, double* row_out,
                         double* scratch) {
  ForwardShardRows<double>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, scratch);
}
void BackwardShardRowsCpu(float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                          int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, const float* row_out,
                          const float* gl, const float* gt) {
#if ECF_MARGIN_AVX2
  if (HasAvx2()) return avx2::BackwardShardRowsF(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, gl, gt);
#endif
  BackwardShardRows<float>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, gl, gt);
}
void BackwardShardRowsCpu(double* buf, int64_t ld, const double* inv, const int64_t* labels, const double* cy,
                          int64_t C, int64_t r0, int64_t r1, const Consts<double>& k, double t,
                          const double* row_out, const double* gl, const double* gt) {
  BackwardShardRows<double>(buf, ld, inv, labels, cy, C, r0, r1, k, t, row_out, gl, gt);
}
void ProjectColumnsCpu(const float* W, float* A, const float* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                       float* scratch) {
#if ECF_MARGIN_AVX2
  if (HasAvx2()) return avx2::ProjectColumnsF(W, A, q, D, C, c0, c1, scratch);
#endif
  ProjectColumns<float>(W, A, q, D, C, c0, c1, scratch);
}
void ProjectColumnsCpu(const double* W, double* A, const double* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                       double* scratch) {
  ProjectColumns<double>(W, A, q, D, C, c0, c1, scratch);
}

}  // namespace margin
}  // namespace ecf
