// ESCA / ECA CUDA kernels (see esca.h). Plain CUDA: no libtorch, compiled by scripts/check-cuda.sh.
//
// Same math and pass structure as the CPU kernels (kernels/esca_cpu.h): the pools are taken on x and
// the channel gate a > 0 is folded into the SA weights (avgpool3(a·x) = a·avgpool3(x),
// maxpool3(a·x) = a·maxpool3(x), same arg-max), so y = a·x is never written.
//   forward : GAP (reads x) → gate (N·C) → SA logits per (n, channel chunk, pixel) (reads x) →
//             chunk sum + σ → out = x·a·sw (reads x, writes out).               3 passes over x.
//   backward: dsw = Σ_c a·go·x per (n, chunk, pixel) (reads go, x) → ds → per plane: pools and
//             the pool backward recomputed from a 5×5 window of x and ds, dwsa partials, da,
//             dx = a·dy (reads go, x, writes dx) → gate backward (N·C) → dx += dg/HW.
// ECA: forward GAP then out = x·a; backward da = Σ go·x then dx = go·a + dg/HW.
// Cross-channel and cross-batch sums go through fixed-order partial buffers (no atomics), so the
// results are deterministic. Inputs are read as float16/bfloat16/float32, everything is summed in
// float32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/esca.h"
#include "kernels/esca_gate.cuh"
#include "kernels/esca_math.cuh"
#include "kernels/half_convert.cuh"

namespace ecf {
namespace kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kChunk = 32;  // channels per task of the cross-channel sums

int64_t Chunks(int64_t C) { return (C + kChunk - 1) / kChunk; }

unsigned Blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// ---- shared pieces ------------------------------------------------------------------------------

// g[p] = mean of plane p (one block per plane).
template <typename T>
__global__ void GapKernel(const T* __restrict__ x, int64_t HW, float* __restrict__ g) {
  const int64_t p = blockIdx.x;
  const T* xp = x + p * HW;
  float v[1] = {0.f};
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) v[0] += ToAcc(xp[i]);
  BlockSum<1>(v);
  if (threadIdx.x == 0) g[p] = v[0] / static_cast<float>(HW);
}

// ---- ECA ------------------------------------------------------------------------------------------

template <typename T>
__global__ void EcaOutKernel(const T* __restrict__ x, const float* __restrict__ a, int64_t HW, int64_t total,
                             T* __restrict__ out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = FromAcc<T>(ToAcc(x[i]) * a[i / HW]);
}

// da[p] = Σ_hw go·x (one block per plane).
template <typename T>
__global__ void PlaneDotKernel(const T* __restrict__ go, const T* __restrict__ x, int64_t HW, float* __restrict__ da) {
  const int64_t p = blockIdx.x;
  float v[1] = {0.f};
  for (int64_t i = threadIdx.x; i < HW; i += blockDim.x) v[0] += ToAcc(go[p * HW + i]) * ToAcc(x[p * HW + i]);
  BlockSum<1>(v);
  if (threadIdx.x == 0) da[p] = v[0];
}

template <typename T>
__global__ void EcaDxKernel(const T* __restrict__ go, const float* __restrict__ a, const float* __restrict__ dg,
                            int64_t HW, int64_t total, T* __restrict__ dx) {
  const float inv = 1.f / static_cast<float>(HW);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i / HW;
    dx[i] = FromAcc<T>(ToAcc(go[i]) * a[p] + dg[p] * inv);
  }
}

// ---- ESCA forward ---------------------------------------------------------------------------------

