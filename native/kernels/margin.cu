// CUDA kernels of the fused margin + cross-entropy op (layout: kernels/margin.h; formulas:
// kernels/margin_math.h, shared with the CPU kernels). Dtypes float32/float64/float16/bfloat16;
// accumulation in float32 (float64 for float64 storage).
//   forward:  one block per row; each thread keeps an online (max, Σexp) pair over its columns,
//             merged across the block; also the hard count and the argmax test.
//   Both the unsharded op and its sharded form (kShard: a shard's columns, an external c_y).
//   backward: one thread per element (2-D grid: columns × rows, rows strided past 65535), in place.
//   project:  one thread per column j of the [D, C] weight gradient.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/margin.h"
#include "kernels/half_convert.cuh"

namespace ecf {
namespace margin {
namespace {

constexpr int kThreads = 256;

using kernels::FromAcc;
using kernels::ToAcc;

template <typename S, typename A>
__device__ __forceinline__ S Store(A v) {
  return FromAcc<S>(v);
}
template <>
__device__ __forceinline__ double Store<double, double>(double v) {
  return v;
}

__device__ __forceinline__ float Exp(float v) { return expf(v); }
__device__ __forceinline__ double Exp(double v) { return exp(v); }
__device__ __forceinline__ float Log(float v) { return logf(v); }
__device__ __forceinline__ double Log(double v) { return log(v); }

template <typename A>
__device__ __forceinline__ A NegInf();
template <>
__device__ __forceinline__ float NegInf<float>() { return -INFINITY; }
template <>
__device__ __forceinline__ double NegInf<double>() { return -static_cast<double>(INFINITY); }

// Merges the online softmax pair (m2, s2) into (m1, s1).
template <typename A>
__device__ __forceinline__ void MergeLse(A& m1, A& s1, A m2, A s2) {
  if (m2 == NegInf<A>()) return;
  if (m1 == NegInf<A>()) {
    m1 = m2;
    s1 = s2;
    return;
  }
  if (m2 > m1) {
    s1 = s1 * Exp(m1 - m2) + s2;
    m1 = m2;
  } else {
    s1 = s1 + s2 * Exp(m2 - m1);
  }
}

// kShard: the sharded form (kernels/margin.h): labels may be −1, c_y comes from cy_ext, and
// row_out gets kShardRowOut values.
template <typename S, typename A, bool kShard>
__global__ void ForwardKernel(const S* __restrict__ buf, int64_t ld, const A* __restrict__ inv,
                              const int64_t* __restrict__ labels, const A* __restrict__ cy_ext, int64_t C, Consts<A> k,
                              const A* __restrict__ tp, A* __restrict__ row_out) {
  __shared__ A sh_m[kThreads], sh_s[kThreads], sh_lo[kThreads], sh_hi[kThreads], sh_h[kThreads];
  const int64_t i = blockIdx.x;
  const S* raw = buf + i * ld;
  const int64_t y = labels[i];
  const A t = *tp;
  const A cy = kShard ? Clamp1<A>(cy_ext[i]) : Clamp1<A>(ToAcc(raw[y]) * inv[y]);
  const A ctm = Ctm<A>(k, cy);
  const A fy = TargetValue<A>(k, cy, ctm);
  A m = NegInf<A>(), s = A(0), lo = NegInf<A>(), hi = NegInf<A>(), hard = A(0);
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
    A z;
    if (j == y) {  // never for y = −1 (a sharded row whose target is elsewhere)
      z = k.s * fy;
      if (kShard) hi = cy > hi ? cy : hi;  // the owned target's c_y as given (top-1 compares to it)
    } else {
      const A c = Clamp1<A>(ToAcc(raw[j]) * inv[j]);
      const bool h = k.negative != kNegPlain && c > ctm;
      const A hv = k.negative == kNegCurricular ? c * (t + c) : (A(1) + t) * c + t;
      z = k.s * (h ? hv : c);
      hard += h ? A(1) : A(0);
      if (j < y) lo = c > lo ? c : lo;
      else hi = c > hi ? c : hi;
    }
    if (z > m) {
      s = (m == NegInf<A>() ? A(0) : s * Exp(m - z)) + A(1);
      m = z;
    } else {
      s += Exp(z - m);
    }
  }
  sh_m[threadIdx.x] = m;
  sh_s[threadIdx.x] = s;
  sh_lo[threadIdx.x] = lo;
  sh_hi[threadIdx.x] = hi;
  sh_h[threadIdx.x] = hard;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      const int o = threadIdx.x + w;
      MergeLse(sh_m[threadIdx.x], sh_s[threadIdx.x], sh_m[o], sh_s[o]);
      sh_lo[threadIdx.x] = sh_lo[o] > sh_lo[threadIdx.x] ? sh_lo[o] : sh_lo[threadIdx.x];
      sh_hi[threadIdx.x] = sh_hi[o] > sh_hi[threadIdx.x] ? sh_hi[o] : sh_hi[threadIdx.x];
      sh_h[threadIdx.x] += sh_h[o];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const A lse = sh_m[0] + Log(sh_s[0]);
    if (kShard) {
      A* out = row_out + i * kShardRowOut;
      out[0] = lse;
      out[1] = k.s * fy;
      out[2] = sh_h[0];
      out[3] = sh_lo[0] > sh_hi[0] ? sh_lo[0] : sh_hi[0];
    } else {
      A* out = row_out + i * kRowOut;
      out[0] = lse;
      out[1] = lse - k.s * fy;
      out[2] = sh_h[0];
      out[3] = (sh_lo[0] < cy && sh_hi[0] <= cy) ? A(1) : A(0);
      out[4] = ToAcc(raw[y]) * inv[y];
    }
  }
}

// dL/dz_ij = a_i·exp(z_ij − lse_i) + b_i·[j = y_i]: the unsharded op has a = dL/dloss / B = −b
// (gp); the sharded one reads a and b per row (gl, gt) and c_y from cy_ext.
template <typename S, typename A, bool kShard>
__global__ void BackwardKernel(S* __restrict__ buf, int64_t ld, const A* __restrict__ inv,
                               const int64_t* __restrict__ labels, const A* __restrict__ cy_ext, int64_t B, int64_t C,
                               Consts<A> k, const A* __restrict__ tp, const A* __restrict__ row_out,
                               const A* __restrict__ gp, const A* __restrict__ gl, const A* __restrict__ gt) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= C) return;
  const A t = *tp;
  const A gscale = kShard ? A(0) : (*gp) / static_cast<A>(B);
  for (int64_t i = blockIdx.y; i < B; i += gridDim.y) {
    S* g = buf + i * ld;
    const int64_t y = labels[i];
    const A lse = kShard ? row_out[i * kShardRowOut] : row_out[i * kRowOut];
    // c_y comes from row_out / cy_ext, not from the buffer (whose target entry another block may
    // be overwriting).
    const A raw_y = kShard ? cy_ext[i] : row_out[i * kRowOut + 4];
    const A a = kShard ? gl[i] : gscale;
    const A b = kShard ? gt[i] : -gscale;
    const A cy = Clamp1<A>(raw_y);
    const A ctm = Ctm<A>(k, cy);
    const A u = ToAcc(g[j]) * inv[j];
    A out;
    bool pass;
    if (j == y) {
      const A fy = TargetValue<A>(k, cy, ctm);
      // a·p + b as (p − 1)·a + (a + b): exact cancellation when b = −a and p ≈ 1.
      out = ((Exp(k.s * fy - lse) - A(1)) * a + (a + b)) * k.s * TargetDeriv<A>(k, cy) * inv[j];
      pass = raw_y >= A(-1) && raw_y <= A(1);
    } else {
      const A c = Clamp1<A>(u);
      const bool h = k.negative != kNegPlain && c > ctm;
      const A hv = k.negative == kNegCurricular ? c * (t + c) : (A(1) + t) * c + t;
      const A hd = k.negative == kNegCurricular ? t + A(2) * c : A(1) + t;
      const A v = k.s * (h ? hv : c);
      out = Exp(v - lse) * k.s * a * (h ? hd : A(1)) * inv[j];
      pass = u >= A(-1) && u <= A(1);
    }
    g[j] = Store<S, A>(pass ? out : A(0));
  }
}

