// The CPU kernels' bodies, included by kernels/margin_cpu.cc (generic x86-64 / other CPUs, 4-wide
// vectors) and kernels/margin_cpu_avx2.cc (compiled for AVX2+FMA, 8-wide vectors). Everything is
// in an anonymous namespace, so the two copies never meet at link time. Define ECF_MARGIN_VW
// (floats per vector) and include <algorithm>, <cmath>, <cstring>, <limits>, <type_traits> first.
//
// Each row is processed in a few branch-free loops (the margin math uses selects, exp is a
// polynomial for float, reductions keep per-lane partial results); float64 (the test path) is
// plain scalar code.
#pragma once

#include "kernels/margin.h"

#define ECF_INLINE inline __attribute__((always_inline))

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // vector-extension types never cross a call boundary
#endif

namespace ecf {
namespace margin {
namespace {


constexpr int kLanes = 16;  // partial results per reduction in the float64 path

// exp for float: Cephes-style polynomial, branch-free so loops over it vectorise; relative error
// ≈ 2 ulp; 0 below −87.3 (where expf is subnormal or 0).
ECF_INLINE float Exp(float x) {
  const float lo = -87.3365447505531f, hi = 88.7228391116729f;
  const bool under = x < lo;
  x = x < lo ? lo : (x > hi ? hi : x);
  float fx = x * 1.44269504088896341f + 0.5f;
  int32_t n = static_cast<int32_t>(fx);
  float fn = static_cast<float>(n);
  fn = fn > fx ? fn - 1.0f : fn;  // floor
  n = static_cast<int32_t>(fn);
  x = x - fn * 0.693359375f - fn * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * x * x + x + 1.0f;
  int32_t bits = (n + 127) << 23;
  float p;
  std::memcpy(&p, &bits, sizeof p);
  return under ? 0.0f : y * p;
}
ECF_INLINE double Exp(double x) { return std::exp(x); }

template <typename T>
ECF_INLINE T Log(T v) {
  return std::log(v);
}

// z_j = s·h(c_j) for the negatives j in [j0, j1); also the running maxima of z and of c and the
// number of hard negatives, kept per lane.
template <typename T>
ECF_INLINE void NegLogits(const T* raw, const T* inv, int64_t j0, int64_t j1, const Consts<T>& k, T t, T ctm,
                          T* z, T* zmax, T* cmax, T* hard) {
  const int neg = k.negative;
  const T s = k.s;
  int64_t j = j0;
  for (; j + kLanes <= j1; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      T c = Clamp1<T>(raw[j + l] * inv[j + l]);
      bool h = neg != kNegPlain && c > ctm;
      T hv = neg == kNegCurricular ? c * (t + c) : (T(1) + t) * c + t;
      T v = s * (h ? hv : c);
      z[j + l] = v;
      zmax[l] = v > zmax[l] ? v : zmax[l];
      cmax[l] = c > cmax[l] ? c : cmax[l];
      hard[l] += h ? T(1) : T(0);
    }
  }
  for (; j < j1; ++j) {
    T c = Clamp1<T>(raw[j] * inv[j]);
    bool h = neg != kNegPlain && c > ctm;
    T hv = neg == kNegCurricular ? c * (t + c) : (T(1) + t) * c + t;
    T v = s * (h ? hv : c);
    z[j] = v;
    zmax[0] = v > zmax[0] ? v : zmax[0];
    cmax[0] = c > cmax[0] ? c : cmax[0];
    hard[0] += h ? T(1) : T(0);
  }
}

template <typename T>
ECF_INLINE T LaneMax(const T* v) {
  T m = v[0];
  for (int l = 1; l < kLanes; ++l) m = v[l] > m ? v[l] : m;
  return m;
}
template <typename T>
ECF_INLINE T LaneSum(const T* v) {
  T s = 0;
  for (int l = 0; l < kLanes; ++l) s += v[l];
  return s;
}

// What the forward learns about one row besides its logits.
template <typename T>
struct RowFwd {
  T lse;      // logsumexp of the row's margin logits
  T hard;     // hard negatives (the target column excluded)
  T cmax_lo;  // max c_j over the columns before y (none when y < 0)
  T cmax_hi;  // max c_j over the columns after y (all of them when y < 0)
};

// One row: the margin logits z_j (s·fy at the target column y; y < 0: no target column, a row of
// the sharded op whose target another shard owns) into z, and their logsumexp and statistics.
template <typename T>
ECF_INLINE RowFwd<T> RowForward(const T* raw, const T* inv, int64_t y, int64_t C, const Consts<T>& k, T t, T ctm,
                                T fy, T* z) {
  const T ninf = -std::numeric_limits<T>::infinity();
  T zmax[kLanes], cmax_lo[kLanes], cmax_hi[kLanes], hard[kLanes], sum[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    zmax[l] = ninf;
    cmax_lo[l] = ninf;
    cmax_hi[l] = ninf;
    hard[l] = 0;
    sum[l] = 0;
  }
  const bool own = y >= 0;
  NegLogits<T>(raw, inv, 0, own ? y : 0, k, t, ctm, z, zmax, cmax_lo, hard);
  NegLogits<T>(raw, inv, own ? y + 1 : 0, C, k, t, ctm, z, zmax, cmax_hi, hard);
  T m = LaneMax<T>(zmax);
  if (own) {
    z[y] = k.s * fy;
    m = z[y] > m ? z[y] : m;
  }
  int64_t j = 0;
  for (; j + kLanes <= C; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) sum[l] += Exp(z[j + l] - m);
  }
  for (; j < C; ++j) sum[0] += Exp(z[j] - m);
  return {m + Log<T>(LaneSum<T>(sum)), LaneSum<T>(hard), LaneMax<T>(cmax_lo), LaneMax<T>(cmax_hi)};
}

// Per-row inputs of the backward: dL/dz_j = a·exp(z_j − lse) + b·[j = y], with raw_y the
// unclamped target cosine (the unsharded op: a = dL/dloss / B, b = −a).
template <typename T>
struct RowGrad {
  T lse, raw_y, a, b;
};

// a·p + b written as (p − 1)·a + (a + b): exact cancellation for the unsharded op (b = −a) when
// the target's probability p is close to 1.
template <typename T>
ECF_INLINE T TargetGrad(T p, const RowGrad<T>& r) {
  return (p - T(1)) * r.a + (r.a + r.b);
}

// One row: g (x̂_i·w_j on entry) ← dL/d(x̂_i·w_j) in place.
template <typename T>
ECF_INLINE void RowBackward(T* g, const T* inv, int64_t y, int64_t C, const Consts<T>& k, T t, const RowGrad<T>& r) {
  const int neg = k.negative;
  const T s = k.s;
  const T cy = Clamp1<T>(r.raw_y);
  const T ctm = Ctm<T>(k, cy);
  const T sa = s * r.a;
  for (int64_t j = 0; j < C; ++j) {
    T u = g[j] * inv[j];
    T c = Clamp1<T>(u);
    bool h = neg != kNegPlain && c > ctm;
    T hv = neg == kNegCurricular ? c * (t + c) : (T(1) + t) * c + t;
    T hd = neg == kNegCurricular ? t + T(2) * c : T(1) + t;
    T v = s * (h ? hv : c);
    T d = h ? hd : T(1);
    T p = Exp(v - r.lse);
    bool pass = u >= T(-1) && u <= T(1);  // the clamp's gradient (inclusive bounds)
    g[j] = pass ? p * sa * d * inv[j] : T(0);
  }
  if (y < 0) return;
  // The target column: a·softmax + b, times the margin function's derivative.
  const T fy = TargetValue<T>(k, cy, ctm);
  const T py = Exp(s * fy - r.lse);
  const bool pass_y = r.raw_y >= T(-1) && r.raw_y <= T(1);
  g[y] = pass_y ? TargetGrad<T>(py, r) * s * TargetDeriv<T>(k, cy) * inv[y] : T(0);
}

template <typename T>
ECF_INLINE void ProjectColumns(const T* W, T* A, const T* q, int64_t D, int64_t C, int64_t c0, int64_t c1,
                               T* coef) {
  const int64_t n = c1 - c0;
  for (int64_t j = 0; j < n; ++j) coef[j] = 0;
  for (int64_t d = 0; d < D; ++d) {
    const T* w = W + d * C + c0;
    const T* a = A + d * C + c0;
    for (int64_t j = 0; j < n; ++j) coef[j] += w[j] * a[j];
  }
  for (int64_t j = 0; j < n; ++j) coef[j] *= q[c0 + j];
  for (int64_t d = 0; d < D; ++d) {
    const T* w = W + d * C + c0;
    T* a = A + d * C + c0;
    for (int64_t j = 0; j < n; ++j) a[j] -= coef[j] * w[j];
  }
}


// ---- float: explicit kW-wide vectors (GCC/clang vector extensions) ----------------------------------------------
constexpr int kW = ECF_MARGIN_VW;
typedef float V8 __attribute__((vector_size(4 * ECF_MARGIN_VW)));
typedef int32_t I8 __attribute__((vector_size(4 * ECF_MARGIN_VW)));

ECF_INLINE V8 Load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
ECF_INLINE void Store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }
ECF_INLINE V8 Splat(float x) { return V8{} + x; }
ECF_INLINE V8 Sel(I8 m, V8 a, V8 b) { return m ? a : b; }

