// CPU kernels of ESCA and ECA for contiguous NCHW input (lib/nn/attention/esca.ts states the math): plain
// loops, parallel over (batch, channel) planes. No libtorch here (kernels/esca_cpu_support.h); the
// file is compiled once per instruction set (kernels/esca_cpu.cc, kernels/esca_cpu_avx2.cc), inside
// the namespace ECF_ESCA_ISA.
//
// Notation: x [N,C,H,W]; g = GAP(x) [N,C]; z = conv1d_k(g) (zero pad (k−1)/2, cross-correlation);
// a = σ(z) [N,C]; y = a·x. SA: A = avgpool3(y) (count_include_pad), M = maxpool3(y) (−∞ pad);
// s = conv3x3([A, M], wsa) (zero pad); sw = σ(s) [N,H,W]; out = y·sw.
//
// Key identity: a > 0 (a sigmoid), so avgpool3(a·x) = a·avgpool3(x) and maxpool3(a·x) = a·maxpool3(x)
// with the same arg-max. The pools are therefore taken on x itself and a is folded into the 18 SA
// weights of each channel; y is never materialised.
//
// Passes over the [N,C,H,W] input (the only large tensors are x, the output and their gradients):
//   ECA forward  2 passes: (1) GAP reads x; (2) out = x·a reads x, writes out.
//   ECA backward 2 passes: (1) da = Σ_hw go·x reads go, x; (2) dx = go·a + dg/HW reads go, writes dx.
//   ESCA forward 3 passes: (1) GAP reads x; (2) SA logits: pools of x and the 3×3 conv summed over
//       channels, reads x; (3) out = x·a·sw reads x, writes out. This is the minimum: a needs the
//       complete GAP of its neighbouring channels before any SA term can be weighted, and sw needs
//       all C channels before any output element is known.
//   ESCA backward 3 passes: (1) dsw = Σ_c a·go·x reads go, x (channel reduction that every channel's
//       pool gradient depends on); (2) per plane: recomputed pools (cheaper than storing 2 maps of
//       the input's size), ∂/∂wsa, pool backward, dx = a·dy and da = Σ dy·x, reads go, x, writes dx;
//       (3) dx += dg/HW, a read-modify-write of dx only (dg needs da of the k neighbouring channels).
// Saved for backward: x (the caller's tensor), g and a [N,C] and sw [N,H,W] (small); nothing of
// the input's size is stored.
//
// Every pass is parallel over (sample, channel) planes, or over (sample, block of 16 channels)
// for the two cross-channel sums, whose partial planes are then added in a fixed order: results
// do not depend on the thread count.
//
// Precision: T = float or double; float partial sums (8 lanes over at most 256 elements, or one
// row) are added into double accumulators for GAP, da and the weight gradients, so float32
// results stay within ~1e-6 of float64.
#pragma once


#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/esca_cpu.h"
#include "kernels/esca_cpu_support.h"

// The kernels below are written as simple element-wise loops over rows; -O3 lets GCC vectorise
// them (the addon is otherwise built with -O2, whose cost model vectorises almost nothing).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif

namespace ecf {
namespace esca_cpu {
namespace ECF_ESCA_ISA {

// Channels per task of the cross-channel reductions (SA logits, dsw). Partial sums of each block
// are reduced in a fixed order afterwards, so results do not depend on the thread count.
constexpr int64_t kChannelBlock = 16;

inline int64_t PlaneGrain(int64_t hw) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(hw, 1)); }

template <typename T>
inline T Sigmoid(double z) {
  return static_cast<T>(1.0 / (1.0 + std::exp(-z)));
}

// max(a, b) as one maxss/maxsd (vectorisable). NaN rules do not matter here: a NaN anywhere in
// a plane makes its GAP, hence its gate a and every output of the sample, NaN anyway.
template <typename T>
inline T Max(T a, T b) {
  return a < b ? b : a;
}

// Σ a[i]·b[i] (b == nullptr: Σ a[i]) over a flat range: 8 float lanes over blocks of 256
// elements (vectorisable without reassociation), each block added into a double.
template <typename T>
double DotFlat(const T* a, const T* b, int64_t n) {
  double total = 0;
  for (int64_t s = 0; s < n; s += 256) {
    const int64_t e = std::min(n, s + 256);
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = s;
    if (b) {
      for (; i + 8 <= e; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
      for (; i < e; ++i) acc[0] += a[i] * b[i];
    } else {
      for (; i + 8 <= e; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l];
      for (; i < e; ++i) acc[0] += a[i];
    }
    T t = 0;
    for (int l = 0; l < 8; ++l) t += acc[l];
    total += static_cast<double>(t);
  }
  return total;
}

// g[nc] = mean of plane nc.
template <typename T>
void Gap(const T* x, const Dims& d, T* g) {
  const int64_t HW = d.HW();
  ParFor(0, d.N * d.C, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      g[p] = static_cast<T>(DotFlat<T>(x + p * HW, nullptr, HW) / static_cast<double>(HW));
    }
  });
}

