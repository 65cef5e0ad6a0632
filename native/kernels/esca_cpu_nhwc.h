// CPU kernels of ESCA and ECA for channels_last (NHWC) input: the same math as kernels/esca_cpu_nchw.h
// (notation and the key identity avgpool3(a·x) = a·avgpool3(x), maxpool3(a·x) = a·maxpool3(x)
// are explained there), laid out so that every inner loop runs over the contiguous channel axis.
// A channels_last network thus never converts its activations to NCHW and back around ESCA.
//
// Layout: x[n, h, w, c] at ((n·H + h)·W + w)·C + c. Channels are processed as vectors of one
// register (LanesN below); a channel tail (C not a multiple of the lane count) runs the same code
// one channel at a time.
//
// Passes over the [N,H,W,C] tensors (the number the NCHW kernels make too):
//   ESCA forward  3 passes: (1) GAP reads x; (2) SA: for every pixel q the pooled vectors A(q),
//       M(q) over the channels and the 9 conv taps' dot products u_t(q) = Σ_c a·(wa[c,t]·A + wm[c,t]·M),
//       reads x; the logits s(p) = Σ_t u_t(p + off_t) are then a 9-term sum per pixel on [N,H,W,9];
//       (3) out = x·a·sw reads x, writes out.
//   ESCA backward 3 passes: (1) ds(p) = sw(1−sw)·Σ_c a·go·x reads go, x; (2) per block of rows:
//       pooled rows recomputed (A, M and the arg-max tap of every window), dA(q) = Σ_t e_t(q)·wa[·,t]
//       and dM likewise with e_t(q) = ds(q − off_t), the weight gradients Σ_q e_t(q)·A(q), then for
//       every pixel dy = go·sw + Σ_{windows q ∋ p} (dA(q)/9 + [argmax(q) = p]·dM(q)) (a gather: no
//       scatter, so blocks never write each other's rows), dx = a·dy, da += dy·x; reads go, x, writes
//       dx; (3) dx += dg/HW.
//   ECA forward 2 passes, backward 2 passes, as in kernels/esca_cpu_nchw.h.
//
// Work split: samples × blocks of rows; the number of row blocks depends only on the shape, and
// every cross-task sum (weight gradients, da) is kept per task and added in a fixed order, so the
// results do not depend on the thread count. Float partial sums run over at most one row (≤ W
// pixels) or 256 pixels before they are added into double accumulators, as in kernels/esca_cpu_nchw.h.
#pragma once


#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/esca_cpu_nchw.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // vector arguments of helpers that are always inlined
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ECF_ESCA_INLINE inline __attribute__((always_inline))
#else
#define ECF_ESCA_INLINE inline
#endif

namespace ecf {
namespace esca_cpu {
namespace ECF_ESCA_ISA {
namespace nhwc {

// Bytes per vector: ECF_ESCA_LANES float32 lanes (4 = one SSE register in the portable build, 8 =
// one AVX register in the AVX2 build); float64 gets half as many lanes.
constexpr int64_t kVecBytes = ECF_ESCA_LANES * 4;
constexpr int64_t kLanes = ECF_ESCA_LANES;  // float accumulators of the plain loops below

// Rows per block of the backward's and the SA pass's tasks: about 32 K elements per task, fixed
// by the shape alone.
inline int64_t RowsPerBlock(const Dims& d) {
  return std::max<int64_t>(1, std::min<int64_t>(d.H, (32768 + d.W * d.C - 1) / std::max<int64_t>(d.W * d.C, 1)));
}

inline int64_t PixelGrain(int64_t C) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1)); }

// Channel vectors. LanesN: one register of channels as a GCC/Clang vector; Lanes1: one channel,
// for the tail when C is not a multiple of LanesN<T>::L. The kernels below are written once over
// either; the branch-free select keeps the arg-max and the max-pool gather vectorised.
template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float V __attribute__((vector_size(kVecBytes)));
  typedef int32_t M __attribute__((vector_size(kVecBytes)));
};
template <>
struct VecOf<double> {
  typedef double V __attribute__((vector_size(kVecBytes)));
  typedef int64_t M __attribute__((vector_size(kVecBytes)));
};

