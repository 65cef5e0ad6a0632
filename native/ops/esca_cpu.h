// CPU kernels of ESCA and ECA (spec backbones.md §3.1, §3.2, §5): plain loops over contiguous
// NCHW buffers, parallel over (batch, channel) planes with at::parallel_for. No ATen ops inside.
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
// Precision: T = float or double; float sums over a row are added into double accumulators for
// GAP, da and the weight gradients (so float32 results stay within ~1e-6 of float64).
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

// The kernels below are written as simple element-wise loops over rows; -O3 lets GCC vectorise
// them (the addon is otherwise built with -O2, whose cost model vectorises almost nothing).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif

namespace ecf {
namespace esca_cpu {

struct Dims {
  int64_t N, C, H, W, k;
  int64_t HW() const { return H * W; }
  int64_t PW() const { return W + 2; }            // padded row length
  int64_t PHW() const { return (H + 2) * (W + 2); }  // padded plane size
};

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

// 3×3 stride-1 pools of one plane into zero-bordered (H+2)×(W+2) buffers: ap = box sum / 9
// (count_include_pad), mp = max over the in-bounds window. hs/hm are H·W scratch, zr W zeros.
// With kArg, am (bordered like mp, border −1) receives the plane index of each window's first
// maximum in row-major order (PyTorch's tie rule), found separably: the first maximum within
// each row (hidx = column offset), then the first row holding the window maximum. All selects
// are branch-free so that the loops vectorise.
template <typename T, bool kArg>
void Pools(const T* x, const Dims& d, T* hs, T* hm, int32_t* hidx, const T* zr, T* ap, T* mp, int32_t* am) {
  const int64_t H = d.H, W = d.W, PW = d.PW();
  for (int64_t h = 0; h < H; ++h) {
    const T* r = x + h * W;
    T* s = hs + h * W;
    T* m = hm + h * W;
    int32_t* o = kArg ? hidx + h * W : nullptr;
    if (W == 1) {
      s[0] = r[0];
      m[0] = r[0];
      if (kArg) o[0] = 0;
      continue;
    }
    s[0] = r[0] + r[1];
    m[0] = Max(r[0], r[1]);
    for (int64_t w = 1; w < W - 1; ++w) {
      s[w] = r[w - 1] + r[w] + r[w + 1];
      m[w] = Max(Max(r[w - 1], r[w]), r[w + 1]);
    }
    s[W - 1] = r[W - 2] + r[W - 1];
    m[W - 1] = Max(r[W - 2], r[W - 1]);
    if (kArg) {
      // offset of the first element equal to the row-window maximum
      // (arithmetic on 0/1 compare results instead of ?: so that no branch depends on the data)
      o[0] = 1 - static_cast<int32_t>(r[0] == m[0]);
      for (int64_t w = 1; w < W - 1; ++w) {
        const int32_t e0 = r[w - 1] == m[w], e1 = r[w] == m[w];
        o[w] = 1 - 2 * e0 - (1 - e0) * e1;
      }
      o[W - 1] = -static_cast<int32_t>(r[W - 2] == m[W - 1]);
    }
  }
  const T inv9 = T(1) / T(9);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t h0 = h > 0 ? h - 1 : h, h2 = h < H - 1 ? h + 1 : h;
    const T* s0 = h > 0 ? hs + h0 * W : zr;
    const T* s1 = hs + h * W;
    const T* s2 = h < H - 1 ? hs + h2 * W : zr;
    const T* m0 = hm + h0 * W;  // out-of-bounds rows alias row h, which changes neither max nor arg-max
    const T* m1 = hm + h * W;
    const T* m2 = hm + h2 * W;
    T* ao = ap + (h + 1) * PW + 1;
    T* mo = mp + (h + 1) * PW + 1;
    for (int64_t w = 0; w < W; ++w) {
      ao[w] = (s0[w] + s1[w] + s2[w]) * inv9;
      mo[w] = Max(Max(m0[w], m1[w]), m2[w]);
    }
    if (kArg) {
      const int32_t* o0 = hidx + h0 * W;
      const int32_t* o1 = hidx + h * W;
      const int32_t* o2 = hidx + h2 * W;
      const int32_t b0 = static_cast<int32_t>(h0 * W), b1 = static_cast<int32_t>(h * W),
                    b2 = static_cast<int32_t>(h2 * W);
      int32_t* ai = am + (h + 1) * PW + 1;
      for (int64_t w = 0; w < W; ++w) {
        // the first row (top to bottom) whose row maximum is the window maximum
        const int32_t i0 = b0 + o0[w], i1 = b1 + o1[w], i2 = b2 + o2[w];
        const int32_t e0 = m0[w] == mo[w], e1 = m1[w] == mo[w];
        ai[w] = static_cast<int32_t>(w) + e0 * i0 + (1 - e0) * (e1 * i1 + (1 - e1) * i2);
      }
    }
  }
}

// g[nc] = mean of plane nc.
template <typename T>
void Gap(const T* x, const Dims& d, T* g) {
  const int64_t HW = d.HW();
  at::parallel_for(0, d.N * d.C, PlaneGrain(HW), [&](int64_t b, int64_t e) {
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
                         std::vector<double>& dg) {
  const int64_t pad = (d.k - 1) / 2, NC = d.N * d.C;
  std::vector<double> dz(NC);
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
  at::parallel_for(0, d.N * d.C, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 2
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
  std::vector<double> da(NC);
  at::parallel_for(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 1
    for (int64_t p = b; p < e; ++p) {
      da[p] = DotFlat<T>(go + p * HW, x + p * HW, HW);
    }
  });
  std::vector<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);
  at::parallel_for(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {  // pass 2
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

// Per-task scratch for the pool computations of one plane.
template <typename T>
struct PlaneScratch {
  std::vector<T> hs, hm, zr, ap, mp, dap, dmp, dy, r;
  std::vector<int32_t> hidx, am;
  explicit PlaneScratch(const Dims& d, bool backward)
      : hs(d.HW()), hm(d.HW()), zr(d.W, T(0)), ap(d.PHW(), T(0)), mp(d.PHW(), T(0)) {
    if (backward) {
      dap.assign(d.PHW(), T(0));
      dmp.assign(d.PHW(), T(0));
      dy.assign(d.HW(), T(0));
      r.assign(18 * d.W, T(0));
      hidx.assign(d.HW(), 0);
      am.assign(d.PHW(), -1);  // the border never names a pixel
    }
  }
};

// Sums the blocks of partial planes [N][nb][HW] into [N][HW] (fixed order) and applies f(n, row).
template <typename T, typename F>
void ReduceBlocks(const std::vector<T>& part, const Dims& d, int64_t nb, F f) {
  const int64_t HW = d.HW();
  at::parallel_for(0, d.N, 1, [&](int64_t b, int64_t e) {
    std::vector<T> row(HW);
    for (int64_t n = b; n < e; ++n) {
      std::copy(part.begin() + n * nb * HW, part.begin() + (n * nb + 1) * HW, row.begin());
      for (int64_t j = 1; j < nb; ++j) {
        const T* src = part.data() + (n * nb + j) * HW;
        for (int64_t i = 0; i < HW; ++i) row[i] += src[i];
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
  const int64_t nb = (C + kChannelBlock - 1) / kChannelBlock;
  std::vector<T> part(d.N * nb * HW, T(0));
  at::parallel_for(0, d.N * nb, 1, [&](int64_t b, int64_t e) {
    PlaneScratch<T> sc(d, false);
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / nb, blk = t % nb;
      T* ps = part.data() + t * HW;
      for (int64_t c = blk * kChannelBlock; c < std::min(C, (blk + 1) * kChannelBlock); ++c) {
        const T ac = a[n * C + c];
        Pools<T, false>(x + (n * C + c) * HW, d, sc.hs.data(), sc.hm.data(), nullptr, sc.zr.data(), sc.ap.data(),
                        sc.mp.data(), nullptr);
        T wa[9], wm[9];
        for (int i = 0; i < 9; ++i) {
          wa[i] = ac * wsa[c * 9 + i];
          wm[i] = ac * wsa[(C + c) * 9 + i];
        }
        for (int64_t h = 0; h < d.H; ++h) {
          const T* a0 = sc.ap.data() + h * PW;
          const T* a1 = a0 + PW;
          const T* a2 = a1 + PW;
          const T* m0 = sc.mp.data() + h * PW;
          const T* m1 = m0 + PW;
          const T* m2 = m1 + PW;
          T* so = ps + h * W;
          for (int64_t w = 0; w < W; ++w) {
            T v = wa[0] * a0[w] + wa[1] * a0[w + 1] + wa[2] * a0[w + 2] + wa[3] * a1[w] + wa[4] * a1[w + 1] +
                  wa[5] * a1[w + 2] + wa[6] * a2[w] + wa[7] * a2[w + 1] + wa[8] * a2[w + 2];
            v += wm[0] * m0[w] + wm[1] * m0[w + 1] + wm[2] * m0[w + 2] + wm[3] * m1[w] + wm[4] * m1[w + 1] +
                 wm[5] * m1[w + 2] + wm[6] * m2[w] + wm[7] * m2[w + 1] + wm[8] * m2[w + 2];
            so[w] += v;
          }
        }
      }
    }
  });
  ReduceBlocks(part, d, nb, [&](int64_t n, const T* s) {
    for (int64_t i = 0; i < HW; ++i) sw[n * HW + i] = T(1) / (T(1) + std::exp(-s[i]));
  });

  // Pass 3: out = x·a·sw.
  at::parallel_for(0, d.N * C, PlaneGrain(HW), [&](int64_t b, int64_t e) {
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
  std::vector<T> part(d.N * nb * HW, T(0));
  at::parallel_for(0, d.N * nb, 1, [&](int64_t b, int64_t e) {
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
  std::vector<T> dsp(d.N * PHW, T(0));
  ReduceBlocks(part, d, nb, [&](int64_t n, const T* s) {
    const T* v = sw + n * HW;
    for (int64_t h = 0; h < H; ++h) {
      T* o = dsp.data() + n * PHW + (h + 1) * PW + 1;
      for (int64_t w = 0; w < W; ++w) o[w] = s[h * W + w] * v[h * W + w] * (T(1) - v[h * W + w]);
    }
  });

  // Pass 2: per plane.
  std::vector<double> da(NC), dws(NC * 18);
  at::parallel_for(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    PlaneScratch<T> sc(d, true);
    for (int64_t p = b; p < e; ++p) {
      const int64_t n = p / C, c = p % C;
      const T ac = a[p];
      const T* xp = x + p * HW;
      const T* gp = go + p * HW;
      const T* swp = sw + n * HW;
      const T* ds = dsp.data() + n * PHW;
      const T* wa = wsa + c * 9;
      const T* wm = wsa + (C + c) * 9;
      Pools<T, true>(xp, d, sc.hs.data(), sc.hm.data(), sc.hidx.data(), sc.zr.data(), sc.ap.data(), sc.mp.data(),
                     sc.am.data());

      // ∂L/∂wsa of this plane: Σ_{h,w} ds[h,w]·A_y[h+i−1, w+j−1] (A_y = a·A_x, a applied at the
      // end), accumulated per column in r[18][W] (element-wise, so it vectorises), summed at the end.
      T* r = sc.r.data();
      std::fill(sc.r.begin(), sc.r.end(), T(0));
      for (int64_t h = 0; h < H; ++h) {
        const T* dr = ds + (h + 1) * PW + 1;
        for (int i = 0; i < 3; ++i) {
          const T* ar = sc.ap.data() + (h + i) * PW;
          const T* mr = sc.mp.data() + (h + i) * PW;
          for (int j = 0; j < 3; ++j) {
            T* ra = r + (i * 3 + j) * W;
            T* rm = r + (9 + i * 3 + j) * W;
            for (int64_t w = 0; w < W; ++w) {
              ra[w] += dr[w] * ar[w + j];
              rm[w] += dr[w] * mr[w + j];
            }
          }
        }
      }
      double* dwp = dws.data() + p * 18;
      for (int t = 0; t < 18; ++t) dwp[t] = DotFlat<T>(r + t * W, nullptr, W) * static_cast<double>(ac);

      // dA_y[q] = Σ_{i,j} wa[i,j]·ds[q − (i−1, j−1)] (transposed conv), likewise dM_y with wm, into
      // bordered buffers. dy = go·sw + boxsum(dA)/9 + Σ_{q ∈ N(p), argmax(q) = p} dM(q) (a gather,
      // branch-free, instead of a scatter).
      T* dap = sc.dap.data();
      T* dmp = sc.dmp.data();
      for (int64_t h = 0; h < H; ++h) {
        const T* r0 = ds + (h + 2) * PW;  // i = 0: row h+1 of ds → padded row h+2
        const T* r1 = ds + (h + 1) * PW;
        const T* r2 = ds + h * PW;
        T* oa = dap + (h + 1) * PW + 1;
        T* om = dmp + (h + 1) * PW + 1;
        for (int64_t w = 0; w < W; ++w) {
          oa[w] = wa[0] * r0[w + 2] + wa[1] * r0[w + 1] + wa[2] * r0[w] + wa[3] * r1[w + 2] + wa[4] * r1[w + 1] +
                  wa[5] * r1[w] + wa[6] * r2[w + 2] + wa[7] * r2[w + 1] + wa[8] * r2[w];
          om[w] = wm[0] * r0[w + 2] + wm[1] * r0[w + 1] + wm[2] * r0[w] + wm[3] * r1[w + 2] + wm[4] * r1[w + 1] +
                  wm[5] * r1[w] + wm[6] * r2[w + 2] + wm[7] * r2[w + 1] + wm[8] * r2[w];
        }
      }
      const T inv9 = T(1) / T(9);
      T* dy = sc.dy.data();
      const int32_t* am = sc.am.data();
      for (int64_t h = 0; h < H; ++h) {
        const T* q0 = dap + h * PW;
        const T* q1 = q0 + PW;
        const T* q2 = q1 + PW;
        const T* gr = gp + h * W;
        const T* sr = swp + h * W;
        T* o = dy + h * W;
        for (int64_t w = 0; w < W; ++w) {
          o[w] = gr[w] * sr[w] + (q0[w] + q0[w + 1] + q0[w + 2] + q1[w] + q1[w + 1] + q1[w + 2] + q2[w] +
                                  q2[w + 1] + q2[w + 2]) * inv9;
        }
      }
      // max-pool backward: every window q sends dM(q) to its arg-max (a scalar scatter, but
      // branch-free; a 9-way gather with compares costs more).
      for (int64_t h = 0; h < H; ++h) {
        const int32_t* ar = am + (h + 1) * PW + 1;
        const T* mr = dmp + (h + 1) * PW + 1;
        for (int64_t w = 0; w < W; ++w) dy[ar[w]] += mr[w];
      }
      // dx = a·dy (the dg/HW term is added in pass 3); da = Σ dy·x.
      T* o = dx + p * HW;
      for (int64_t i = 0; i < HW; ++i) o[i] = dy[i] * ac;
      da[p] = DotFlat<T>(dy, xp, HW);
    }
  });

  for (int64_t c = 0; c < C; ++c) {
    for (int i = 0; i < 18; ++i) {
      double s = 0;
      for (int64_t n = 0; n < d.N; ++n) s += dws[(n * C + c) * 18 + i];
      dwsa[(i < 9 ? c : C + c) * 9 + (i % 9)] = static_cast<T>(s);
    }
  }
  std::vector<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);

  // Pass 3: dx += dg/HW.
  at::parallel_for(0, NC, PlaneGrain(HW), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T add = static_cast<T>(dg[p] / static_cast<double>(HW));
      T* o = dx + p * HW;
      for (int64_t i = 0; i < HW; ++i) o[i] += add;
    }
  });
}

}  // namespace esca_cpu
}  // namespace ecf

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