// part[n, chunk, q] = Σ_{c ∈ chunk} a_c·Σ_{i,j} (wA[c,i,j]·A_x[q+(i−1,j−1)] + wM[c,i,j]·M_x[q+(i−1,j−1)]).
// grid (pixel blocks, chunks, N). Each thread reads the 5×5 window of x around its pixel.
template <typename T>
__global__ void SaLogitsKernel(const T* __restrict__ x, const float* __restrict__ a, const float* __restrict__ wsa,
                               int64_t C, int64_t H, int64_t W, float* __restrict__ part) {
  const int64_t HW = H * W, n = blockIdx.z, chunk = blockIdx.y, nch = gridDim.y;
  const int64_t q = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t c0 = chunk * kChunk, c1 = c0 + kChunk < C ? c0 + kChunk : C;
  __shared__ float wsh[kChunk][18];
  for (int64_t t = threadIdx.x; t < (c1 - c0) * 18; t += blockDim.x) {
    const int64_t c = c0 + t / 18, r = t % 18;
    wsh[t / 18][r] = a[n * C + c] * wsa[(r < 9 ? c : C + c) * 9 + r % 9];
  }
  __syncthreads();
  if (q >= HW) return;
  const int64_t qh = q / W, qw = q % W;
  float acc = 0.f;
  for (int64_t c = c0; c < c1; ++c) {
    const T* xp = x + (n * C + c) * HW;
    float v[5][5];
    bool in[5][5];
#pragma unroll
    for (int i = 0; i < 5; ++i)
#pragma unroll
      for (int j = 0; j < 5; ++j) {
        const int64_t h = qh + i - 2, w = qw + j - 2;
        in[i][j] = h >= 0 && h < H && w >= 0 && w < W;
        v[i][j] = in[i][j] ? ToAcc(xp[h * W + w]) : 0.f;
      }
    const float* wc = wsh[c - c0];
#pragma unroll
    for (int i = 0; i < 3; ++i)
#pragma unroll
      for (int j = 0; j < 3; ++j) {
        if (!in[i + 1][j + 1]) continue;  // the conv's zero padding
        float s = 0.f, m = v[i + 1][j + 1];
#pragma unroll
        for (int u = 0; u < 3; ++u)
#pragma unroll
          for (int t = 0; t < 3; ++t) {
            s += v[i + u][j + t];
            if (in[i + u][j + t] && Wins(v[i + u][j + t], m)) m = v[i + u][j + t];
          }
        acc += wc[i * 3 + j] * (s * (1.f / 9.f)) + wc[9 + i * 3 + j] * m;
      }
  }
  part[(n * nch + chunk) * HW + q] = acc;
}

// r[n,q] = f(Σ_chunks part[n, chunk, q]).
template <bool kSigmoid>
__global__ void ChunkSumKernel(const float* __restrict__ part, const float* __restrict__ sw, int64_t N, int64_t nch,
                               int64_t HW, float* __restrict__ r) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= N * HW) return;
  const int64_t n = i / HW, q = i % HW;
  float s = 0.f;
  for (int64_t j = 0; j < nch; ++j) s += part[(n * nch + j) * HW + q];
  if (kSigmoid) {
    r[i] = Sigmoid(s);
  } else {
    const float v = sw[i];
    r[i] = s * v * (1.f - v);  // ds = dsw·σ'(s)
  }
}

template <typename T>
__global__ void EscaOutKernel(const T* __restrict__ x, const float* __restrict__ a, const float* __restrict__ sw,
                              int64_t C, int64_t HW, int64_t total, T* __restrict__ out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i / HW;
    out[i] = FromAcc<T>(ToAcc(x[i]) * a[p] * sw[(p / C) * HW + i % HW]);
  }
}

// ---- ESCA backward --------------------------------------------------------------------------------

// part[n, chunk, q] = Σ_{c ∈ chunk} a_c·go·x.
template <typename T>
__global__ void DswKernel(const T* __restrict__ go, const T* __restrict__ x, const float* __restrict__ a, int64_t C,
                          int64_t HW, float* __restrict__ part) {
  const int64_t n = blockIdx.z, chunk = blockIdx.y, nch = gridDim.y;
  const int64_t q = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (q >= HW) return;
  const int64_t c0 = chunk * kChunk, c1 = c0 + kChunk < C ? c0 + kChunk : C;
  float s = 0.f;
  for (int64_t c = c0; c < c1; ++c) {
    const int64_t o = (n * C + c) * HW + q;
    s += a[n * C + c] * ToAcc(go[o]) * ToAcc(x[o]);
  }
  part[(n * nch + chunk) * HW + q] = s;
}

