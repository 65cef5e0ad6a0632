// The channel gate's CUDA kernels and the block sum, shared by both layouts of the ESCA kernels
// (kernels/esca.cu for NCHW, kernels/esca_nhwc.cu for NHWC): the gate works on [N, C] statistics,
// which do not depend on the layout of x. Per-element math: kernels/esca_math.cuh.
// Internal linkage: each .cu file gets its own copy of these kernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/esca_math.cuh"

namespace ecf {
namespace kernels {
namespace {

constexpr int kGateThreads = 256;

inline unsigned GateBlocks(int64_t n) { return static_cast<unsigned>((n + kGateThreads - 1) / kGateThreads); }

// Sums NV values over the block; thread 0 receives the totals in v.
template <int NV>
__device__ void BlockSum(float (&v)[NV]) {
  __shared__ float sh[NV][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int i = 0; i < NV; ++i) {
    float s = v[i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) sh[i][warp] = s;
  }
  __syncthreads();
  if (threadIdx.x < 32) {
#pragma unroll
    for (int i = 0; i < NV; ++i) {
      float s = lane < nw ? sh[i][lane] : 0.f;
      for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
      v[i] = s;
    }
  }
  __syncthreads();
}

// a[n,c] = σ(Σ_j w[j]·g[n, c+j−pad]).
__global__ void GateKernel(const float* __restrict__ g, const float* __restrict__ w, int64_t N, int64_t C, int64_t k,
                           float* __restrict__ a) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < N * C) a[i] = GateAt(g, w, C, k, i);
}

// dg[n,c] = Σ_j w[j]·dz[n, c−j+pad] with dz = da·a·(1−a).
__global__ void GateDgKernel(const float* __restrict__ da, const float* __restrict__ a, const float* __restrict__ w,
                             int64_t N, int64_t C, int64_t k, float* __restrict__ dg) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < N * C) dg[i] = GateDgAt(da, a, w, C, k, i);
}

// dw[j] = Σ_{n,c} dz[n,c]·g[n, c+j−pad] (one block per j).
__global__ void GateDwKernel(const float* __restrict__ da, const float* __restrict__ a, const float* __restrict__ g,
                             int64_t N, int64_t C, int64_t k, float* __restrict__ dw) {
  const int64_t j = blockIdx.x;
  float v[1] = {0.f};
  for (int64_t i = threadIdx.x; i < N * C; i += blockDim.x) v[0] += GateDwTerm(da, a, g, C, k, j, i);
  BlockSum<1>(v);
  if (threadIdx.x == 0) dw[j] = v[0];
}

// The gate backward of both layouts: dg [N·C] and dw [k] from da [N·C].
inline void LaunchGateBackward(const float* da, const float* a, const float* g, const float* w, int64_t N, int64_t C,
                               int64_t k, float* dg, float* dw, cudaStream_t st) {
  GateDgKernel<<<GateBlocks(N * C), kGateThreads, 0, st>>>(da, a, w, N, C, k, dg);
  GateDwKernel<<<static_cast<unsigned>(k), kGateThreads, 0, st>>>(da, a, g, N, C, k, dw);
}

}  // namespace
}  // namespace kernels
}  // namespace ecf