template <typename T>
struct LanesN {
  using S = T;
  using V = typename VecOf<T>::V;
  using M = typename VecOf<T>::M;
  static constexpr int64_t L = kVecBytes / static_cast<int64_t>(sizeof(T));
  static ECF_ESCA_INLINE V Load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static ECF_ESCA_INLINE void Store(T* p, V v) { std::memcpy(p, &v, sizeof v); }
  static ECF_ESCA_INLINE V Splat(T s) { return V{} + s; }
  static ECF_ESCA_INLINE M Gt(V a, V b) { return a > b; }
  static ECF_ESCA_INLINE M Eq(V a, V b) { return a == b; }
  static ECF_ESCA_INLINE V Select(M m, V a, V b) { return reinterpret_cast<V>((reinterpret_cast<M>(a) & m) | (reinterpret_cast<M>(b) & ~m)); }
  static ECF_ESCA_INLINE T Sum(V v) {
    T s = 0;
    for (int64_t l = 0; l < L; ++l) s += v[l];
    return s;
  }
};

template <typename T>
struct Lanes1 {
  using S = T;
  using V = T;
  using M = bool;
  static constexpr int64_t L = 1;
  static ECF_ESCA_INLINE V Load(const T* p) { return *p; }
  static ECF_ESCA_INLINE void Store(T* p, V v) { *p = v; }
  static ECF_ESCA_INLINE V Splat(T s) { return s; }
  static ECF_ESCA_INLINE M Gt(V a, V b) { return a > b; }
  static ECF_ESCA_INLINE M Eq(V a, V b) { return a == b; }
  static ECF_ESCA_INLINE V Select(M m, V a, V b) { return m ? a : b; }
  static ECF_ESCA_INLINE T Sum(V v) { return v; }
};

// g[n, c] = mean over the pixels of sample n; float partial sums over 256 pixels, then double.
template <typename T>
void Gap(const T* x, const Dims& d, T* g) {
  const int64_t C = d.C, HW = d.HW();
  ParFor(0, d.N, 1, [&](int64_t b, int64_t e) {
    Buf<double> acc(C);
    Buf<T> part(C);
    for (int64_t n = b; n < e; ++n) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p0 = 0; p0 < HW; p0 += 256) {
        std::fill(part.begin(), part.end(), T(0));
        T* __restrict s = part.data();
        for (int64_t p = p0; p < std::min(HW, p0 + 256); ++p) {
          const T* __restrict xr = x + (n * HW + p) * C;
          for (int64_t c = 0; c < C; ++c) s[c] += xr[c];
        }
        for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<double>(s[c]);
      }
      for (int64_t c = 0; c < C; ++c) g[n * C + c] = static_cast<T>(acc[c] / static_cast<double>(HW));
    }
  });
}

// The valid 3×3 taps around (h, w): rows i0..i1, columns j0..j1 of the window (0..2 each).
struct Window {
  int64_t i0, i1, j0, j1;
  Window(int64_t h, int64_t w, const Dims& d)
      : i0(h == 0 ? 1 : 0), i1(h == d.H - 1 ? 1 : 2), j0(w == 0 ? 1 : 0), j1(w == d.W - 1 ? 1 : 2) {}
};

// Pools of x around pixel (h, w) for channels [c0, c0 + L): A = box sum / 9 (count_include_pad),
// M = max over the valid taps; with kArg, am = the tap index (3i + j) of the first maximum in
// row-major order (PyTorch's tie rule: a later tap wins only if strictly greater).
template <typename O, bool kArg>
ECF_ESCA_INLINE void PoolAt(const typename O::S* xs, int64_t h, int64_t w, int64_t c0, const Dims& d, const Window& win,
                   typename O::V& A, typename O::V& M, typename O::V* am) {
  using T = typename O::S;
  using V = typename O::V;
  const int64_t C = d.C, W = d.W;
  A = O::Splat(T(0));
  M = O::Splat(-std::numeric_limits<T>::infinity());
  V idx = O::Splat(static_cast<T>(3 * win.i0 + win.j0));
  for (int64_t i = win.i0; i <= win.i1; ++i) {
    for (int64_t j = win.j0; j <= win.j1; ++j) {
      const V v = O::Load(xs + ((h + i - 1) * W + (w + j - 1)) * C + c0);
      A = A + v;
      const auto gt = O::Gt(v, M);
      if (kArg) idx = O::Select(gt, O::Splat(static_cast<T>(3 * i + j)), idx);
      M = O::Select(gt, v, M);
    }
  }
  A = A * O::Splat(T(1) / T(9));
  if (kArg) *am = idx;
}