// One block per plane (n, c). For pixel p with 5×5 windows of x and ds around it:
//   dy = go·sw + Σ_{q ∈ N(p)} [ dA(q)/9 + (argmax(q) == p)·dM(q) ],  dA(q) = Σ wA·ds(q − (i−1, j−1))
//   dwsa partials Σ_p A_x(p)·ds(p − (i−1, j−1)) (· a_c at the end), da = Σ dy·x, dx = a_c·dy.
template <typename T>
__global__ void EscaPlaneBackwardKernel(const T* __restrict__ go, const T* __restrict__ x, const float* __restrict__ a,
                                        const float* __restrict__ sw, const float* __restrict__ ds,
                                        const float* __restrict__ wsa, int64_t C, int64_t H, int64_t W,
                                        T* __restrict__ dx, float* __restrict__ da, float* __restrict__ dws) {
  const int64_t p = blockIdx.x, n = p / C, c = p % C, HW = H * W;
  const float ac = a[p];
  float wA[9], wM[9];
#pragma unroll
  for (int i = 0; i < 9; ++i) {
    wA[i] = wsa[c * 9 + i];
    wM[i] = wsa[(C + c) * 9 + i];
  }
  const T* xp = x + p * HW;
  const T* gp = go + p * HW;
  const float* dsn = ds + n * HW;
  const float* swn = sw + n * HW;
  float acc[19];
#pragma unroll
  for (int i = 0; i < 19; ++i) acc[i] = 0.f;
  for (int64_t pix = threadIdx.x; pix < HW; pix += blockDim.x) {
    const int64_t ph = pix / W, pw = pix % W;
    float xv[5][5], dv[5][5];
    bool in[5][5];
#pragma unroll
    for (int i = 0; i < 5; ++i)
#pragma unroll
      for (int j = 0; j < 5; ++j) {
        const int64_t h = ph + i - 2, w = pw + j - 2;
        in[i][j] = h >= 0 && h < H && w >= 0 && w < W;
        xv[i][j] = in[i][j] ? ToAcc(xp[h * W + w]) : 0.f;
        dv[i][j] = in[i][j] ? dsn[h * W + w] : 0.f;
      }
    float dy = ToAcc(gp[pix]) * swn[pix];
#pragma unroll
    for (int u = 0; u < 3; ++u)
#pragma unroll
      for (int v = 0; v < 3; ++v) {
        if (!in[u + 1][v + 1]) continue;  // q = p + (u−1, v−1) must be a pixel
        float dA = 0.f, dM = 0.f;
        float best = xv[u + 1][v + 1];
        int bi = -1, bj = -1;
#pragma unroll
        for (int i = 0; i < 3; ++i)
#pragma unroll
          for (int j = 0; j < 3; ++j) {
            const float d = dv[2 + u - i][2 + v - j];
            dA += wA[i * 3 + j] * d;
            dM += wM[i * 3 + j] * d;
            // the window of q, in PyTorch's row-major scan order
            if (in[u + i][v + j] && (bi < 0 || Wins(xv[u + i][v + j], best))) {
              best = xv[u + i][v + j];
              bi = u + i;
              bj = v + j;
            }
          }
        dy += dA * (1.f / 9.f);
        if (bi == 2 && bj == 2) dy += dM;
      }
    // pools of x at p for the weight gradients
    float s = 0.f, m = xv[2][2];
#pragma unroll
    for (int i = 1; i < 4; ++i)
#pragma unroll
      for (int j = 1; j < 4; ++j) {
        s += xv[i][j];
        if (in[i][j] && Wins(xv[i][j], m)) m = xv[i][j];
      }
    s *= 1.f / 9.f;
#pragma unroll
    for (int i = 0; i < 3; ++i)
#pragma unroll
      for (int j = 0; j < 3; ++j) {
        const float d = dv[3 - i][3 - j];
        acc[i * 3 + j] += s * d;
        acc[9 + i * 3 + j] += m * d;
      }
    acc[18] += dy * xv[2][2];
    dx[p * HW + pix] = FromAcc<T>(ac * dy);
  }
  BlockSum<19>(acc);
  if (threadIdx.x == 0) {
#pragma unroll
    for (int i = 0; i < 18; ++i) dws[p * 18 + i] = acc[i] * ac;
    da[p] = acc[18];
  }
}

