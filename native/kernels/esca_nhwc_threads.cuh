// The work of one thread of each channels_last (NHWC) ESCA / ECA CUDA kernel (kernels/esca_nhwc.cu),
// and every launch dimension and workspace offset, as __host__ __device__ functions of (block,
// thread). A host program runs this very code over an emulated grid
// (test/cuda/esca_nhwc_emulate.cc, in the CPU test suite): the __global__ wrappers in esca_nhwc.cu
// add only shared-memory barriers and warp-shuffle sums between the phases defined here.
//
// Layout: x[n, h, w, c] at ((n·H + h)·W + w)·C + c (dense channels_last); the saved statistics are
// g, a [N, C] and sw [N, H, W], as for NCHW (kernels/esca.h). Notation: kernels/esca_cpu_nchw.h
// (A = avgpool3, M = maxpool3 taken on x; the gate a > 0 is folded into the SA weights).
//
// Packs: a thread reads V consecutive channels of one pixel at once (one 16-byte load when
// V = 16 / sizeof(T)). The launcher picks that V when C is a multiple of it and the buffers are
// 16-byte aligned, else V = 1 (PacksFit below).
#pragma once

#include <cuda_runtime.h>

#include <cassert>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "kernels/esca_math.cuh"
#include "kernels/half_convert.cuh"

#if defined(__CUDACC__)
#define ECF_UNROLL _Pragma("unroll")
#else
#define ECF_UNROLL
#endif