// u[t] += Σ_{c in the chunks} WA[t][c]·A(q)[c] + WM[t][c]·M(q)[c] at pooled pixel (h, w), over
// channels [c0, c1) in steps of O::L.
template <typename O>
void TapDotsRange(const typename O::S* xs, int64_t h, int64_t w, int64_t c0, int64_t c1, const Dims& d,
                  const Window& win, const typename O::S* WA, const typename O::S* WM, typename O::S* u) {
  using V = typename O::V;
  const int64_t C = d.C;
  V acc[9];
  for (int t = 0; t < 9; ++t) acc[t] = O::Splat(0);
  for (int64_t c = c0; c + O::L <= c1; c += O::L) {
    V A, M;
    PoolAt<O, false>(xs, h, w, c, d, win, A, M, nullptr);
    for (int t = 0; t < 9; ++t) acc[t] += O::Load(WA + t * C + c) * A + O::Load(WM + t * C + c) * M;
  }
  for (int t = 0; t < 9; ++t) u[t] += O::Sum(acc[t]);
}

// u[t] = Σ_c WA[t][c]·A(q)[c] + WM[t][c]·M(q)[c] for the 9 taps at pooled pixel (h, w).
template <typename T>
void TapDots(const T* xs, int64_t h, int64_t w, const Dims& d, const T* WA, const T* WM, T* u) {
  const Window win(h, w, d);
  const int64_t cv = d.C / LanesN<T>::L * LanesN<T>::L;
  for (int t = 0; t < 9; ++t) u[t] = 0;
  TapDotsRange<LanesN<T>>(xs, h, w, 0, cv, d, win, WA, WM, u);
  TapDotsRange<Lanes1<T>>(xs, h, w, cv, d.C, d, win, WA, WM, u);
}

// WA[t][c] = scale[c]·wsa[c, t], WM[t][c] = scale[c]·wsa[C + c, t] (scale == nullptr: 1).
template <typename T>
void TapWeights(const T* wsa, const T* scale, int64_t C, T* WA, T* WM) {
  for (int64_t c = 0; c < C; ++c) {
    const T s = scale ? scale[c] : T(1);
    for (int t = 0; t < 9; ++t) {
      WA[t * C + c] = s * wsa[c * 9 + t];
      WM[t * C + c] = s * wsa[(C + c) * 9 + t];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ECA
// ---------------------------------------------------------------------------------------------
template <typename T>
void EcaForward(const T* x, const T* wca, const Dims& d, T* out, T* g, T* a) {
  const int64_t C = d.C, HW = d.HW();
  nhwc::Gap(x, d, g);
  ChannelGate(g, wca, d, a);
  ParFor(0, d.N * HW, PixelGrain(C), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* __restrict s = a + (p / HW) * C;
      const T* __restrict xr = x + p * C;
      T* __restrict o = out + p * C;
      for (int64_t c = 0; c < C; ++c) o[c] = xr[c] * s[c];
    }
  });
}

template <typename T>
void EcaBackward(const T* go, const T* x, const T* wca, const T* g, const T* a, const Dims& d, T* dx, T* dwca) {
  const int64_t C = d.C, HW = d.HW();
  Buf<double> da(d.N * C, 0.0);
  ParFor(0, d.N, 1, [&](int64_t b, int64_t e) {
    Buf<T> part(C);
    for (int64_t n = b; n < e; ++n) {
      for (int64_t p0 = 0; p0 < HW; p0 += 256) {
        std::fill(part.begin(), part.end(), T(0));
        T* __restrict s = part.data();
        for (int64_t p = p0; p < std::min(HW, p0 + 256); ++p) {
          const T* __restrict gr = go + (n * HW + p) * C;
          const T* __restrict xr = x + (n * HW + p) * C;
          for (int64_t c = 0; c < C; ++c) s[c] += gr[c] * xr[c];
        }
        for (int64_t c = 0; c < C; ++c) da[n * C + c] += static_cast<double>(s[c]);
      }
    }
  });
  Buf<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);
  Buf<T> add(d.N * C);
  for (int64_t i = 0; i < d.N * C; ++i) add[i] = static_cast<T>(dg[i] / static_cast<double>(HW));
  ParFor(0, d.N * HW, PixelGrain(C), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* __restrict s = a + (p / HW) * C;
      const T* __restrict ad = add.data() + (p / HW) * C;
      const T* __restrict gr = go + p * C;
      T* __restrict o = dx + p * C;
      for (int64_t c = 0; c < C; ++c) o[c] = gr[c] * s[c] + ad[c];
    }
  });
}