// a = σ(conv1d_k(g)) over the channel axis, zero padded.
template <typename T>
void ChannelGate(const T* g, const T* wca, const Dims& d, T* a) {
  const int64_t pad = (d.k - 1) / 2;
  for (int64_t n = 0; n < d.N; ++n) {
    for (int64_t c = 0; c < d.C; ++c) {
      double z = 0;
      for (int64_t j = 0; j < d.k; ++j) {
        int64_t cc = c + j - pad;
        if (cc >= 0 && cc < d.C) z += static_cast<double>(wca[j]) * static_cast<double>(g[n * d.C + cc]);
      }
      a[n * d.C + c] = Sigmoid<T>(z);
    }
  }
}

// Backward of the channel gate: dz = da·a(1−a); dwca[j] = Σ dz[c]·g[c+j−p]; dg[c] = Σ_j wca[j]·dz[c−j+p].
template <typename T>
void ChannelGateBackward(const double* da, const T* g, const T* a, const T* wca, const Dims& d, T* dwca,
                         Buf<double>& dg) {
  const int64_t pad = (d.k - 1) / 2, NC = d.N * d.C;
  Buf<double> dz(NC);
  for (int64_t i = 0; i < NC; ++i) dz[i] = da[i] * static_cast<double>(a[i]) * (1.0 - static_cast<double>(a[i]));
  dg.assign(NC, 0.0);
  for (int64_t j = 0; j < d.k; ++j) {
    double acc = 0;
    for (int64_t n = 0; n < d.N; ++n) {
      for (int64_t c = 0; c < d.C; ++c) {
        int64_t cc = c + j - pad;
        if (cc < 0 || cc >= d.C) continue;
        acc += dz[n * d.C + c] * static_cast<double>(g[n * d.C + cc]);
        dg[n * d.C + cc] += static_cast<double>(wca[j]) * dz[n * d.C + c];
      }
    }
    dwca[j] = static_cast<T>(acc);
  }
}

// ---------------------------------------------------------------------------------------------
// ECA
// ---------------------------------------------------------------------------------------------
template <typename T>
void EcaForward(const T* x, const T* wca, const Dims& d, T* out, T* g, T* a) {
  const int64_t HW = d.HW();
  Gap(x, d, g);                  // pass 1
  ChannelGate(g, wca, d, a);
  ParFor(0, d.N * d.C, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 2
    for (int64_t p = b; p < e; ++p) {
      const T s = a[p];
      const T* xp = x + p * HW;
      T* op = out + p * HW;
      for (int64_t i = 0; i < HW; ++i) op[i] = xp[i] * s;
    }
  });
}