ECF_INLINE V8 Exp8(V8 x) {
  const V8 lo = Splat(-87.3365447505531f), hi = Splat(88.7228391116729f);
  const I8 under = x < lo;
  x = Sel(x < lo, lo, x);
  x = Sel(x > hi, hi, x);
  V8 fx = x * Splat(1.44269504088896341f) + Splat(0.5f);
  I8 n = __builtin_convertvector(fx, I8);
  V8 fn = __builtin_convertvector(n, V8);
  fn = Sel(fn > fx, fn - Splat(1.0f), fn);
  n = __builtin_convertvector(fn, I8);
  x = x - fn * Splat(0.693359375f) - fn * Splat(-2.12194440e-4f);
  V8 y = Splat(1.9875691500e-4f);
  y = y * x + Splat(1.3981999507e-3f);
  y = y * x + Splat(8.3334519073e-3f);
  y = y * x + Splat(4.1665795894e-2f);
  y = y * x + Splat(1.6666665459e-1f);
  y = y * x + Splat(5.0000001201e-1f);
  y = y * x * x + x + Splat(1.0f);
  I8 bits = (n + 127) << 23;
  V8 p = (V8)bits;  // bit cast (same-size vector types)
  return Sel(under, Splat(0.0f), y * p);
}

ECF_INLINE float HMax(V8 v) {
  float m = v[0];
  for (int l = 1; l < kW; ++l) m = v[l] > m ? v[l] : m;
  return m;
}
ECF_INLINE float HSum(V8 v) {
  float s = 0;
  for (int l = 0; l < kW; ++l) s += v[l];
  return s;
}