// ---------------------------------------------------------------------------------------------
// ESCA
// ---------------------------------------------------------------------------------------------
template <typename T>
void EscaForward(const T* x, const T* wca, const T* wsa, const Dims& d, T* out, T* g, T* a, T* sw) {
  const int64_t C = d.C, H = d.H, W = d.W, HW = d.HW();
  nhwc::Gap(x, d, g);  // pass 1
  ChannelGate(g, wca, d, a);

  // Pass 2: u[n, q, t] for every pooled pixel q, tasks = (sample, block of rows).
  const int64_t R = RowsPerBlock(d), nb = (H + R - 1) / R;
  Buf<T> u(d.N * HW * 9);
  ParFor(0, d.N * nb, 1, [&](int64_t b, int64_t e) {
    Buf<T> WA(9 * C), WM(9 * C);
    int64_t wn = -1;
    for (int64_t task = b; task < e; ++task) {
      const int64_t n = task / nb, h0 = (task % nb) * R, h1 = std::min(H, h0 + R);
      if (n != wn) {
        TapWeights(wsa, a + n * C, C, WA.data(), WM.data());
        wn = n;
      }
      const T* xs = x + n * HW * C;
      for (int64_t h = h0; h < h1; ++h) {
        for (int64_t w = 0; w < W; ++w) TapDots(xs, h, w, d, WA.data(), WM.data(), u.data() + ((n * H + h) * W + w) * 9);
      }
    }
  });
  // s(p) = Σ_t u_t(p + off_t) over the in-bounds taps; sw = σ(s).
  ParFor(0, d.N * H, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * 9, 1)), [&](int64_t b, int64_t e) {
    for (int64_t nh = b; nh < e; ++nh) {
      const int64_t n = nh / H, h = nh % H;
      for (int64_t w = 0; w < W; ++w) {
        const Window win(h, w, d);
        T s = 0;
        for (int64_t i = win.i0; i <= win.i1; ++i)
          for (int64_t j = win.j0; j <= win.j1; ++j) s += u[((n * H + h + i - 1) * W + w + j - 1) * 9 + 3 * i + j];
        sw[n * HW + h * W + w] = T(1) / (T(1) + std::exp(-s));
      }
    }
  });
  // Pass 3: out = x·a·sw.
  ParFor(0, d.N * HW, PixelGrain(C), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* __restrict s = a + (p / HW) * C;
      const T v = sw[p];
      const T* __restrict xr = x + p * C;
      T* __restrict o = out + p * C;
      for (int64_t c = 0; c < C; ++c) o[c] = xr[c] * s[c] * v;
    }
  });
}

// Per-task state of the backward's main pass: three pooled rows in a ring (dA, dM, arg-max tap),
// the tap weights and the float row accumulators.
template <typename T>
struct BackwardScratch {
  Buf<T> dA, dM, am, WA, WM, G, da;
  BackwardScratch(const Dims& d)
      : dA(3 * d.W * d.C), dM(3 * d.W * d.C), am(3 * d.W * d.C), WA(9 * d.C), WM(9 * d.C), G(18 * d.C), da(d.C) {}
};

// Channels [c0, c1) (steps of O::L) of pooled pixel (q, w): dA, dM and the arg-max taps of its
// window; with `owned`, e_t·A and e_t·M are added into the row accumulators G [18][C].
template <typename O>
void PooledPixel(const typename O::S* xs, int64_t q, int64_t w, int64_t c0, int64_t c1, const Dims& d,
                 const Window& win, const typename O::S* e, bool owned, const typename O::S* WA,
                 const typename O::S* WM, typename O::S* dA, typename O::S* dM, typename O::S* am,
                 typename O::S* G) {
  using V = typename O::V;
  const int64_t C = d.C;
  for (int64_t c = c0; c + O::L <= c1; c += O::L) {
    V A, M, idx;
    PoolAt<O, true>(xs, q, w, c, d, win, A, M, &idx);
    O::Store(am + c, idx);
    V sa = O::Splat(0), sm = O::Splat(0);
    for (int t = 0; t < 9; ++t) {
      const V et = O::Splat(e[t]);
      sa += et * O::Load(WA + t * C + c);
      sm += et * O::Load(WM + t * C + c);
    }
    O::Store(dA + c, sa);
    O::Store(dM + c, sm);
    if (owned) {
      for (int t = 0; t < 9; ++t) {
        const V et = O::Splat(e[t]);
        O::Store(G + t * C + c, O::Load(G + t * C + c) + et * A);
        O::Store(G + (9 + t) * C + c, O::Load(G + (9 + t) * C + c) + et * M);
      }
    }
  }
}

