// CUDA kernels of the fused margin + cross-entropy op (layout: kernels/margin.h; formulas:
// kernels/margin_math.h, shared with the CPU kernels). Dtypes float32/float64/float16/bfloat16;
// accumulation in float32 (float64 for float64 storage).
//   forward:  one block per row; each thread keeps an online (max, Σexp) pair over its columns,
//             merged across the block; also the hard count and the argmax test.
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

template <typename S, typename A>
__global__ void ForwardKernel(const S* __restrict__ buf, int64_t ld, const A* __restrict__ inv,
                              const int64_t* __restrict__ labels, int64_t C, Consts<A> k, const A* __restrict__ tp,
                              A* __restrict__ row_out) {
  __shared__ A sh_m[kThreads], sh_s[kThreads], sh_lo[kThreads], sh_hi[kThreads], sh_h[kThreads];
  const int64_t i = blockIdx.x;
  const S* raw = buf + i * ld;
  const int64_t y = labels[i];
  const A t = *tp;
  const A cy = Clamp1<A>(ToAcc(raw[y]) * inv[y]);
  const A ctm = Ctm<A>(k, cy);
  const A fy = TargetValue<A>(k, cy, ctm);
  A m = NegInf<A>(), s = A(0), lo = NegInf<A>(), hi = NegInf<A>(), hard = A(0);
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
    A z;
    if (j == y) {
      z = k.s * fy;
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
    A* out = row_out + i * kRowOut;
    out[0] = lse;
    out[1] = lse - k.s * fy;
    out[2] = sh_h[0];
    out[3] = (sh_lo[0] < cy && sh_hi[0] <= cy) ? A(1) : A(0);
    out[4] = ToAcc(raw[y]) * inv[y];
  }
}

template <typename S, typename A>
__global__ void BackwardKernel(S* __restrict__ buf, int64_t ld, const A* __restrict__ inv,
                               const int64_t* __restrict__ labels, int64_t B, int64_t C, Consts<A> k,
                               const A* __restrict__ tp, const A* __restrict__ row_out, const A* __restrict__ gp) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= C) return;
  const A t = *tp;
  const A sg = k.s * (*gp) / static_cast<A>(B);
  for (int64_t i = blockIdx.y; i < B; i += gridDim.y) {
    S* g = buf + i * ld;
    const int64_t y = labels[i];
    const A lse = row_out[i * kRowOut];
    // c_y comes from row_out, not from the buffer (whose target entry another block may be
    // overwriting).
    const A cy = Clamp1<A>(row_out[i * kRowOut + 4]);
    const A ctm = Ctm<A>(k, cy);
    const A u = ToAcc(g[j]) * inv[j];
    const A c = Clamp1<A>(u);
    const bool pass = u >= A(-1) && u <= A(1);
    A out;
    if (j == y) {
      const A fy = TargetValue<A>(k, c, ctm);
      out = (Exp(k.s * fy - lse) - A(1)) * sg * TargetDeriv<A>(k, c) * inv[j];
    } else {
      const bool h = k.negative != kNegPlain && c > ctm;
      const A hv = k.negative == kNegCurricular ? c * (t + c) : (A(1) + t) * c + t;
      const A hd = k.negative == kNegCurricular ? t + A(2) * c : A(1) + t;
      const A v = k.s * (h ? hv : c);
      out = Exp(v - lse) * sg * (h ? hd : A(1)) * inv[j];
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

template <typename S, typename A>
void LaunchForward(const void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B, int64_t C,
                   const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream) {
  ForwardKernel<S, A><<<static_cast<unsigned>(B), kThreads, 0, stream>>>(
      static_cast<const S*>(buf), ld, static_cast<const A*>(inv), labels, C, Cast<A>(k), static_cast<const A*>(t),
      static_cast<A*>(row_out));
}

template <typename S, typename A>
void LaunchBackward(void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B, int64_t C,
                    const Consts<double>& k, const void* t, const void* row_out, const void* gout,
                    cudaStream_t stream) {
  dim3 grid(static_cast<unsigned>((C + kThreads - 1) / kThreads), static_cast<unsigned>(B < 65535 ? B : 65535));
  BackwardKernel<S, A><<<grid, kThreads, 0, stream>>>(static_cast<S*>(buf), ld, static_cast<const A*>(inv), labels, B,
                                                      C, Cast<A>(k), static_cast<const A*>(t),
                                                      static_cast<const A*>(row_out), static_cast<const A*>(gout));
}

template <typename S, typename A>
void LaunchProject(const void* W, void* Ag, const void* q, int64_t D, int64_t C, cudaStream_t stream) {
  ProjectKernel<S, A><<<static_cast<unsigned>((C + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      static_cast<const S*>(W), static_cast<S*>(Ag), static_cast<const A*>(q), D, C);
}

}  // namespace

cudaError_t ForwardCuda(Dtype st, const void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                        int64_t C, const Consts<double>& k, const void* t, void* row_out, cudaStream_t stream) {
  if (B > 2147483647LL) return cudaErrorInvalidValue;
  switch (st) {
    case Dtype::kFloat32: LaunchForward<float, float>(buf, ld, inv, labels, B, C, k, t, row_out, stream); break;
    case Dtype::kFloat64: LaunchForward<double, double>(buf, ld, inv, labels, B, C, k, t, row_out, stream); break;
    case Dtype::kFloat16: LaunchForward<__half, float>(buf, ld, inv, labels, B, C, k, t, row_out, stream); break;
    case Dtype::kBFloat16:
      LaunchForward<__nv_bfloat16, float>(buf, ld, inv, labels, B, C, k, t, row_out, stream);
      break;
  }
  return cudaGetLastError();
}

cudaError_t BackwardCuda(Dtype st, void* buf, int64_t ld, const void* inv, const int64_t* labels, int64_t B,
                         int64_t C, const Consts<double>& k, const void* t, const void* row_out, const void* gout,
                         cudaStream_t stream) {
  switch (st) {
    case Dtype::kFloat32:
      LaunchBackward<float, float>(buf, ld, inv, labels, B, C, k, t, row_out, gout, stream);
      break;
    case Dtype::kFloat64:
      LaunchBackward<double, double>(buf, ld, inv, labels, B, C, k, t, row_out, gout, stream);
      break;
    case Dtype::kFloat16:
      LaunchBackward<__half, float>(buf, ld, inv, labels, B, C, k, t, row_out, gout, stream);
      break;
    case Dtype::kBFloat16:
      LaunchBackward<__nv_bfloat16, float>(buf, ld, inv, labels, B, C, k, t, row_out, gout, stream);
      break;
  }
  return cudaGetLastError();
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
