// Channels_last (NHWC) ESCA / ECA CUDA kernels (see esca.h): the math of kernels/esca.cu for dense
// [N, H, W, C] buffers, so that a channels_last network never converts its activations around
// ESCA. Plain CUDA, no libtorch. What each thread computes, every launch dimension and workspace
// offset are in kernels/esca_nhwc_threads.cuh (a host program runs that code in the CPU test
// suite: test/cuda/esca_nhwc_emulate.cc); this file adds the shared-memory barriers, the
// warp-shuffle sums and the launch sequence. Design and memory traffic: docs/decisions/esca.md.
//
// Passes over the [N,H,W,C] tensors (everything else is O(N·C + N·H·W)):
//   ESCA forward  3: GAP (reads x) → gate → SA tap dot products u[n, chunk, q, 9] (reads x) →
//                 σ of the 9-tap sums → out = x·a·sw (reads x, writes out).
//   ESCA backward 3: ds = sw(1−sw)·Σ_c a·go·x (reads go, x) → pool backward: dx = a·dy and the
//                 row-band partials of dwsa and da (reads go, x, writes dx) → their sums → gate
//                 backward → dx += dg/HW (reads and writes dx).
//   ECA forward 2 (GAP; out = x·a), backward 2 (da = Σ go·x; dx = go·a + dg/HW).
// No atomics: every sum runs in a fixed order, so results are deterministic. float16/bfloat16/
// float32 in and out, all arithmetic in float32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>

#include "kernels/esca.h"
#include "kernels/esca_gate.cuh"
#include "kernels/esca_nhwc_threads.cuh"

namespace ecf {
namespace kernels {
namespace nhwc {
namespace {

// Sums v over each aligned group of G lanes (G a power of two ≤ 32): every lane of a group gets
// its group's total. All 32 lanes of the warp must call it.
template <int NV>
__device__ __forceinline__ void GroupSum(float (&v)[NV], int G) {
  for (int o = G >> 1; o > 0; o >>= 1) {
#pragma unroll
    for (int i = 0; i < NV; ++i) v[i] += __shfl_xor_sync(0xffffffffu, v[i], o);
  }
}

template <typename T, int V, bool kDot>
__global__ void __launch_bounds__(kThreads)
    PixelSumKernel(SumGeom s, const T* __restrict__ x, const T* __restrict__ go, float scale, float* __restrict__ out) {
  __shared__ float sh[kThreads * V];
  PixelSumRow<T, V, kDot>(s, x, go, blockIdx.x, threadIdx.x, sh);
  __syncthreads();
  PixelSumStore<V>(s, blockIdx.x, threadIdx.x, sh, scale, out);
}

// src may be out (no __restrict__ on them).
template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    ScaleKernel(int64_t packs, int64_t HW, int64_t C, const T* src, const float* __restrict__ a,
                const float* __restrict__ sw, const float* __restrict__ add, float addScale, T* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < packs;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    ScalePack<T, V>(i, HW, C, src, a, sw, add, addScale, out);
}

// (No __launch_bounds__: with it ptxas capped the V = 1 half builds at 64 registers and spilled.)
template <typename T, int V>
__global__ void TapKernel(TapGeom g, const T* __restrict__ x, const float* __restrict__ a, const float* __restrict__ wsa,
              float* __restrict__ u) {
  extern __shared__ float wsm[];  // g.SmemFloats()
  const TapBlock k = TapBlockOf(g, blockIdx.x);
  for (int64_t i = threadIdx.x; i < 18 * k.Cc; i += kThreads) StageTapWeight(g, k, a, wsa, i, wsm);
  __syncthreads();
  const int lane = threadIdx.x % g.G;
  for (int64_t tile = k.t0; tile < k.t1; ++tile) {  // the same count for every thread of the block
    const int64_t q = TapPixel(g, tile, threadIdx.x);
    float acc[9];
    TapPartial<T, V>(g, k, x, wsm, q, lane, acc);
    GroupSum(acc, g.G);
    if (lane == 0) StoreTaps(g, k, q, acc, u);
  }
}

__global__ void __launch_bounds__(kThreads)
    SpatialGateKernel(TapGeom g, const float* __restrict__ u, float* __restrict__ sw) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < g.N * g.HW) sw[i] = SpatialGateAt(g, u, i);
}

template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    DsKernel(DsGeom d, const T* __restrict__ go, const T* __restrict__ x, const float* __restrict__ a,
             const float* __restrict__ sw, float* __restrict__ ds) {
  const int64_t i = d.Pixel(blockIdx.x, threadIdx.x);
  const int lane = threadIdx.x % d.G;
  float s[1] = {DsPartial<T, V>(d, go, x, a, i, lane)};
  GroupSum(s, d.G);
  if (lane == 0) StoreDs(d, sw, i, s[0], ds);
}

// At most 128 registers, so that two blocks fit one SM.
template <typename T>
__global__ void __launch_bounds__(kThreads, 2)
    PoolBackwardKernel(PoolGeom g, const T* __restrict__ go, const T* __restrict__ x, const float* __restrict__ a,
                       const float* __restrict__ sw, const float* __restrict__ ds, const float* __restrict__ wsa,
                       T* __restrict__ dx, float* __restrict__ part) {
  __shared__ float sh[kParts * kThreads];
  const PoolThread th = PoolThreadOf(g, blockIdx.x, threadIdx.x);
  float acc[kParts];
  PoolBackwardThread<T>(g, th, go, x, a, sw, ds, wsa, dx, acc);
  PoolPartsShare(threadIdx.x, acc, sh);
  __syncthreads();
  PoolPartsStore(g, th, sh, part);
}

__global__ void __launch_bounds__(kThreads)
    DwsaKernel(PoolGeom g, const float* __restrict__ a, const float* __restrict__ part, float* __restrict__ dwsa) {
  __shared__ float sh[kThreads];
  DwsaSlice(g, a, part, blockIdx.x, threadIdx.x, sh);
  __syncthreads();
  DwsaStore(g, blockIdx.x, threadIdx.x, sh, dwsa);
}

__global__ void __launch_bounds__(kThreads)
    DaKernel(PoolGeom g, const float* __restrict__ part, float* __restrict__ da) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < g.N * g.C) da[i] = DaAt(g, part, i);
}