// Pooled row q of sample xs: dA, dM and the arg-max taps into ring slot q % 3; when `owned`, the
// weight-gradient sums Σ_w e_t·A and Σ_w e_t·M of the row are added into Gd [18][C] (double).
template <typename T>
void PooledRow(const T* xs, const T* dss, int64_t q, bool owned, const Dims& d, BackwardScratch<T>& sc, double* Gd) {
  const int64_t C = d.C, H = d.H, W = d.W, cv = C / LanesN<T>::L * LanesN<T>::L;
  const int64_t slot = (q % 3) * W * C;
  if (owned) std::fill(sc.G.begin(), sc.G.end(), T(0));
  for (int64_t w = 0; w < W; ++w) {
    // e_t(q) = ds(q − off_t), zero outside the image.
    T e[9];
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        const int64_t ph = q - (i - 1), pw = w - (j - 1);
        e[3 * i + j] = (ph >= 0 && ph < H && pw >= 0 && pw < W) ? dss[ph * W + pw] : T(0);
      }
    }
    const Window win(q, w, d);
    T* dA = sc.dA.data() + slot + w * C;
    T* dM = sc.dM.data() + slot + w * C;
    T* am = sc.am.data() + slot + w * C;
    PooledPixel<LanesN<T>>(xs, q, w, 0, cv, d, win, e, owned, sc.WA.data(), sc.WM.data(), dA, dM, am, sc.G.data());
    PooledPixel<Lanes1<T>>(xs, q, w, cv, C, d, win, e, owned, sc.WA.data(), sc.WM.data(), dA, dM, am, sc.G.data());
  }
  if (owned) {
    for (int64_t i = 0; i < 18 * C; ++i) Gd[i] += static_cast<double>(sc.G[i]);
  }
}

// Channels [c0, c1) of output pixel (h, w): dy = go·sw + Σ over the windows q ∋ p of dA(q)/9 +
// [argmax(q) = p]·dM(q); dx = a·dy; da += dy·x.
template <typename O>
void OutputPixel(const typename O::S* gr, const typename O::S* xr, typename O::S s, const typename O::S* an,
                 int64_t h, int64_t w, int64_t c0, int64_t c1, const Dims& d, const Window& win,
                 const BackwardScratch<typename O::S>& sc, typename O::S* o, typename O::S* da) {
  using T = typename O::S;
  using V = typename O::V;
  const int64_t C = d.C, W = d.W;
  const V inv9 = O::Splat(T(1) / T(9)), zero = O::Splat(0);
  for (int64_t c = c0; c + O::L <= c1; c += O::L) {
    V dy = O::Load(gr + c) * O::Splat(s);
    for (int64_t i = win.i0; i <= win.i1; ++i) {
      for (int64_t j = win.j0; j <= win.j1; ++j) {
        // window q = p + (i−1, j−1); p is its tap (2 − i, 2 − j)
        const int64_t slot = ((h + i - 1) % 3) * W * C + (w + j - 1) * C + c;
        const V me = O::Splat(static_cast<T>(3 * (2 - i) + (2 - j)));
        dy += O::Load(sc.dA.data() + slot) * inv9 +
              O::Select(O::Eq(O::Load(sc.am.data() + slot), me), O::Load(sc.dM.data() + slot), zero);
      }
    }
    O::Store(da + c, O::Load(da + c) + dy * O::Load(xr + c));
    O::Store(o + c, dy * O::Load(an + c));
  }
}

// Output row h of sample n from the pooled rows h−1..h+1 in the ring; the row's Σ dy·x is added
// into dad [C] (double).
template <typename T>
void OutputRow(const T* gs, const T* xs, const T* swn, const T* an, int64_t h, const Dims& d, BackwardScratch<T>& sc,
               T* dxs, double* dad) {
  const int64_t C = d.C, W = d.W, cv = C / LanesN<T>::L * LanesN<T>::L;
  std::fill(sc.da.begin(), sc.da.end(), T(0));
  for (int64_t w = 0; w < W; ++w) {
    const Window win(h, w, d);  // the windows q ∋ p are the in-bounds pixels around p
    const int64_t off = (h * W + w) * C;
    const T s = swn[h * W + w];
    OutputPixel<LanesN<T>>(gs + off, xs + off, s, an, h, w, 0, cv, d, win, sc, dxs + off, sc.da.data());
    OutputPixel<Lanes1<T>>(gs + off, xs + off, s, an, h, w, cv, C, d, win, sc, dxs + off, sc.da.data());
  }
  for (int64_t c = 0; c < C; ++c) dad[c] += static_cast<double>(sc.da[c]);
}