template <typename S, typename A>
__global__ void ProjectKernel(const S* __restrict__ W, S* __restrict__ Ag, const A* __restrict__ q, int64_t D,
                              int64_t C) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= C) return;
  A coef = A(0);
  for (int64_t d = 0; d < D; ++d) coef += ToAcc(W[d * C + j]) * ToAcc(Ag[d * C + j]);
  coef *= q[j];
  for (int64_t d = 0; d < D; ++d) {
    const int64_t o = d * C + j;
    Ag[o] = Store<S, A>(ToAcc(Ag[o]) - coef * ToAcc(W[o]));
  }
}

template <typename A>
Consts<A> Cast(const Consts<double>& k) {
  Consts<A> r;
  r.target = k.target;
  r.negative = k.negative;
  r.s = static_cast<A>(k.s);
  r.m = static_cast<A>(k.m);
  r.cos_m = static_cast<A>(k.cos_m);
  r.sin_m = static_cast<A>(k.sin_m);
  r.th = static_cast<A>(k.th);
  r.mm = static_cast<A>(k.mm);
  return r;
}

template <typename S, typename A, bool kShard>
void LaunchForward(const void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy, int64_t B,
                   int64_t C, const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream) {
  ForwardKernel<S, A, kShard><<<static_cast<unsigned>(B), kThreads, 0, stream>>>(
      static_cast<const S*>(buf), ld, static_cast<const A*>(inv), labels, static_cast<const A*>(cy), C, Cast<A>(k),
      static_cast<const A*>(t), static_cast<A*>(row_out));
}