struct NegAcc {
  V8 zmax, cmax, hard;
};

// Negatives j in [j0, j1): z_j = s·h(c_j) into z, maxima and the hard count into acc.
ECF_INLINE void NegLogits8(const float* raw, const float* inv, int64_t j0, int64_t j1, const Consts<float>& k,
                           float t, float ctm, float* z, NegAcc& acc, float& zmax1, float& cmax1, float& hard1) {
  const V8 vs = Splat(k.s), vt = Splat(t), vctm = Splat(ctm), one = Splat(1.0f), zero = Splat(0.0f);
  const V8 mn = Splat(-1.0f), mx = Splat(1.0f);
  const int neg = k.negative;
  int64_t j = j0;
  if (neg == kNegPlain) {
    for (; j + kW <= j1; j += kW) {
      V8 c = Load(raw + j) * Load(inv + j);
      c = Sel(c < mn, mn, c);
      c = Sel(c > mx, mx, c);
      V8 v = vs * c;
      Store(z + j, v);
      acc.zmax = Sel(v > acc.zmax, v, acc.zmax);
      acc.cmax = Sel(c > acc.cmax, c, acc.cmax);
    }
  } else {
    const bool cur = neg == kNegCurricular;
    for (; j + kW <= j1; j += kW) {
      V8 c = Load(raw + j) * Load(inv + j);
      c = Sel(c < mn, mn, c);
      c = Sel(c > mx, mx, c);
      I8 h = c > vctm;
      V8 hv = cur ? c * (vt + c) : (one + vt) * c + vt;
      V8 v = vs * Sel(h, hv, c);
      Store(z + j, v);
      acc.zmax = Sel(v > acc.zmax, v, acc.zmax);
      acc.cmax = Sel(c > acc.cmax, c, acc.cmax);
      acc.hard += Sel(h, one, zero);
    }
  }
  for (; j < j1; ++j) {
    float c = Clamp1<float>(raw[j] * inv[j]);
    bool h = neg != kNegPlain && c > ctm;
    float hv = neg == kNegCurricular ? c * (t + c) : (1.0f + t) * c + t;
    float v = k.s * (h ? hv : c);
    z[j] = v;
    zmax1 = v > zmax1 ? v : zmax1;
    cmax1 = c > cmax1 ? c : cmax1;
    hard1 += h ? 1.0f : 0.0f;
  }
}