template <typename T>
void EscaBackward(const T* go, const T* x, const T* wca, const T* wsa, const T* g, const T* a, const T* sw,
                  const Dims& d, T* dx, T* dwca, T* dwsa) {
  const int64_t C = d.C, H = d.H, HW = d.HW(), N = d.N;

  // Pass 1: ds(p) = sw(1−sw)·Σ_c a·go·x.
  Buf<T> ds(N * HW);
  ParFor(0, N * HW, PixelGrain(C), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* __restrict s = a + (p / HW) * C;
      const T* __restrict gr = go + p * C;
      const T* __restrict xr = x + p * C;
      T acc[kLanes] = {};
      int64_t c = 0;
      for (; c + kLanes <= C; c += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) acc[l] += s[c + l] * gr[c + l] * xr[c + l];
      for (; c < C; ++c) acc[0] += s[c] * gr[c] * xr[c];
      T t = 0;
      for (int64_t l = 0; l < kLanes; ++l) t += acc[l];
      ds[p] = t * sw[p] * (T(1) - sw[p]);
    }
  });

  // Pass 2: per (sample, block of rows).
  const int64_t R = RowsPerBlock(d), nb = (H + R - 1) / R, tasks = N * nb;
  Buf<double> Gd(tasks * 18 * C, 0.0), dad(tasks * C, 0.0);
  ParFor(0, tasks, 1, [&](int64_t b, int64_t e) {
    BackwardScratch<T> sc(d);
    int64_t wn = -1;
    for (int64_t task = b; task < e; ++task) {
      const int64_t n = task / nb, h0 = (task % nb) * R, h1 = std::min(H, h0 + R);
      if (n != wn) {
        TapWeights<T>(wsa, nullptr, C, sc.WA.data(), sc.WM.data());
        wn = n;
      }
      const T* xs = x + n * HW * C;
      const T* dss = ds.data() + n * HW;
      int64_t next = std::max<int64_t>(0, h0 - 1);  // next pooled row to compute
      for (int64_t h = h0; h < h1; ++h) {
        for (; next <= std::min(H - 1, h + 1); ++next)
          PooledRow(xs, dss, next, next >= h0 && next < h1, d, sc, Gd.data() + task * 18 * C);
        OutputRow(go + n * HW * C, xs, sw + n * HW, a + n * C, h, d, sc, dx + n * HW * C, dad.data() + task * C);
      }
    }
  });

  // Weight gradients: dwsa[c, t] = Σ_n a[n, c]·Σ_{blocks of n} G; da[n, c] = Σ_{blocks of n}.
  Buf<double> da(N * C, 0.0), dws(18 * C, 0.0);
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t n = task / nb;
    const double* Gt = Gd.data() + task * 18 * C;
    for (int64_t r = 0; r < 18; ++r)
      for (int64_t c = 0; c < C; ++c) dws[r * C + c] += static_cast<double>(a[n * C + c]) * Gt[r * C + c];
    for (int64_t c = 0; c < C; ++c) da[n * C + c] += dad[task * C + c];
  }
  for (int64_t c = 0; c < C; ++c) {
    for (int t = 0; t < 9; ++t) {
      dwsa[c * 9 + t] = static_cast<T>(dws[t * C + c]);
      dwsa[(C + c) * 9 + t] = static_cast<T>(dws[(9 + t) * C + c]);
    }
  }
  Buf<double> dg;
  ChannelGateBackward(da.data(), g, a, wca, d, dwca, dg);

  // Pass 3: dx += dg/HW.
  Buf<T> add(N * C);
  for (int64_t i = 0; i < N * C; ++i) add[i] = static_cast<T>(dg[i] / static_cast<double>(HW));
  ParFor(0, N * HW, PixelGrain(C), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* __restrict ad = add.data() + (p / HW) * C;
      T* __restrict o = dx + p * C;
      for (int64_t c = 0; c < C; ++c) o[c] += ad[c];
    }
  });
}

}  // namespace nhwc
}  // namespace ECF_ESCA_ISA
}  // namespace esca_cpu
}  // namespace ecf

#undef ECF_ESCA_INLINE
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif
