// Kernels of the fused margin + cross-entropy op (ops/margin.cc): plain pointers and sizes, no
// libtorch. The CPU kernels (kernels/margin_cpu.cc) work on a range of rows or columns so the
// dispatcher can parallelise them; the CUDA launchers (kernels/margin.cu) take a stream.
//
// Layout shared by both:
//   buf     [B, ld]  row-major, first C columns used: x̂_i·w_j (NOT divided by ‖w_j‖) in the
//                    forward; the backward overwrites it in place with dL/d(x̂_i·w_j).
//   inv     [C]      1 / max(‖w_j‖, 1e-12)
//   labels  [B]      int64 class indices in [0, C)
//   row_out [B, 5]   per row: logsumexp of the margin logits, the row's loss, the number of hard
//                    negatives, 1 if argmax_j c_ij == y_i (first index on ties) else 0, and
//                    x̂_i·w_y/‖w_y‖ before the clamp (kRowOut)
//   t       [1]      the t used by this batch (CurricularFace/MV); ignored otherwise
//   gout    [1]      dL/dloss (the loss is the mean over rows)
// The projection kernels finish the gradient of the column normalisation in place:
//   A_j ← A_j − (W_j·A_j)·q_j·W_j   with q_j = 1/‖w_j‖² (0 where ‖w_j‖ < 1e-12),  A, W [D, C].
#pragma once

#include <cstdint>

#include "kernels/dtype.h"
#include "kernels/margin_math.h"

namespace ecf {
namespace margin {

// ---- CPU (rows [r0, r1) or columns [c0, c1); scratch holds C resp. c1 − c0 values) ----------
void ForwardRowsCpu(const float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                    int64_t r1, const Consts<float>& k, float t, float* row_out, float* scratch);
void ForwardRowsCpu(const double* buf, int64_t ld, const double* inv, const int64_t* labels, int64_t C, int64_t r0,
                    int64_t r1, const Consts<double>& k, double t, double* row_out, double* scratch);
void BackwardRowsCpu(float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C, int64_t r0,
                     int64_t r1, const Consts<float>& k, float t, const float* row_out, float gscale);
void BackwardRowsCpu(double* buf, int64_t ld, const double* inv, const int64_t* labels, int64_t C, int64_t r0,
                     int64_t r1, const Consts<double>& k, double t, const double* row_out, double gscale);
void ProjectColumnsCpu(const float* W, float* A, const float* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                       float* scratch);
void ProjectColumnsCpu(const double* W, double* A, const double* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                       double* scratch);

}  // namespace margin
}  // namespace ecf

#if defined(ECF_WITH_CUDA) || defined(__CUDACC__)
#include <cuda_runtime_api.h>

namespace ecf {
namespace margin {

// `st`: the dtype of buf / W / A on the GPU; inv, q, t, gout and row_out are float32 for kFloat32,
// kFloat16 and kBFloat16 (float32 accumulation) and float64 for kFloat64.
using kernels::Dtype;

cudaError_t ForwardCuda(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                        int64_t C, const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream);
cudaError_t BackwardCuda(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                         int64_t C, const Consts<double>& k, const void* t, const void* row_out, const void* gout,
                         cudaStream_t stream);
cudaError_t ProjectColumnsCuda(Dtype st, const void* W, void* A, const void* q, int64_t D, int64_t C,
                               cudaStream_t stream);

}  // namespace margin
}  // namespace ecf
#endif