// ---- host side ----------------------------------------------------------------------------------

// A grid of `blocks` blocks; 0 when it does not fit grid.x (the launch is then refused).
unsigned Grid(int64_t blocks) { return blocks > 0 && blocks <= INT_MAX ? static_cast<unsigned>(blocks) : 0u; }

// Element-wise kernels loop over their packs, so their grid is capped.
unsigned ElementGrid(int64_t packs) {
  const int64_t b = CeilDiv(packs, kThreads);
  return static_cast<unsigned>(b < (1 << 20) ? b : (1 << 20));
}

template <typename T, int V>
void LaunchScale(const EscaShape& s, const T* src, const float* a, const float* sw, const float* add, float addScale,
                 T* out, cudaStream_t st) {
  const int64_t packs = s.N * s.H * s.W * (s.C / V);
  ScaleKernel<T, V><<<ElementGrid(packs), kThreads, 0, st>>>(packs, s.H * s.W, s.C, src, a, sw, add, addScale, out);
}

template <typename T, int V>
cudaError_t Forward(const T* x, const float* wca, const float* wsa, EscaShape s, T* out, float* g, float* a, float* sw,
                    float* ws, cudaStream_t st) {
  const int64_t HW = s.H * s.W;
  const SumGeom sg = SumGeom::Make(s.N, s.C, HW, V);
  const TapGeom tg = TapGeom::Make(s.N, s.C, s.H, s.W, V);
  if (!Grid(sg.Blocks()) || !Grid(tg.Blocks()) || !Grid(CeilDiv(s.N * HW, kThreads)))
    return cudaErrorInvalidConfiguration;
  PixelSumKernel<T, V, false><<<Grid(sg.Blocks()), kThreads, 0, st>>>(sg, x, nullptr, 1.f / static_cast<float>(HW), g);
  GateKernel<<<GateBlocks(s.N * s.C), kGateThreads, 0, st>>>(g, wca, s.N, s.C, s.k, a);
  if (!wsa) {
    LaunchScale<T, V>(s, x, a, nullptr, nullptr, 0.f, out, st);
    return cudaGetLastError();
  }
  TapKernel<T, V><<<Grid(tg.Blocks()), kThreads, sizeof(float) * tg.SmemFloats(), st>>>(tg, x, a, wsa, ws);
  SpatialGateKernel<<<Grid(CeilDiv(s.N * HW, kThreads)), kThreads, 0, st>>>(tg, ws, sw);
  LaunchScale<T, V>(s, x, a, sw, nullptr, 0.f, out, st);
  return cudaGetLastError();
}

template <typename T, int V>
cudaError_t Backward(const T* go, const T* x, const float* wca, const float* wsa, const float* g, const float* a,
                     const float* sw, EscaShape s, T* dx, float* dwca, float* dwsa, float* ws, cudaStream_t st) {
  const int64_t HW = s.H * s.W;
  const float invHW = 1.f / static_cast<float>(HW);
  const BackwardSpace b = BackwardSpace::Make(s.N, s.C, s.H, s.W, wsa != nullptr);
  float* da = ws + b.da;
  float* dg = ws + b.dg;
  if (!wsa) {
    const SumGeom sg = SumGeom::Make(s.N, s.C, HW, V);
    if (!Grid(sg.Blocks())) return cudaErrorInvalidConfiguration;
    PixelSumKernel<T, V, true><<<Grid(sg.Blocks()), kThreads, 0, st>>>(sg, x, go, 1.f, da);
    LaunchGateBackward(da, a, g, wca, s.N, s.C, s.k, dg, dwca, st);
    LaunchScale<T, V>(s, go, a, nullptr, dg, invHW, dx, st);
    return cudaGetLastError();
  }
  const DsGeom dsg = DsGeom::Make(s.N, s.C, HW, V);
  const PoolGeom pg = PoolGeom::Make(s.N, s.C, s.H, s.W);
  if (!Grid(dsg.Blocks()) || !Grid(pg.Blocks())) return cudaErrorInvalidConfiguration;
  float* ds = ws + b.ds;
  float* part = ws + b.part;
  DsKernel<T, V><<<Grid(dsg.Blocks()), kThreads, 0, st>>>(dsg, go, x, a, sw, ds);
  PoolBackwardKernel<T><<<Grid(pg.Blocks()), kThreads, 0, st>>>(pg, go, x, a, sw, ds, wsa, dx, part);
  DwsaKernel<<<Grid(DwsaBlocks(pg)), kThreads, 0, st>>>(pg, a, part, dwsa);
  DaKernel<<<Grid(CeilDiv(s.N * s.C, kThreads)), kThreads, 0, st>>>(pg, part, da);
  LaunchGateBackward(da, a, g, wca, s.N, s.C, s.k, dg, dwca, st);
  LaunchScale<T, V>(s, dx, nullptr, nullptr, dg, invHW, dx, st);
  return cudaGetLastError();
}

