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
//
// Sharded form (the Partial-FC head, lib/distributed/sharded-head.ts): buf and inv cover this
// shard's C columns only, and
//   labels  [B]      int64 in [−1, C): the target's column in this shard, −1 where another shard
//                    owns it (no target column here)
//   cy      [B]      x̂_i·w_y/‖w_y‖ (unclamped) as computed by the owner and all-reduced: every
//                    shard takes cos(θ_y + m) (the hard-negative threshold) and s·f(c_y) (the target
//                    logit, at the owned column) from it, so all shards agree on them
//   row_out [B, 4]   logsumexp over the shard's margin logits, s·f(c_y), hard count, max_j c_ij
//                    with the owned target column's c_ij taken as the given c_y (kShardRowOut)
//   gl, gt  [B]      backward: dL/dz_ij = gl_i·exp(z_ij − lse_i) + gt_i·[j = y_i], i.e. gl the
//                    gradient of the shard's logsumexp and gt that of the target logit (the latter
//                    reaches the owned column only; the threshold mask has no gradient)
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
void ForwardShardRowsCpu(const float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                         int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, float* row_out,
                         float* scratch);
void ForwardShardRowsCpu(const double* buf, int64_t ld, const double* inv, const int64_t* labels, const double* cy,
                         int64_t C, int64_t r0, int64_t r1, const Consts<double>& k, double t, double* row_out,
                         double* scratch);
void BackwardShardRowsCpu(float* buf, int64_t ld, const float* inv, const int64_t* labels, const float* cy,
                          int64_t C, int64_t r0, int64_t r1, const Consts<float>& k, float t, const float* row_out,
                          const float* gl, const float* gt);
void BackwardShardRowsCpu(double* buf, int64_t ld, const double* inv, const int64_t* labels, const double* cy,
                          int64_t C, int64_t r0, int64_t r1, const Consts<double>& k, double t,
                          const double* row_out, const double* gl, const double* gt);
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
// Sharded form: cy, gl, gt in the accumulation type as row_out.
cudaError_t ForwardShardCuda(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels,
                             const void* cy, int64_t B, int64_t C, const Consts<double>& k, const void* t,
                             void* row_out, cudaStream_t stream);
cudaError_t BackwardShardCuda(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy,
                              int64_t B, int64_t C, const Consts<double>& k, const void* t, const void* row_out,
                              const void* gl, const void* gt, cudaStream_t stream);
cudaError_t ProjectColumnsCuda(Dtype st, const void* W, void* A, const void* q, int64_t D, int64_t C,
                               cudaStream_t stream);

}  // namespace margin
}  // namespace ecf
#endif