template <typename T>
void EcaBackward(const T* go, const T* x, const T* wca, const T* g, const T* a, const Dims& d, T* dx, T* dwca) {
  const int64_t HW = d.HW(), NC = d.N * d.C;
  Buf<double> da(NC);
  ParFor(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 1
    for (int64_t p = b; p < e; ++p) {
      da[p] = DotFlat<T>(go + p * HW, x + p * HW, HW);
    }
  });
  Buf<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);
  ParFor(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 2
    for (int64_t p = b; p < e; ++p) {
      const T s = a[p];
      const T add = static_cast<T>(dg[p] / static_cast<double>(HW));
      const T* gp = go + p * HW;
      T* o = dx + p * HW;
      for (int64_t i = 0; i < HW; ++i) o[i] = gp[i] * s + add;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// ESCA
// ---------------------------------------------------------------------------------------------

// Per-plane work runs on "bordered" planes: (H+2) rows of PW = W+2 values with a one-pixel
// border, addressed by one flat index. The 3×3 windows are then fixed flat offsets
// (±1, ±PW, ±PW±1) and every loop runs over the flat range [PW+1, (H+1)·PW−1) that covers all
// interior pixels: long contiguous loops that vectorise well even for 7×7 planes. The border
// columns inside that range receive meaningless values; they are reset to zero where a later
// step reads them, and never read otherwise.
template <typename T>
struct PlaneScratch {
  int64_t lo, hi;  // the flat range
  Buf<T> xz, xm, hs, hm, ap, mp, dap, dmp, dyp;
  Buf<int32_t> hidx, am;
  PlaneScratch(const Dims& d, bool backward)
      : lo(d.PW() + 1),
        hi((d.H + 1) * d.PW() - 1),
        xz(d.PHW(), T(0)),
        xm(d.PHW(), -std::numeric_limits<T>::infinity()),
        hs(d.PHW(), T(0)),
        hm(d.PHW(), -std::numeric_limits<T>::infinity()),
        ap(d.PHW(), T(0)),
        mp(d.PHW(), T(0)) {
    if (backward) {
      dap.assign(d.PHW(), T(0));
      dmp.assign(d.PHW(), T(0));
      dyp.assign(d.PHW(), T(0));
      hidx.assign(d.PHW(), 0);
      am.assign(d.PHW(), 0);
    }
  }
};

// Zeroes the two border columns of the interior rows of a bordered plane.
template <typename T>
inline void ZeroBorderColumns(T* b, const Dims& d) {
  const int64_t PW = d.PW();
  for (int64_t h = 1; h <= d.H; ++h) {
    b[h * PW] = T(0);
    b[h * PW + PW - 1] = T(0);
  }
}

// 3×3 stride-1 pools of plane x into bordered planes: ap = box sum / 9 (count_include_pad, zero
// border), mp = max over the in-bounds window (zero border, as the SA conv pads with zeros).
// With kArg, am[f] = flat (bordered) index of the first maximum of the window at f in row-major
// order (PyTorch's tie rule), found separably and branch-free: the first element equal to the
// row-window maximum (hidx = its column offset), then the first row whose maximum is the window's.
template <typename T, bool kArg>
void Pools(const T* x, const Dims& d, PlaneScratch<T>& sc) {
  const int64_t H = d.H, W = d.W, PW = d.PW(), lo = sc.lo, hi = sc.hi;
  T* __restrict xz = sc.xz.data();
  T* __restrict xm = sc.xm.data();
  for (int64_t h = 0; h < H; ++h) {  // borders: 0 for sums, −∞ for maxima
    std::copy(x + h * W, x + (h + 1) * W, xz + (h + 1) * PW + 1);
    std::copy(x + h * W, x + (h + 1) * W, xm + (h + 1) * PW + 1);
  }
  T* __restrict hs = sc.hs.data();
  T* __restrict hm = sc.hm.data();
  for (int64_t f = lo; f < hi; ++f) {
    hs[f] = xz[f - 1] + xz[f] + xz[f + 1];
    hm[f] = Max(Max(xm[f - 1], xm[f]), xm[f + 1]);
  }
  if (kArg) {
    int32_t* __restrict o = sc.hidx.data();
    for (int64_t f = lo; f < hi; ++f) {
      // (arithmetic on 0/1 compare results instead of ?: so that no branch depends on the data)
      const int32_t e0 = xm[f - 1] == hm[f], e1 = xm[f] == hm[f];
      o[f] = 1 - 2 * e0 - (1 - e0) * e1;
    }
  }
  // hs/hm rows 0 and H+1 stay 0 / −∞; their border columns hold values only inside [lo, hi).
  for (int64_t h = 1; h <= H; ++h) {
    hs[h * PW] = T(0);
    hs[h * PW + PW - 1] = T(0);
    hm[h * PW] = -std::numeric_limits<T>::infinity();
    hm[h * PW + PW - 1] = -std::numeric_limits<T>::infinity();
  }
  T* __restrict ap = sc.ap.data();
  T* __restrict mp = sc.mp.data();
  const T inv9 = T(1) / T(9);
  {
    const T* __restrict s0 = hs - PW;
    const T* __restrict s2 = hs + PW;
    const T* __restrict m0 = hm - PW;
    const T* __restrict m2 = hm + PW;
    for (int64_t f = lo; f < hi; ++f) ap[f] = (s0[f] + hs[f] + s2[f]) * inv9;
    for (int64_t f = lo; f < hi; ++f) mp[f] = Max(Max(m0[f], hm[f]), m2[f]);
  }
  if (kArg) {
    const int32_t* __restrict o = sc.hidx.data();
    int32_t* __restrict am = sc.am.data();
    const int32_t pw = static_cast<int32_t>(PW);
    for (int64_t f = lo; f < hi; ++f) {
      const int32_t e0 = hm[f - PW] == mp[f], e1 = hm[f] == mp[f];
      const int32_t i0 = static_cast<int32_t>(f) - pw + o[f - PW], i1 = static_cast<int32_t>(f) + o[f],
                    i2 = static_cast<int32_t>(f) + pw + o[f + PW];
      am[f] = e0 * i0 + (1 - e0) * (e1 * i1 + (1 - e1) * i2);
    }
  }
  ZeroBorderColumns(ap, d);
  ZeroBorderColumns(mp, d);
}

// One channel's contribution to the SA logits of its sample: ps += conv3x3([A, M] of x, a·w)
// (ps is a bordered plane; its border columns are ignored by the caller).
template <typename T>
void SaChannel(const T* xp, T ac, const T* wsa_a, const T* wsa_m, const Dims& d, T* ps, PlaneScratch<T>& sc) {
  const int64_t PW = d.PW();
  Pools<T, false>(xp, d, sc);
  T wa[9], wm[9];
  for (int i = 0; i < 9; ++i) {
    wa[i] = ac * wsa_a[i];
    wm[i] = ac * wsa_m[i];
  }
  const T* __restrict A = sc.ap.data();
  const T* __restrict M = sc.mp.data();
  T* __restrict out = ps;
  for (int64_t f = sc.lo; f < sc.hi; ++f) {
    const int64_t u = f - PW, l = f + PW;
    out[f] += wa[0] * A[u - 1] + wa[1] * A[u] + wa[2] * A[u + 1] + wa[3] * A[f - 1] + wa[4] * A[f] + wa[5] * A[f + 1] +
             wa[6] * A[l - 1] + wa[7] * A[l] + wa[8] * A[l + 1] + wm[0] * M[u - 1] + wm[1] * M[u] + wm[2] * M[u + 1] +
             wm[3] * M[f - 1] + wm[4] * M[f] + wm[5] * M[f + 1] + wm[6] * M[l - 1] + wm[7] * M[l] + wm[8] * M[l + 1];
  }
}

// Backward of one plane (sample n, channel c). ds is the bordered ∂L/∂(SA logits) of the sample
// (zero border). Writes dx = a·dy for the plane and the 18 partial weight gradients dws;
// returns da = Σ dy·x.
template <typename T>
double PlaneBackward(const T* gp, const T* xp, T ac, const T* swp, const T* __restrict ds, const T* wsa_a,
                     const T* wsa_m, const Dims& d, PlaneScratch<T>& sc, double* dws, T* dx) {
  const int64_t H = d.H, W = d.W, PW = d.PW(), lo = sc.lo, hi = sc.hi;
  T wa[9], wm[9];  // local copies: provably not aliased by the buffers written below
  for (int i = 0; i < 9; ++i) {
    wa[i] = wsa_a[i];
    wm[i] = wsa_m[i];
  }
  Pools<T, true>(xp, d, sc);
  const T* A = sc.ap.data();
  const T* M = sc.mp.data();

  // ∂L/∂wsa: Σ_pixels ds[f]·A_y[f + (i−1)·PW + (j−1)] (A_y = a·A_x, a applied here). ds is zero
  // on the border columns, so the flat range adds nothing spurious.
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const int64_t off = (i - 1) * PW + (j - 1);
      dws[i * 3 + j] = DotFlat<T>(ds + lo, A + lo + off, hi - lo) * static_cast<double>(ac);
      dws[9 + i * 3 + j] = DotFlat<T>(ds + lo, M + lo + off, hi - lo) * static_cast<double>(ac);
    }
  }

  // dA_y[f] = Σ_{i,j} wa[i,j]·ds[f − (i−1)·PW − (j−1)] (transposed conv), likewise dM_y with wm.
  T* __restrict dap = sc.dap.data();
  T* __restrict dmp = sc.dmp.data();
  for (int64_t f = lo; f < hi; ++f) {
    const int64_t u = f + PW, l = f - PW;  // i = 0 reads the row below, i = 2 the row above
    dap[f] = wa[0] * ds[u + 1] + wa[1] * ds[u] + wa[2] * ds[u - 1] + wa[3] * ds[f + 1] + wa[4] * ds[f] +
             wa[5] * ds[f - 1] + wa[6] * ds[l + 1] + wa[7] * ds[l] + wa[8] * ds[l - 1];
    dmp[f] = wm[0] * ds[u + 1] + wm[1] * ds[u] + wm[2] * ds[u - 1] + wm[3] * ds[f + 1] + wm[4] * ds[f] +
             wm[5] * ds[f - 1] + wm[6] * ds[l + 1] + wm[7] * ds[l] + wm[8] * ds[l - 1];
  }
  ZeroBorderColumns(dap, d);
  // dy (pool part) = boxsum(dA)/9, then the max-pool scatter: every window sends dM to its
  // arg-max (scalar but branch-free; a 9-way gather with compares costs more).
  T* __restrict dyp = sc.dyp.data();
  const T inv9 = T(1) / T(9);
  for (int64_t f = lo; f < hi; ++f) {
    dyp[f] = (dap[f - PW - 1] + dap[f - PW] + dap[f - PW + 1] + dap[f - 1] + dap[f] + dap[f + 1] + dap[f + PW - 1] +
              dap[f + PW] + dap[f + PW + 1]) *
             inv9;
  }
  const int32_t* am = sc.am.data();
  for (int64_t h = 1; h <= H; ++h) {
    for (int64_t f = h * PW + 1; f < h * PW + 1 + W; ++f) dyp[am[f]] += dmp[f];
  }
  // dy = go·sw + pool part; dx = a·dy (the dg/HW term is added later); da = Σ dy·x.
  double da = 0;
  for (int64_t h = 0; h < H; ++h) {
    const T* g = gp + h * W;
    const T* s = swp + h * W;
    const T* q = dyp + (h + 1) * PW + 1;
    const T* xr = xp + h * W;
    T* o = dx + h * W;
    T acc = 0;
    for (int64_t w = 0; w < W; ++w) {
      const T dy = g[w] * s[w] + q[w];
      o[w] = dy * ac;
      acc += dy * xr[w];
    }
    da += static_cast<double>(acc);
  }
  return da;
}