// dwsa[(t < 9 ? c : C + c)·9 + t mod 9] = Σ_n dws[n, c, t].
__global__ void DwsaReduceKernel(const float* __restrict__ dws, int64_t N, int64_t C, float* __restrict__ dwsa) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= C * 18) return;
  const int64_t c = i / 18, t = i % 18;
  float s = 0.f;
  for (int64_t n = 0; n < N; ++n) s += dws[(n * C + c) * 18 + t];
  dwsa[(t < 9 ? c : C + c) * 9 + t % 9] = s;
}

template <typename T>
__global__ void AddDgKernel(const float* __restrict__ dg, int64_t HW, int64_t total, T* __restrict__ dx) {
  const float inv = 1.f / static_cast<float>(HW);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = FromAcc<T>(ToAcc(dx[i]) + dg[i / HW] * inv);
}

// ---- host side ----------------------------------------------------------------------------------

template <typename T>
cudaError_t Forward(const T* x, const float* wca, const float* wsa, EscaShape s, T* out, float* g, float* a, float* sw,
                    float* ws, cudaStream_t st) {
  const int64_t NC = s.N * s.C, HW = s.H * s.W, total = NC * HW;
  if (total == 0) return cudaSuccess;
  GapKernel<T><<<static_cast<unsigned>(NC), kThreads, 0, st>>>(x, HW, g);
  GateKernel<<<Blocks(NC), kThreads, 0, st>>>(g, wca, s.N, s.C, s.k, a);
  if (!wsa) {
    EcaOutKernel<T><<<Blocks(total), kThreads, 0, st>>>(x, a, HW, total, out);
    return cudaGetLastError();
  }
  const int64_t nch = Chunks(s.C);
  if (s.N > 65535 || nch > 65535) return cudaErrorInvalidConfiguration;  // grid.z / grid.y limits
  const dim3 grid(static_cast<unsigned>((HW + kThreads - 1) / kThreads), static_cast<unsigned>(nch),
                  static_cast<unsigned>(s.N));
  SaLogitsKernel<T><<<grid, kThreads, 0, st>>>(x, a, wsa, s.C, s.H, s.W, ws);
  ChunkSumKernel<true><<<Blocks(s.N * HW), kThreads, 0, st>>>(ws, nullptr, s.N, nch, HW, sw);
  EscaOutKernel<T><<<Blocks(total), kThreads, 0, st>>>(x, a, sw, s.C, HW, total, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t Backward(const T* go, const T* x, const float* wca, const float* wsa, const float* g, const float* a,
                     const float* sw, EscaShape s, T* dx, float* dwca, float* dwsa, float* ws, cudaStream_t st) {
  const int64_t NC = s.N * s.C, HW = s.H * s.W, total = NC * HW;
  if (total == 0) {
    cudaMemsetAsync(dwca, 0, sizeof(float) * s.k, st);
    if (wsa) cudaMemsetAsync(dwsa, 0, sizeof(float) * 18 * s.C, st);
    return cudaGetLastError();
  }
  float* da = ws;
  float* dg = da + NC;
  if (!wsa) {
    PlaneDotKernel<T><<<static_cast<unsigned>(NC), kThreads, 0, st>>>(go, x, HW, da);
    LaunchGateBackward(da, a, g, wca, s.N, s.C, s.k, dg, dwca, st);
    EcaDxKernel<T><<<Blocks(total), kThreads, 0, st>>>(go, a, dg, HW, total, dx);
    return cudaGetLastError();
  }
  const int64_t nch = Chunks(s.C);
  if (s.N > 65535 || nch > 65535) return cudaErrorInvalidConfiguration;  // grid.z / grid.y limits
  float* dws = dg + NC;
  float* ds = dws + NC * 18;
  float* part = ds + s.N * HW;
  const dim3 grid(static_cast<unsigned>((HW + kThreads - 1) / kThreads), static_cast<unsigned>(nch),
                  static_cast<unsigned>(s.N));
  DswKernel<T><<<grid, kThreads, 0, st>>>(go, x, a, s.C, HW, part);
  ChunkSumKernel<false><<<Blocks(s.N * HW), kThreads, 0, st>>>(part, sw, s.N, nch, HW, ds);
  EscaPlaneBackwardKernel<T><<<static_cast<unsigned>(NC), kThreads, 0, st>>>(go, x, a, sw, ds, wsa, s.C, s.H, s.W, dx,
                                                                            da, dws);
  DwsaReduceKernel<<<Blocks(s.C * 18), kThreads, 0, st>>>(dws, s.N, s.C, dwsa);
  LaunchGateBackward(da, a, g, wca, s.N, s.C, s.k, dg, dwca, st);
  AddDgKernel<T><<<Blocks(total), kThreads, 0, st>>>(dg, HW, total, dx);
  return cudaGetLastError();
}

}  // namespace

size_t EscaForwardWorkspace(const EscaShape& s, bool spatial) {
  return spatial ? static_cast<size_t>(s.N * Chunks(s.C) * s.H * s.W) : 0;
}

size_t EscaBackwardWorkspace(const EscaShape& s, bool spatial) {
  const int64_t NC = s.N * s.C, HW = s.H * s.W;
  if (!spatial) return static_cast<size_t>(2 * NC);
  return static_cast<size_t>(2 * NC + 18 * NC + s.N * HW + s.N * Chunks(s.C) * HW);
}

cudaError_t EscaForwardCuda(Dtype dtype, const void* x, const float* wca, const float* wsa, EscaShape s, void* out,
                            float* g, float* a, float* sw, float* ws, cudaStream_t st) {
  switch (dtype) {
    case Dtype::kFloat32:
      return Forward(static_cast<const float*>(x), wca, wsa, s, static_cast<float*>(out), g, a, sw, ws, st);
    case Dtype::kFloat16:
      return Forward(static_cast<const __half*>(x), wca, wsa, s, static_cast<__half*>(out), g, a, sw, ws, st);
    case Dtype::kBFloat16:
      return Forward(static_cast<const __nv_bfloat16*>(x), wca, wsa, s, static_cast<__nv_bfloat16*>(out), g, a, sw,
                     ws, st);
    case Dtype::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

cudaError_t EscaBackwardCuda(Dtype dtype, const void* go, const void* x, const float* wca, const float* wsa,
                             const float* g, const float* a, const float* sw, EscaShape s, void* dx, float* dwca,
                             float* dwsa, float* ws, cudaStream_t st) {
  switch (dtype) {
    case Dtype::kFloat32:
      return Backward(static_cast<const float*>(go), static_cast<const float*>(x), wca, wsa, g, a, sw, s,
                      static_cast<float*>(dx), dwca, dwsa, ws, st);
    case Dtype::kFloat16:
      return Backward(static_cast<const __half*>(go), static_cast<const __half*>(x), wca, wsa, g, a, sw, s,
                      static_cast<__half*>(dx), dwca, dwsa, ws, st);
    case Dtype::kBFloat16:
      return Backward(static_cast<const __nv_bfloat16*>(go), static_cast<const __nv_bfloat16*>(x), wca, wsa, g, a,
                      sw, s, static_cast<__nv_bfloat16*>(dx), dwca, dwsa, ws, st);
    case Dtype::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace kernels
}  // namespace ecf
