// Scalar math of the ESCA CUDA kernels, shared by both layouts (kernels/esca.cu,
// kernels/esca_nhwc.cu): σ, PyTorch's max-pool rule, and the per-element bodies of the channel
// gate (ECA's conv1d over the channel axis). __host__ __device__, so that a host compiler runs them
// too (test/cuda/esca_nhwc_emulate.cc runs the NHWC kernels' per-thread code on the CPU).
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace ecf {
namespace kernels {

__host__ __device__ __forceinline__ float Sigmoid(float z) {
#ifdef __CUDA_ARCH__
  return 1.f / (1.f + __expf(-z));
#else
  return 1.f / (1.f + std::exp(-z));
#endif
}

// PyTorch's max-pool rule: a later element wins when strictly greater or NaN.
__host__ __device__ __forceinline__ bool Wins(float cand, float best) {
#ifdef __CUDA_ARCH__
  return cand > best || isnan(cand);
#else
  return cand > best || std::isnan(cand);
#endif
}

// The channel gate on [N, C] arrays (any memory layout of x gives the same [N, C] statistics):
//   z[n,c] = Σ_j w[j]·g[n, c+j−pad] (pad = (k−1)/2, zero outside 0..C−1), a = σ(z).

// a[i] for i = n·C + c.
__host__ __device__ __forceinline__ float GateAt(const float* g, const float* w, int64_t C, int64_t k, int64_t i) {
  const int64_t n = i / C, c = i % C, pad = (k - 1) / 2;
  float z = 0.f;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t cc = c + j - pad;
    if (cc >= 0 && cc < C) z += w[j] * g[n * C + cc];
  }
  return Sigmoid(z);
}

// dz = da·σ'(z) = da·a·(1−a).
__host__ __device__ __forceinline__ float GateDz(const float* da, const float* a, int64_t i) {
  return da[i] * a[i] * (1.f - a[i]);
}

// dg[n,c] = Σ_j w[j]·dz[n, c−j+pad].
__host__ __device__ __forceinline__ float GateDgAt(const float* da, const float* a, const float* w, int64_t C,
                                                   int64_t k, int64_t i) {
  const int64_t n = i / C, c = i % C, pad = (k - 1) / 2;
  float s = 0.f;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t cc = c - j + pad;
    if (cc >= 0 && cc < C) s += w[j] * GateDz(da, a, n * C + cc);
  }
  return s;
}

// The term of element i = n·C + c in dw[j] = Σ_{n,c} dz[n,c]·g[n, c+j−pad].
__host__ __device__ __forceinline__ float GateDwTerm(const float* da, const float* a, const float* g, int64_t C,
                                                     int64_t k, int64_t j, int64_t i) {
  const int64_t n = i / C, c = i % C, cc = c + j - (k - 1) / 2;
  return cc >= 0 && cc < C ? GateDz(da, a, i) * g[n * C + cc] : 0.f;
}

}  // namespace kernels
}  // namespace ecf