// Sums the blocks of partial planes [N][nb][P] into one plane per sample (fixed order) and
// applies f(n, plane).
template <typename T, typename F>
void ReduceBlocks(const Buf<T>& part, int64_t N, int64_t nb, int64_t P, F f) {
  ParFor(0, N, 1, [&](int64_t b, int64_t e) {
    Buf<T> row(P);
    for (int64_t n = b; n < e; ++n) {
      std::copy(part.begin() + n * nb * P, part.begin() + (n * nb + 1) * P, row.begin());
      for (int64_t j = 1; j < nb; ++j) {
        const T* src = part.data() + (n * nb + j) * P;
        for (int64_t i = 0; i < P; ++i) row[i] += src[i];
      }
      f(n, row.data());
    }
  });
}

template <typename T>
void EscaForward(const T* x, const T* wca, const T* wsa, const Dims& d, T* out, T* g, T* a, T* sw) {
  const int64_t C = d.C, HW = d.HW(), W = d.W, PW = d.PW();
  Gap(x, d, g);  // pass 1
  ChannelGate(g, wca, d, a);

  // Pass 2: SA logits. Task (n, block of kChannelBlock channels) sums its channels' 3×3 conv of
  // [A, M] into its own partial plane; the blocks are summed afterwards in a fixed order.
  const int64_t nb = (C + kChannelBlock - 1) / kChannelBlock, PHW = d.PHW();
  Buf<T> part(d.N * nb * PHW, T(0));
  ParFor(0, d.N * nb, 1, [&](int64_t b, int64_t e) {
    PlaneScratch<T> sc(d, false);
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / nb, blk = t % nb;
      T* ps = part.data() + t * PHW;
      for (int64_t c = blk * kChannelBlock; c < std::min(C, (blk + 1) * kChannelBlock); ++c) {
        SaChannel<T>(x + (n * C + c) * HW, a[n * C + c], wsa + c * 9, wsa + (C + c) * 9, d, ps, sc);
      }
    }
  });
  ReduceBlocks(part, d.N, nb, PHW, [&](int64_t n, const T* s) {
    for (int64_t h = 0; h < d.H; ++h) {
      const T* r = s + (h + 1) * PW + 1;
      T* o = sw + n * HW + h * W;
      for (int64_t w = 0; w < W; ++w) o[w] = T(1) / (T(1) + std::exp(-r[w]));
    }
  });

  // Pass 3: out = x·a·sw.
  ParFor(0, d.N * C, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T ac = a[p];
      const T* sp = sw + (p / C) * HW;
      const T* xp = x + p * HW;
      T* op = out + p * HW;
      for (int64_t i = 0; i < HW; ++i) op[i] = xp[i] * ac * sp[i];
    }
  });
}