// One row, float: as RowForward.
ECF_INLINE RowFwd<float> RowForwardF(const float* raw, const float* inv, int64_t y, int64_t C, const Consts<float>& k,
                                     float t, float ctm, float fy, float* z) {
  const float ninf = -std::numeric_limits<float>::infinity();
  NegAcc lo{Splat(ninf), Splat(ninf), Splat(0.0f)};
  NegAcc hi{Splat(ninf), Splat(ninf), Splat(0.0f)};
  float zmax_lo = ninf, cmax_lo = ninf, zmax_hi = ninf, cmax_hi = ninf, hard = 0;
  const bool own = y >= 0;
  NegLogits8(raw, inv, 0, own ? y : 0, k, t, ctm, z, lo, zmax_lo, cmax_lo, hard);
  NegLogits8(raw, inv, own ? y + 1 : 0, C, k, t, ctm, z, hi, zmax_hi, cmax_hi, hard);
  float m = ninf;
  if (own) {
    z[y] = k.s * fy;
    m = z[y];
  }
  for (float v : {HMax(lo.zmax), HMax(hi.zmax), zmax_lo, zmax_hi}) m = v > m ? v : m;
  const V8 vm = Splat(m);
  V8 acc = Splat(0.0f);
  int64_t j = 0;
  for (; j + kW <= C; j += kW) acc += Exp8(Load(z + j) - vm);
  float sum = HSum(acc);
  for (; j < C; ++j) sum += Exp(z[j] - m);
  return {m + std::log(sum), hard + HSum(lo.hard) + HSum(hi.hard), std::max(HMax(lo.cmax), cmax_lo),
          std::max(HMax(hi.cmax), cmax_hi)};
}

// One row, float: as RowBackward.
ECF_INLINE void RowBackwardF(float* g, const float* inv, int64_t y, int64_t C, const Consts<float>& k, float t,
                             const RowGrad<float>& r) {
  const int neg = k.negative;
  const bool cur = neg == kNegCurricular;
  const V8 one = Splat(1.0f), zero = Splat(0.0f), two = Splat(2.0f), mn = Splat(-1.0f), mx = Splat(1.0f);
  const V8 vs = Splat(k.s), vt = Splat(t);
  const float cy = Clamp1<float>(r.raw_y);
  const float ctm = Ctm<float>(k, cy);
  const float sa = k.s * r.a;
  const V8 vlse = Splat(r.lse), vsa = Splat(sa), vctm = Splat(ctm);
  int64_t j = 0;
  for (; j + kW <= C; j += kW) {
    V8 iv = Load(inv + j);
    V8 u = Load(g + j) * iv;
    I8 pass = (u >= mn) & (u <= mx);
    V8 c = Sel(u < mn, mn, u);
    c = Sel(c > mx, mx, c);
    V8 v, d;
    if (neg == kNegPlain) {
      v = vs * c;
      d = one;
    } else {
      I8 h = c > vctm;
      v = vs * Sel(h, cur ? c * (vt + c) : (one + vt) * c + vt, c);
      d = Sel(h, cur ? vt + two * c : one + vt, one);
    }
    V8 p = Exp8(v - vlse);
    Store(g + j, Sel(pass, p * vsa * d * iv, zero));
  }
  for (; j < C; ++j) {
    float u = g[j] * inv[j];
    float c = Clamp1<float>(u);
    bool h = neg != kNegPlain && c > ctm;
    float hv = cur ? c * (t + c) : (1.0f + t) * c + t;
    float hd = cur ? t + 2.0f * c : 1.0f + t;
    float v = k.s * (h ? hv : c);
    float d = h ? hd : 1.0f;
    bool pass = u >= -1.0f && u <= 1.0f;
    g[j] = pass ? Exp(v - r.lse) * sa * d * inv[j] : 0.0f;
  }
  if (y < 0) return;
  const float fy = TargetValue<float>(k, cy, ctm);
  const float py = Exp(k.s * fy - r.lse);
  const bool pass_y = r.raw_y >= -1.0f && r.raw_y <= 1.0f;
  g[y] = pass_y ? TargetGrad<float>(py, r) * k.s * TargetDeriv<float>(k, cy) * inv[y] : 0.0f;
}