template <typename T>
cudaError_t ForwardT(const void* x, const float* wca, const float* wsa, EscaShape s, void* out, float* g, float* a,
                     float* sw, float* ws, cudaStream_t st) {
  const T* xt = static_cast<const T*>(x);
  T* ot = static_cast<T*>(out);
  if (PacksFit<T>(s.C, {x, out})) return Forward<T, kVec<T>>(xt, wca, wsa, s, ot, g, a, sw, ws, st);
  return Forward<T, 1>(xt, wca, wsa, s, ot, g, a, sw, ws, st);
}

template <typename T>
cudaError_t BackwardT(const void* go, const void* x, const float* wca, const float* wsa, const float* g,
                      const float* a, const float* sw, EscaShape s, void* dx, float* dwca, float* dwsa, float* ws,
                      cudaStream_t st) {
  const T* gt = static_cast<const T*>(go);
  const T* xt = static_cast<const T*>(x);
  T* dt = static_cast<T*>(dx);
  if (PacksFit<T>(s.C, {go, x, dx}))
    return Backward<T, kVec<T>>(gt, xt, wca, wsa, g, a, sw, s, dt, dwca, dwsa, ws, st);
  return Backward<T, 1>(gt, xt, wca, wsa, g, a, sw, s, dt, dwca, dwsa, ws, st);
}

}  // namespace
}  // namespace nhwc

size_t EscaForwardWorkspaceNhwc(const EscaShape& s, bool spatial) {
  return spatial ? static_cast<size_t>(nhwc::TapGeom::Make(s.N, s.C, s.H, s.W, 1).WorkspaceFloats()) : 0;
}

size_t EscaBackwardWorkspaceNhwc(const EscaShape& s, bool spatial) {
  return static_cast<size_t>(nhwc::BackwardSpace::Make(s.N, s.C, s.H, s.W, spatial).total);
}

cudaError_t EscaForwardCudaNhwc(Dtype dtype, const void* x, const float* wca, const float* wsa, EscaShape s, void* out,
                                float* g, float* a, float* sw, float* ws, cudaStream_t st) {
  if (s.N * s.C * s.H * s.W == 0) return cudaSuccess;
  switch (dtype) {
    case Dtype::kFloat32:
      return nhwc::ForwardT<float>(x, wca, wsa, s, out, g, a, sw, ws, st);
    case Dtype::kFloat16:
      return nhwc::ForwardT<__half>(x, wca, wsa, s, out, g, a, sw, ws, st);
    case Dtype::kBFloat16:
      return nhwc::ForwardT<__nv_bfloat16>(x, wca, wsa, s, out, g, a, sw, ws, st);
    case Dtype::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

cudaError_t EscaBackwardCudaNhwc(Dtype dtype, const void* go, const void* x, const float* wca, const float* wsa,
                                 const float* g, const float* a, const float* sw, EscaShape s, void* dx, float* dwca,
                                 float* dwsa, float* ws, cudaStream_t st) {
  if (s.N * s.C * s.H * s.W == 0) {
    cudaMemsetAsync(dwca, 0, sizeof(float) * s.k, st);
    if (wsa) cudaMemsetAsync(dwsa, 0, sizeof(float) * 18 * s.C, st);
    return cudaGetLastError();
  }
  switch (dtype) {
    case Dtype::kFloat32:
      return nhwc::BackwardT<float>(go, x, wca, wsa, g, a, sw, s, dx, dwca, dwsa, ws, st);
    case Dtype::kFloat16:
      return nhwc::BackwardT<__half>(go, x, wca, wsa, g, a, sw, s, dx, dwca, dwsa, ws, st);
    case Dtype::kBFloat16:
      return nhwc::BackwardT<__nv_bfloat16>(go, x, wca, wsa, g, a, sw, s, dx, dwca, dwsa, ws, st);
    case Dtype::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace kernels
}  // namespace ecf