template <typename T>
void EscaBackward(const T* go, const T* x, const T* wca, const T* wsa, const T* g, const T* a, const T* sw,
                  const Dims& d, T* dx, T* dwca, T* dwsa) {
  const int64_t C = d.C, HW = d.HW(), W = d.W, H = d.H, PW = d.PW(), PHW = d.PHW(), NC = d.N * C;

  // Pass 1: dsw[n,hw] = Σ_c a·go·x (blocked like the forward), then ds = dsw·sw·(1−sw) into a
  // zero-bordered buffer so the transposed 3×3 conv below needs no bounds checks.
  const int64_t nb = (C + kChannelBlock - 1) / kChannelBlock;
  Buf<T> part(d.N * nb * HW, T(0));
  ParFor(0, d.N * nb, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / nb, blk = t % nb;
      T* ps = part.data() + t * HW;
      for (int64_t c = blk * kChannelBlock; c < std::min(C, (blk + 1) * kChannelBlock); ++c) {
        const T ac = a[n * C + c];
        const T* gp = go + (n * C + c) * HW;
        const T* xp = x + (n * C + c) * HW;
        for (int64_t i = 0; i < HW; ++i) ps[i] += ac * gp[i] * xp[i];
      }
    }
  });
  Buf<T> dsp(d.N * PHW, T(0));
  ReduceBlocks(part, d.N, nb, HW, [&](int64_t n, const T* s) {
    const T* v = sw + n * HW;
    for (int64_t h = 0; h < H; ++h) {
      T* o = dsp.data() + n * PHW + (h + 1) * PW + 1;
      for (int64_t w = 0; w < W; ++w) o[w] = s[h * W + w] * v[h * W + w] * (T(1) - v[h * W + w]);
    }
  });

  // Pass 2: per plane.
  Buf<double> da(NC), dws(NC * 18);
  ParFor(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    PlaneScratch<T> sc(d, true);
    for (int64_t p = b; p < e; ++p) {
      const int64_t n = p / C, c = p % C;
      da[p] = PlaneBackward<T>(go + p * HW, x + p * HW, a[p], sw + n * HW, dsp.data() + n * PHW, wsa + c * 9,
                                        wsa + (C + c) * 9, d, sc, dws.data() + p * 18, dx + p * HW);
    }
  });

  for (int64_t c = 0; c < C; ++c) {
    for (int i = 0; i < 18; ++i) {
      double s = 0;
      for (int64_t n = 0; n < d.N; ++n) s += dws[(n * C + c) * 18 + i];
      dwsa[(i < 9 ? c : C + c) * 9 + (i % 9)] = static_cast<T>(s);
    }
  }
  Buf<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);

  // Pass 3: dx += dg/HW.
  ParFor(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T add = static_cast<T>(dg[p] / static_cast<double>(HW));
      T* o = dx + p * HW;
      for (int64_t i = 0; i < HW; ++i) o[i] += add;
    }
  });
}

}  // namespace ECF_ESCA_ISA
}  // namespace esca_cpu
}  // namespace ecf

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