template <typename S, typename A, bool kShard>
void LaunchBackward(void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy, int64_t B,
                    int64_t C, const Consts<double>& k, const void* t, const void* row_out, const void* gout,
                    const void* gl, const void* gt, cudaStream_t stream) {
  dim3 grid(static_cast<unsigned>((C + kThreads - 1) / kThreads), static_cast<unsigned>(B < 65535 ? B : 65535));
  BackwardKernel<S, A, kShard><<<grid, kThreads, 0, stream>>>(
      static_cast<S*>(buf), ld, static_cast<const A*>(inv), labels, static_cast<const A*>(cy), B, C, Cast<A>(k),
      static_cast<const A*>(t), static_cast<const A*>(row_out), static_cast<const A*>(gout),
      static_cast<const A*>(gl), static_cast<const A*>(gt));
}

// Both forms, every storage dtype.
template <bool kShard>
cudaError_t Forward(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy,
                    int64_t B, int64_t C, const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream) {
  if (B > 2147483647LL) return cudaErrorInvalidValue;
  switch (st) {
    case Dtype::kFloat32:
      LaunchForward<float, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, stream);
      break;
    case Dtype::kFloat64:
      LaunchForward<double, double, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, stream);
      break;
    case Dtype::kFloat16:
      LaunchForward<__half, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, stream);
      break;
    case Dtype::kBFloat16:
      LaunchForward<__nv_bfloat16, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, stream);
      break;
  }
  return cudaGetLastError();
}

template <bool kShard>
cudaError_t Backward(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy,
                     int64_t B, int64_t C, const Consts<double>& k, const void* t, const void* row_out,
                     const void* gout, const void* gl, const void* gt, cudaStream_t stream) {
  switch (st) {
    case Dtype::kFloat32:
      LaunchBackward<float, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, gout, gl, gt, stream);
      break;
    case Dtype::kFloat64:
      LaunchBackward<double, double, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, gout, gl, gt, stream);
      break;
    case Dtype::kFloat16:
      LaunchBackward<__half, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, gout, gl, gt, stream);
      break;
    case Dtype::kBFloat16:
      LaunchBackward<__nv_bfloat16, float, kShard>(buf, ld, inv, labels, cy, B, C, k, t, row_out, gout, gl, gt,
                                                   stream);
      break;
  }
  return cudaGetLastError();
}

template <typename S, typename A>
void LaunchProject(const void* W, void* Ag, const void* q, int64_t D, int64_t C, cudaStream_t stream) {
  ProjectKernel<S, A><<<static_cast<unsigned>((C + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      static_cast<const S*>(W), static_cast<S*>(Ag), static_cast<const A*>(q), D, C);
}

}  // namespace

cudaError_t ForwardCuda(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                        int64_t C, const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream) {
  return Forward<false>(st, buf, ld, inv, labels, nullptr, B, C, k, t, row_out, stream);
}

cudaError_t BackwardCuda(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                         int64_t C, const Consts<double>& k, const void* t, const void* row_out, const void* gout,
                         cudaStream_t stream) {
  return Backward<false>(st, buf, ld, inv, labels, nullptr, B, C, k, t, row_out, gout, nullptr, nullptr, stream);
}

cudaError_t ForwardShardCuda(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels,
                             const void* cy, int64_t B, int64_t C, const Consts<double>& k, const void* t,
                             void* row_out, cudaStream_t stream) {
  return Forward<true>(st, buf, ld, inv, labels, cy, B, C, k, t, row_out, stream);
}

cudaError_t BackwardShardCuda(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, const void* cy,
                              int64_t B, int64_t C, const Consts<double>& k, const void* t, const void* row_out,
                              const void* gl, const void* gt, cudaStream_t stream) {
  return Backward<true>(st, buf, ld, inv, labels, cy, B, C, k, t, row_out, nullptr, gl, gt, stream);
}

cudaError_t ProjectColumnsCuda(Dtype st, const void* W, void* A, const void* q, int64_t D, int64_t C,
                               cudaStream_t stream) {
  switch (st) {
    case Dtype::kFloat32: LaunchProject<float, float>(W, A, q, D, C, stream); break;
    case Dtype::kFloat64: LaunchProject<double, double>(W, A, q, D, C, stream); break;
    case Dtype::kFloat16: LaunchProject<__half, float>(W, A, q, D, C, stream); break;
    case Dtype::kBFloat16: LaunchProject<__nv_bfloat16, float>(W, A, q, D, C, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace margin
}  // namespace ecf