// ---- the row loops, for float (the vector row kernels) and double (the scalar ones) ------------------------------
template <typename T>
ECF_INLINE RowFwd<T> RowForwardFor(const T* raw, const T* inv, int64_t y, int64_t C, const Consts<T>& k, T t, T ctm,
                                   T fy, T* z) {
  if constexpr (std::is_same<T, float>::value) {
    return RowForwardF(raw, inv, y, C, k, t, ctm, fy, z);
  } else {
    return RowForward<T>(raw, inv, y, C, k, t, ctm, fy, z);
  }
}
template <typename T>
ECF_INLINE void RowBackwardFor(T* g, const T* inv, int64_t y, int64_t C, const Consts<T>& k, T t, const RowGrad<T>& r) {
  if constexpr (std::is_same<T, float>::value) {
    RowBackwardF(g, inv, y, C, k, t, r);
  } else {
    RowBackward<T>(g, inv, y, C, k, t, r);
  }
}

template <typename T>
ECF_INLINE void ForwardRows(const T* buf, int64_t ld, const T* inv, const int64_t* labels, int64_t C, int64_t r0,
                            int64_t r1, const Consts<T>& k, T t, T* row_out, T* z) {
  for (int64_t i = r0; i < r1; ++i) {
    const T* raw = buf + i * ld;
    const int64_t y = labels[i];
    const T cy = Clamp1<T>(raw[y] * inv[y]);
    const T ctm = Ctm<T>(k, cy);
    const T fy = TargetValue<T>(k, cy, ctm);
    const RowFwd<T> r = RowForwardFor<T>(raw, inv, y, C, k, t, ctm, fy, z);
    T* out = row_out + i * kRowOut;
    out[0] = r.lse;
    out[1] = r.lse - k.s * fy;
    out[2] = r.hard;
    // argmax with the first index on ties: every c_j before y is < c_y, every one after is ≤ c_y.
    out[3] = (r.cmax_lo < cy && r.cmax_hi <= cy) ? T(1) : T(0);
    out[4] = raw[y] * inv[y];
  }
}

template <typename T>
ECF_INLINE void ForwardShardRows(const T* buf, int64_t ld, const T* inv, const int64_t* labels, const T* cy_in,
                                 int64_t C, int64_t r0, int64_t r1, const Consts<T>& k, T t, T* row_out, T* z) {
  for (int64_t i = r0; i < r1; ++i) {
    const T* raw = buf + i * ld;
    const int64_t y = labels[i];
    const T cy = Clamp1<T>(cy_in[i]);
    const T ctm = Ctm<T>(k, cy);
    const T fy = TargetValue<T>(k, cy, ctm);
    const RowFwd<T> r = RowForwardFor<T>(raw, inv, y, C, k, t, ctm, fy, z);
    T cmax = r.cmax_lo > r.cmax_hi ? r.cmax_lo : r.cmax_hi;
    if (y >= 0) cmax = cy > cmax ? cy : cmax;  // the owned target's c_y as given (top-1 compares to it)
    T* out = row_out + i * kShardRowOut;
    out[0] = r.lse;
    out[1] = k.s * fy;
    out[2] = r.hard;
    out[3] = cmax;
  }
}

template <typename T>
ECF_INLINE void BackwardRows(T* buf, int64_t ld, const T* inv, const int64_t* labels, int64_t C, int64_t r0,
                             int64_t r1, const Consts<T>& k, T t, const T* row_out, T gscale) {
  for (int64_t i = r0; i < r1; ++i) {
    const T* o = row_out + i * kRowOut;
    RowBackwardFor<T>(buf + i * ld, inv, labels[i], C, k, t, RowGrad<T>{o[0], o[4], gscale, -gscale});
  }
}

template <typename T>
ECF_INLINE void BackwardShardRows(T* buf, int64_t ld, const T* inv, const int64_t* labels, const T* cy, int64_t C,
                                  int64_t r0, int64_t r1, const Consts<T>& k, T t, const T* row_out, const T* gl,
                                  const T* gt) {
  for (int64_t i = r0; i < r1; ++i) {
    RowBackwardFor<T>(buf + i * ld, inv, labels[i], C, k, t,
                      RowGrad<T>{row_out[i * kShardRowOut], cy[i], gl[i], gt[i]});
  }
}

}  // namespace
}  // namespace margin
}  // namespace ecf