namespace ecf {
namespace kernels {
namespace nhwc {

constexpr int kThreads = 256;      // threads per block of every kernel here
constexpr int64_t kChunk = 512;    // channels whose SA weights one tap block keeps in shared memory
constexpr int kTilesPerBlock = 4;  // pixel tiles per tap block (spreads the cost of loading weights)
constexpr int kRows = 2;           // output rows per thread of the pool backward (docs/decisions/esca.md)
constexpr int kParts = 19;         // pool-backward partials per channel: 18 SA weight taps, then da

template <typename T>
constexpr int kVec = static_cast<int>(16 / sizeof(T));  // channels in one 16-byte pack

// Lanes of a pixel group: the power of two ≥ packs, at most one warp.
__host__ __device__ inline int GroupLanes(int64_t packs) {
  int g = 1;
  while (g < 32 && g < packs) g <<= 1;
  return g;
}

__host__ __device__ inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- packs -------------------------------------------------------------------------------------

// Whether kernels may read V = kVec<T> channels at once: C is a multiple of it and every
// [N,H,W,C] buffer is 16-byte aligned (otherwise they run with V = 1).
template <typename T>
inline bool PacksFit(int64_t C, std::initializer_list<const void*> buffers) {
  if (C % kVec<T> != 0) return false;
  for (const void* p : buffers)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// V channels at p, as floats. On the host (the emulation) the alignment the device load needs is
// asserted, so the emulation proves that the launcher's choice of V keeps every pack aligned.
template <typename T, int V>
__host__ __device__ __forceinline__ void LoadPack(const T* p, float (&f)[V]) {
  Pack<T, V> k;
#ifdef __CUDA_ARCH__
  k = *reinterpret_cast<const Pack<T, V>*>(p);
#else
  assert(reinterpret_cast<uintptr_t>(p) % sizeof(Pack<T, V>) == 0);
  std::memcpy(static_cast<void*>(&k), static_cast<const void*>(p), sizeof k);
#endif
  ECF_UNROLL
  for (int j = 0; j < V; ++j) f[j] = ToAcc(k.v[j]);
}

template <typename T, int V>
__host__ __device__ __forceinline__ void StorePack(T* p, const float (&f)[V]) {
  Pack<T, V> k;
  ECF_UNROLL
  for (int j = 0; j < V; ++j) k.v[j] = FromAcc<T>(f[j]);
#ifdef __CUDA_ARCH__
  *reinterpret_cast<Pack<T, V>*>(p) = k;
#else
  assert(reinterpret_cast<uintptr_t>(p) % sizeof(Pack<T, V>) == 0);
  std::memcpy(static_cast<void*>(p), static_cast<const void*>(&k), sizeof k);
#endif
}

// ---- per-pixel sums: out[n, c] = scale·Σ_p x[n,p,c] (·go[n,p,c] with kDot) ------------------------
// GAP (scale 1/HW) and ECA's da = Σ go·x. Block: G lanes over packs × R = kThreads/G rows; row r
// adds pixels r, r+R, … of sample n (phase 1, into shared memory), then row 0 adds the R row sums
// in order (phase 2). Grid: N × pack tiles of G packs.

struct SumGeom {
  int64_t N, C, HW, P, tiles;
  int V, G, R;
  __host__ __device__ static SumGeom Make(int64_t N, int64_t C, int64_t HW, int V) {
    SumGeom s;
    s.N = N, s.C = C, s.HW = HW, s.V = V, s.P = C / V;
    s.G = GroupLanes(s.P), s.R = kThreads / s.G, s.tiles = CeilDiv(s.P, s.G);
    return s;
  }
  __host__ __device__ int64_t Blocks() const { return N * tiles; }
  __host__ __device__ int64_t Sample(int64_t b) const { return b / tiles; }
  __host__ __device__ int64_t PackOf(int64_t b, int tid) const { return (b % tiles) * G + tid % G; }
};

// Phase 1 of thread tid: its row's sums into sh[tid·V + j] (kThreads·V floats).
template <typename T, int V, bool kDot>
__host__ __device__ inline void PixelSumRow(const SumGeom& s, const T* x, const T* go, int64_t b, int tid,
                                            float* sh) {
  const int64_t n = s.Sample(b), k = s.PackOf(b, tid);
  float acc[V];
  ECF_UNROLL
  for (int j = 0; j < V; ++j) acc[j] = 0.f;
  if (k < s.P) {
    for (int64_t p = tid / s.G; p < s.HW; p += s.R) {
      const int64_t off = (n * s.HW + p) * s.C + k * V;
      float xv[V];
      LoadPack<T, V>(x + off, xv);
      if (kDot) {
        float gv[V];
        LoadPack<T, V>(go + off, gv);
        ECF_UNROLL
        for (int j = 0; j < V; ++j) acc[j] += gv[j] * xv[j];
      } else {
        ECF_UNROLL
        for (int j = 0; j < V; ++j) acc[j] += xv[j];
      }
    }
  }
  ECF_UNROLL
  for (int j = 0; j < V; ++j) sh[tid * V + j] = acc[j];
}

// Phase 2: row 0 adds the rows' sums in order and writes out[n, c].
template <int V>
__host__ __device__ inline void PixelSumStore(const SumGeom& s, int64_t b, int tid, const float* sh, float scale,
                                              float* out) {
  const int64_t n = s.Sample(b), k = s.PackOf(b, tid);
  if (tid >= s.G || k >= s.P) return;
  for (int j = 0; j < V; ++j) {
    float t = 0.f;
    for (int r = 0; r < s.R; ++r) t += sh[(r * s.G + tid) * V + j];
    out[n * s.C + k * V + j] = t * scale;
  }
}

// ---- element-wise: out = src·a[n,c]·sw[n,p] + add[n,c]·addScale -----------------------------------
// a, sw or add may be null (factor 1, term 0). One pack per index i of N·HW·P. src may be out.
//   ESCA output x·a·sw, ECA output x·a, ECA dx = go·a + dg/HW, ESCA's last pass dx += dg/HW.
template <typename T, int V>
__host__ __device__ inline void ScalePack(int64_t i, int64_t HW, int64_t C, const T* src, const float* a,
                                          const float* sw, const float* add, float addScale, T* out) {
  const int64_t P = C / V, np = i / P, n = np / HW, c = (i % P) * V;
  const int64_t off = np * C + c;
  float v[V];
  LoadPack<T, V>(src + off, v);
  const float s = sw ? sw[np] : 1.f;
  ECF_UNROLL
  for (int j = 0; j < V; ++j) {
    float r = v[j];
    if (a) r *= a[n * C + c + j];
    r *= s;
    if (add) r += add[n * C + c + j] * addScale;
    v[j] = r;
  }
  StorePack<T, V>(out + off, v);
}

// ---- SA forward: the 9 tap dot products of every pooled pixel ---------------------------------
// u_t(q) = Σ_c a_c·(wA[c,t]·A_c(q) + wM[c,t]·M_c(q)) for t = 3i + j, summed per chunk of kChunk
// channels into u[n, chunk, q, t]; then s(p) = Σ_chunks Σ_t u_t(p + (i−1, j−1)) over the in-image
// taps (the conv's zero padding), sw = σ(s). A pixel group of G lanes splits the chunk's packs
// and adds its 9 sums with warp shuffles; a block holds the chunk's weights a_c·wsa in shared
// memory, laid out [t][j][pack] so that the lanes of a group read consecutive words.

struct TapGeom {
  int64_t N, C, H, W, HW, nch, tiles, bpc;  // bpc: blocks per (sample, chunk)
  int V, G, PPB;                            // PPB: pixels (groups) per tile
  __host__ __device__ static TapGeom Make(int64_t N, int64_t C, int64_t H, int64_t W, int V) {
    TapGeom t;
    t.N = N, t.C = C, t.H = H, t.W = W, t.HW = H * W, t.V = V;
    t.G = GroupLanes((C < kChunk ? C : kChunk) / V), t.PPB = kThreads / t.G;
    t.nch = CeilDiv(C, kChunk), t.tiles = CeilDiv(t.HW, t.PPB), t.bpc = CeilDiv(t.tiles, kTilesPerBlock);
    return t;
  }
  __host__ __device__ int64_t Blocks() const { return N * nch * bpc; }
  __host__ __device__ int64_t SmemFloats() const { return 18 * (C < kChunk ? C : kChunk); }
  __host__ __device__ int64_t WorkspaceFloats() const { return N * nch * HW * 9; }
};

// What block b works on: sample n, chunk ch (channels c0 .. c0+Cc−1 = Pcc packs), tiles t0..t1−1.
struct TapBlock {
  int64_t n, ch, c0, Cc, Pcc, t0, t1;
};

__host__ __device__ inline TapBlock TapBlockOf(const TapGeom& g, int64_t b) {
  TapBlock k;
  const int64_t bc = b % g.bpc;
  k.ch = (b / g.bpc) % g.nch, k.n = b / (g.bpc * g.nch);
  k.c0 = k.ch * kChunk, k.Cc = g.C - k.c0 < kChunk ? g.C - k.c0 : kChunk, k.Pcc = k.Cc / g.V;
  k.t0 = bc * kTilesPerBlock, k.t1 = k.t0 + kTilesPerBlock < g.tiles ? k.t0 + kTilesPerBlock : g.tiles;
  return k;
}

// Phase 1 (i = tid, tid + kThreads, … < 18·Cc): weight i of the block's chunk into wsm.
__host__ __device__ inline void StageTapWeight(const TapGeom& g, const TapBlock& k, const float* a, const float* wsa,
                                               int64_t i, float* wsm) {
  const int64_t t = i / k.Cc, cc = i % k.Cc, c = k.c0 + cc;
  wsm[(t * g.V + cc % g.V) * k.Pcc + cc / g.V] = a[k.n * g.C + c] * wsa[(t < 9 ? c : g.C + c) * 9 + t % 9];
}

// Phase 2: the pixel of lane `lane` in tile `tile` and this lane's share of its 9 tap sums.
__host__ __device__ inline int64_t TapPixel(const TapGeom& g, int64_t tile, int tid) { return tile * g.PPB + tid / g.G; }

template <typename T, int V>
__host__ __device__ inline void TapPartial(const TapGeom& g, const TapBlock& k, const T* x, const float* wsm, int64_t q,
                                           int lane, float (&acc)[9]) {
  ECF_UNROLL
  for (int t = 0; t < 9; ++t) acc[t] = 0.f;
  if (q >= g.HW) return;
  const int64_t qh = q / g.W, qw = q % g.W;
  const T* xs = x + k.n * g.HW * g.C;
  for (int64_t kk = lane; kk < k.Pcc; kk += g.G) {
    const int64_t c = k.c0 + kk * V;
    float A[V], M[V];
    ECF_UNROLL
    for (int j = 0; j < V; ++j) A[j] = M[j] = 0.f;
    bool first = true;  // the window's first in-image tap, in PyTorch's row-major scan order
    ECF_UNROLL
    for (int i = 0; i < 3; ++i) {
      const int64_t h = qh + i - 1;
      if (h < 0 || h >= g.H) continue;
      ECF_UNROLL
      for (int j = 0; j < 3; ++j) {
        const int64_t w = qw + j - 1;
        if (w < 0 || w >= g.W) continue;
        float v[V];
        LoadPack<T, V>(xs + (h * g.W + w) * g.C + c, v);
        ECF_UNROLL
        for (int l = 0; l < V; ++l) {
          A[l] += v[l];
          if (first || Wins(v[l], M[l])) M[l] = v[l];
        }
        first = false;
      }
    }
    ECF_UNROLL
    for (int l = 0; l < V; ++l) {
      const float av = A[l] * (1.f / 9.f);  // count_include_pad
      ECF_UNROLL
      for (int t = 0; t < 9; ++t)
        acc[t] += wsm[(t * V + l) * k.Pcc + kk] * av + wsm[((9 + t) * V + l) * k.Pcc + kk] * M[l];
    }
  }
}

// Phase 3 (lane 0 of the group, after the group sum): u[n, chunk, q, ·].
__host__ __device__ inline void StoreTaps(const TapGeom& g, const TapBlock& k, int64_t q, const float (&acc)[9],
                                          float* u) {
  if (q >= g.HW) return;
  float* o = u + ((k.n * g.nch + k.ch) * g.HW + q) * 9;
  ECF_UNROLL
  for (int t = 0; t < 9; ++t) o[t] = acc[t];
}

// sw[i] for i = n·HW + p.
__host__ __device__ inline float SpatialGateAt(const TapGeom& g, const float* u, int64_t i) {
  const int64_t n = i / g.HW, p = i % g.HW, ph = p / g.W, pw = p % g.W;
  float s = 0.f;
  for (int64_t ch = 0; ch < g.nch; ++ch) {
    const float* un = u + (n * g.nch + ch) * g.HW * 9;
    for (int i3 = 0; i3 < 3; ++i3) {
      const int64_t qh = ph + i3 - 1;
      if (qh < 0 || qh >= g.H) continue;
      for (int j3 = 0; j3 < 3; ++j3) {
        const int64_t qw = pw + j3 - 1;
        if (qw >= 0 && qw < g.W) s += un[(qh * g.W + qw) * 9 + 3 * i3 + j3];
      }
    }
  }
  return Sigmoid(s);
}

// ---- SA backward, pass 1: ds(p) = sw(1−sw)·Σ_c a_c·go·x ---------------------------------------------
// A pixel group of G lanes per pixel (i over N·HW), lanes over packs, summed with warp shuffles.

struct DsGeom {
  int64_t N, C, HW, P;
  int V, G, PPB;
  __host__ __device__ static DsGeom Make(int64_t N, int64_t C, int64_t HW, int V) {
    DsGeom d;
    d.N = N, d.C = C, d.HW = HW, d.V = V, d.P = C / V, d.G = GroupLanes(d.P), d.PPB = kThreads / d.G;
    return d;
  }
  __host__ __device__ int64_t Blocks() const { return CeilDiv(N * HW, PPB); }
  __host__ __device__ int64_t Pixel(int64_t b, int tid) const { return b * PPB + tid / G; }
};

template <typename T, int V>
__host__ __device__ inline float DsPartial(const DsGeom& d, const T* go, const T* x, const float* a, int64_t i,
                                           int lane) {
  if (i >= d.N * d.HW) return 0.f;
  const float* an = a + (i / d.HW) * d.C;
  float s = 0.f;
  for (int64_t k = lane; k < d.P; k += d.G) {
    float gv[V], xv[V];
    LoadPack<T, V>(go + i * d.C + k * V, gv);
    LoadPack<T, V>(x + i * d.C + k * V, xv);
    ECF_UNROLL
    for (int j = 0; j < V; ++j) s += an[k * V + j] * gv[j] * xv[j];
  }
  return s;
}

__host__ __device__ inline void StoreDs(const DsGeom& d, const float* sw, int64_t i, float s, float* ds) {
  if (i < d.N * d.HW) ds[i] = s * sw[i] * (1.f - sw[i]);
}

// ---- SA backward, pass 2: pools recomputed, pool backward, dx = a·dy, partial sums ----------------
// A thread owns one channel c and kRows output rows h0 … h0+kRows−1 of sample n, and slides along
// w. For a pooled pixel q = (qh, qw) (the window centre) with e_t(q) = ds(q − (i−1, j−1)), t = 3i + j:
//   dA(q) = Σ_t e_t·wA[c,t], dM(q) = Σ_t e_t·wM[c,t], am(q) = its window's arg-max tap;
// each pixel p of the window gets dA(q)/9, and the arg-max pixel gets dM(q) too (the pool
// gradient pushed from q to its 9 pixels, kept in registers, so no other thread is involved);
// once every window containing p is done, dy(p) = go·sw + those terms, dx = a_c·dy.
// Registers: rings of 3 columns of x and ds over rows h0−2 … h0+kRows+1 (the windows of the
// pooled rows h0−1 … h0+kRows) and of 3 columns of partial dy over the thread's rows. Each pooled
// pixel is computed by the (kRows+2)/kRows threads whose rows its window touches.
// Partials (phase 1, per thread): Σ e_t(q)·A(q) and Σ e_t(q)·M(q) over the pooled pixels of its own
// rows (each is owned by exactly one thread), and Σ dy·x. Block: CT channels × RG row groups;
// phase 2 adds the RG threads of a channel in order into part[n, y, ·, c] (y: the block's row
// band). Grid: N × row bands × channel tiles.

struct PoolGeom {
  int64_t N, C, H, W, gy, ctiles;
  int RG, CT;
  __host__ __device__ static PoolGeom Make(int64_t N, int64_t C, int64_t H, int64_t W) {
    PoolGeom p;
    p.N = N, p.C = C, p.H = H, p.W = W;
    const int64_t need = CeilDiv(H, kRows);  // row groups the image needs
    p.RG = 1;
    while (p.RG < 8 && 2 * p.RG <= need) p.RG *= 2;
    p.CT = kThreads / p.RG, p.gy = CeilDiv(H, kRows * p.RG), p.ctiles = CeilDiv(C, p.CT);
    return p;
  }
  __host__ __device__ int64_t Blocks() const { return N * gy * ctiles; }
  __host__ __device__ int64_t PartFloats() const { return N * gy * kParts * C; }
};

struct PoolThread {
  int64_t n, y, c, h0;
  int rg, tc;
  bool active;
};

__host__ __device__ inline PoolThread PoolThreadOf(const PoolGeom& g, int64_t b, int tid) {
  PoolThread t;
  const int64_t ct = b % g.ctiles;
  t.y = (b / g.ctiles) % g.gy, t.n = b / (g.ctiles * g.gy);
  t.tc = tid % g.CT, t.rg = tid / g.CT;
  t.c = ct * g.CT + t.tc, t.h0 = (t.y * g.RG + t.rg) * kRows;
  t.active = t.c < g.C && t.h0 < g.H;
  return t;
}

// Phase 1 of one thread: writes dx = a·dy for its pixels, returns its partials in acc.
template <typename T>
__host__ __device__ inline void PoolBackwardThread(const PoolGeom& g, const PoolThread& th, const T* go, const T* x,
                                                   const float* a, const float* sw, const float* ds,
                                                   const float* wsa, T* dx, float (&acc)[kParts]) {
  ECF_UNROLL
  for (int i = 0; i < kParts; ++i) acc[i] = 0.f;
  if (!th.active) return;
  constexpr int XR = kRows + 4, PR = kRows + 2;  // rows of the x/ds ring; pooled rows
  const int64_t C = g.C, H = g.H, W = g.W, c = th.c, h0 = th.h0;
  const float ac = a[th.n * C + c];
  float wA[9], wM[9];
  ECF_UNROLL
  for (int t = 0; t < 9; ++t) {
    wA[t] = wsa[c * 9 + t];
    wM[t] = wsa[(C + c) * 9 + t];
  }
  const T* xn = x + th.n * H * W * C + c;  // + (h·W + w)·C
  const T* gn = go + th.n * H * W * C + c;
  T* dn = dx + th.n * H * W * C + c;
  const float* dsn = ds + th.n * H * W;
  const float* swn = sw + th.n * H * W;

  // x/ds ring: row r is image row h0−2+r; during step s its columns 0, 1, 2 are image columns
  // s−1, s, s+1 (zero outside the image). dy ring: row r is output row h0+r, columns 0, 1, 2 are
  // image columns s−1, s, s+1.
  bool rowIn[XR];
  float xr[XR][3], dr[XR][3], dy[kRows][3];
  bool colIn[3] = {false, false, false};
  ECF_UNROLL
  for (int r = 0; r < XR; ++r) {
    const int64_t h = h0 - 2 + r;
    rowIn[r] = h >= 0 && h < H;
    ECF_UNROLL
    for (int j = 0; j < 3; ++j) xr[r][j] = dr[r][j] = 0.f;
  }
  ECF_UNROLL
  for (int r = 0; r < kRows; ++r) dy[r][0] = dy[r][1] = dy[r][2] = 0.f;

  // Step s = −1 loads column 0; step s ≥ 0 pools column s (its windows reach output columns
  // s−1 … s+1); step s ≥ 1 then writes output column s−1, which no later window reaches.
  for (int64_t s = -1; s <= W; ++s) {
    ECF_UNROLL
    for (int r = 0; r < XR; ++r) {
      xr[r][0] = xr[r][1], xr[r][1] = xr[r][2];
      dr[r][0] = dr[r][1], dr[r][1] = dr[r][2];
    }
    colIn[0] = colIn[1], colIn[1] = colIn[2], colIn[2] = s + 1 < W;
    ECF_UNROLL
    for (int r = 0; r < XR; ++r) {
      const bool in = colIn[2] && rowIn[r];
      const int64_t pix = (h0 - 2 + r) * W + s + 1;
      xr[r][2] = in ? ToAcc(xn[pix * C]) : 0.f;
      dr[r][2] = in ? dsn[pix] : 0.f;
    }
    ECF_UNROLL
    for (int u = 0; u < PR; ++u) {
      const int64_t qh = h0 - 1 + u;  // q = (qh, s); its window: x ring rows u … u+2, columns 0 … 2
      if (qh < 0 || qh >= H || s < 0 || s >= W) continue;
      float sum = 0.f, best = 0.f;
      int am = -1;
      ECF_UNROLL
      for (int i = 0; i < 3; ++i) {
        ECF_UNROLL
        for (int j = 0; j < 3; ++j) {
          if (!rowIn[u + i] || !colIn[j]) continue;
          const float v = xr[u + i][j];
          sum += v;
          if (am < 0 || Wins(v, best)) best = v, am = 3 * i + j;
        }
      }
      // e_t(q) = ds(qh − i + 1, s − j + 1): ds ring row u + 2 − i, column 2 − j.
      float dA = 0.f, dM = 0.f;
      const bool owned = u >= 1 && u <= kRows;  // q is in one of this thread's rows
      ECF_UNROLL
      for (int i = 0; i < 3; ++i) {
        ECF_UNROLL
        for (int j = 0; j < 3; ++j) {
          const float e = dr[u + 2 - i][2 - j];
          dA += e * wA[3 * i + j];
          dM += e * wM[3 * i + j];
          if (owned) {
            acc[3 * i + j] += e * (sum * (1.f / 9.f));
            acc[9 + 3 * i + j] += e * best;
          }
        }
      }
      // Tap (i, j) of window q is pixel (qh + i − 1, s + j − 1): dy ring row u + i − 2, column j.
      ECF_UNROLL
      for (int i = 0; i < 3; ++i) {
        const int r = u + i - 2;
        if (r < 0 || r >= kRows) continue;
        ECF_UNROLL
        for (int j = 0; j < 3; ++j) dy[r][j] += dA * (1.f / 9.f) + (am == 3 * i + j ? dM : 0.f);
      }
    }
    if (s >= 1) {
      // Output column s − 1 (x ring column 0) is complete.
      ECF_UNROLL
      for (int r = 0; r < kRows; ++r) {
        const int64_t h = h0 + r;
        if (h >= H) continue;
        const int64_t pix = h * W + s - 1;
        const float d = dy[r][0] + ToAcc(gn[pix * C]) * swn[pix];
        acc[18] += d * xr[r + 2][0];
        dn[pix * C] = FromAcc<T>(ac * d);
      }
    }
    ECF_UNROLL
    for (int r = 0; r < kRows; ++r) dy[r][0] = dy[r][1], dy[r][1] = dy[r][2], dy[r][2] = 0.f;
  }
}

// Phase 1 → shared memory: sh[i·kThreads + tid] = acc[i].
__host__ __device__ inline void PoolPartsShare(int tid, const float (&acc)[kParts], float* sh) {
  for (int i = 0; i < kParts; ++i) sh[i * kThreads + tid] = acc[i];
}

// Phase 2 (row group 0): part[n, y, i, c] = Σ over the block's row groups, in order.
__host__ __device__ inline void PoolPartsStore(const PoolGeom& g, const PoolThread& th, const float* sh, float* part) {
  if (th.rg != 0 || th.c >= g.C) return;
  for (int i = 0; i < kParts; ++i) {
    float s = 0.f;
    for (int r = 0; r < g.RG; ++r) s += sh[i * kThreads + r * g.CT + th.tc];
    part[((th.n * g.gy + th.y) * kParts + i) * g.C + th.c] = s;
  }
}

// dwsa[(t < 9 ? c : C + c)·9 + t mod 9] = Σ_n a[n,c]·Σ_y part[n, y, t, c] for the 18·C pairs
// i = t·C + c. Block: 32 consecutive pairs × kSlices slices of the samples; slice s adds samples
// s, s + kSlices, … in order (phase 1, into shared memory), then slice 0 adds the slices in order.
constexpr int kSlices = kThreads / 32;

__host__ __device__ inline int64_t DwsaBlocks(const PoolGeom& g) { return CeilDiv(18 * g.C, 32); }

__host__ __device__ inline void DwsaSlice(const PoolGeom& g, const float* a, const float* part, int64_t b, int tid,
                                          float* sh) {
  const int64_t i = b * 32 + tid % 32, t = i / g.C, c = i % g.C;
  float s = 0.f;
  if (i < 18 * g.C) {
    for (int64_t n = tid / 32; n < g.N; n += kSlices) {
      float sn = 0.f;
      for (int64_t y = 0; y < g.gy; ++y) sn += part[((n * g.gy + y) * kParts + t) * g.C + c];
      s += a[n * g.C + c] * sn;
    }
  }
  sh[tid] = s;
}

__host__ __device__ inline void DwsaStore(const PoolGeom& g, int64_t b, int tid, const float* sh, float* dwsa) {
  const int64_t i = b * 32 + tid, t = i / g.C, c = i % g.C;
  if (tid >= 32 || i >= 18 * g.C) return;
  float s = 0.f;
  for (int k = 0; k < kSlices; ++k) s += sh[k * 32 + tid];
  dwsa[(t < 9 ? c : g.C + c) * 9 + t % 9] = s;
}

// da at i = n·C + c: Σ_y part[n, y, 18, c].
__host__ __device__ inline float DaAt(const PoolGeom& g, const float* part, int64_t i) {
  const int64_t n = i / g.C, c = i % g.C;
  float s = 0.f;
  for (int64_t y = 0; y < g.gy; ++y) s += part[((n * g.gy + y) * kParts + 18) * g.C + c];
  return s;
}

// ---- workspaces (float32 elements) ------------------------------------------------------------

// Backward: da [N·C], dg [N·C], then for ESCA ds [N·HW] and the pool partials.
struct BackwardSpace {
  int64_t da, dg, ds, part, total;
  __host__ __device__ static BackwardSpace Make(int64_t N, int64_t C, int64_t H, int64_t W, bool spatial) {
    BackwardSpace b;
    b.da = 0, b.dg = N * C, b.ds = 2 * N * C;
    b.part = b.ds + (spatial ? N * H * W : 0);
    b.total = b.part + (spatial ? PoolGeom::Make(N, C, H, W).PartFloats() : 0);
    return b;
  }
};

}  // namespace nhwc
}  // namespace kernels
}  // namespace ecf
