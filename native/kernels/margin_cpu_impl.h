// The CPU kernels' bodies, included by kernels/margin_cpu.cc (generic x86-64 / other CPUs, 4-wide
// vectors) and kernels/margin_cpu_avx2.cc (compiled for AVX2+FMA, 8-wide vectors). Everything is
// in an anonymous namespace, so the two copies never meet at link time. Define ECF_MARGIN_VW
// (floats per vector) and include <algorithm>, <cmath>, <cstring>, <limits> first.
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

template <typename T>
ECF_INLINE void ForwardRows(const T* buf, int64_t ld, const T* inv, const int64_t* labels, int64_t C, int64_t r0,
                            int64_t r1, const Consts<T>& k, T t, T* row_out, T* z) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t i = r0; i < r1; ++i) {
    const T* raw = buf + i * ld;
    const int64_t y = labels[i];
    const T cy = Clamp1<T>(raw[y] * inv[y]);
    const T ctm = Ctm<T>(k, cy);
    const T fy = TargetValue<T>(k, cy, ctm);
    T zmax[kLanes], cmax_lo[kLanes], cmax_hi[kLanes], hard[kLanes], sum[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      zmax[l] = ninf;
      cmax_lo[l] = ninf;
      cmax_hi[l] = ninf;
      hard[l] = 0;
      sum[l] = 0;
    }
    NegLogits<T>(raw, inv, 0, y, k, t, ctm, z, zmax, cmax_lo, hard);
    NegLogits<T>(raw, inv, y + 1, C, k, t, ctm, z, zmax, cmax_hi, hard);
    z[y] = k.s * fy;
    T m = LaneMax<T>(zmax);
    m = z[y] > m ? z[y] : m;
    int64_t j = 0;
    for (; j + kLanes <= C; j += kLanes) {
      for (int l = 0; l < kLanes; ++l) sum[l] += Exp(z[j + l] - m);
    }
    for (; j < C; ++j) sum[0] += Exp(z[j] - m);
    const T lse = m + Log<T>(LaneSum<T>(sum));
    T* out = row_out + i * kRowOut;
    out[0] = lse;
    out[1] = lse - k.s * fy;
    out[2] = LaneSum<T>(hard);
    // argmax with the first index on ties: every c_j before y is < c_y, every one after is ≤ c_y.
    out[3] = (LaneMax<T>(cmax_lo) < cy && LaneMax<T>(cmax_hi) <= cy) ? T(1) : T(0);
    out[4] = raw[y] * inv[y];
  }
}

template <typename T>
ECF_INLINE void BackwardRows(T* buf, int64_t ld, const T* inv, const int64_t* labels, int64_t C, int64_t r0,
                             int64_t r1, const Consts<T>& k, T t, const T* row_out, T gscale) {
  const int neg = k.negative;
  const T s = k.s;
  for (int64_t i = r0; i < r1; ++i) {
    T* g = buf + i * ld;
    const int64_t y = labels[i];
    const T lse = row_out[i * kRowOut];
    const T raw_y = row_out[i * kRowOut + 4];
    const T cy = Clamp1<T>(raw_y);
    const T ctm = Ctm<T>(k, cy);
    const T sg = s * gscale;
    for (int64_t j = 0; j < C; ++j) {
      T u = g[j] * inv[j];
      T c = Clamp1<T>(u);
      bool h = neg != kNegPlain && c > ctm;
      T hv = neg == kNegCurricular ? c * (t + c) : (T(1) + t) * c + t;
      T hd = neg == kNegCurricular ? t + T(2) * c : T(1) + t;
      T v = s * (h ? hv : c);
      T d = h ? hd : T(1);
      T p = Exp(v - lse);
      bool pass = u >= T(-1) && u <= T(1);  // the clamp's gradient (inclusive bounds)
      g[j] = pass ? p * sg * d * inv[j] : T(0);
    }
    // The target column: softmax − 1, times the margin function's derivative.
    const T fy = TargetValue<T>(k, cy, ctm);
    const T py = Exp(s * fy - lse);
    const bool pass_y = raw_y >= T(-1) && raw_y <= T(1);
    g[y] = pass_y ? (py - T(1)) * sg * TargetDeriv<T>(k, cy) * inv[y] : T(0);
  }
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

ECF_INLINE void ForwardRowsF(const float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C,
                             int64_t r0, int64_t r1, const Consts<float>& k, float t, float* row_out, float* z) {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t i = r0; i < r1; ++i) {
    const float* raw = buf + i * ld;
    const int64_t y = labels[i];
    const float cy = Clamp1<float>(raw[y] * inv[y]);
    const float ctm = Ctm<float>(k, cy);
    const float fy = TargetValue<float>(k, cy, ctm);
    NegAcc lo{Splat(ninf), Splat(ninf), Splat(0.0f)};
    NegAcc hi{Splat(ninf), Splat(ninf), Splat(0.0f)};
    float zmax_lo = ninf, cmax_lo = ninf, zmax_hi = ninf, cmax_hi = ninf, hard = 0;
    NegLogits8(raw, inv, 0, y, k, t, ctm, z, lo, zmax_lo, cmax_lo, hard);
    NegLogits8(raw, inv, y + 1, C, k, t, ctm, z, hi, zmax_hi, cmax_hi, hard);
    z[y] = k.s * fy;
    float m = z[y];
    for (float v : {HMax(lo.zmax), HMax(hi.zmax), zmax_lo, zmax_hi}) m = v > m ? v : m;
    const V8 vm = Splat(m);
    V8 acc = Splat(0.0f);
    int64_t j = 0;
    for (; j + kW <= C; j += kW) acc += Exp8(Load(z + j) - vm);
    float sum = HSum(acc);
    for (; j < C; ++j) sum += Exp(z[j] - m);
    const float lse = m + std::log(sum);
    float* out = row_out + i * kRowOut;
    out[0] = lse;
    out[1] = lse - k.s * fy;
    out[2] = hard + HSum(lo.hard) + HSum(hi.hard);
    const float below = std::max(HMax(lo.cmax), cmax_lo), above = std::max(HMax(hi.cmax), cmax_hi);
    out[3] = (below < cy && above <= cy) ? 1.0f : 0.0f;
    out[4] = raw[y] * inv[y];
  }
}

ECF_INLINE void BackwardRowsF(float* buf, int64_t ld, const float* inv, const int64_t* labels, int64_t C,
                              int64_t r0, int64_t r1, const Consts<float>& k, float t, const float* row_out,
                              float gscale) {
  const int neg = k.negative;
  const bool cur = neg == kNegCurricular;
  const V8 one = Splat(1.0f), zero = Splat(0.0f), two = Splat(2.0f), mn = Splat(-1.0f), mx = Splat(1.0f);
  const V8 vs = Splat(k.s), vt = Splat(t);
  for (int64_t i = r0; i < r1; ++i) {
    float* g = buf + i * ld;
    const int64_t y = labels[i];
    const float lse = row_out[i * kRowOut];
    const float raw_y = row_out[i * kRowOut + 4];
    const float cy = Clamp1<float>(raw_y);
    const float ctm = Ctm<float>(k, cy);
    const float sg = k.s * gscale;
    const V8 vlse = Splat(lse), vsg = Splat(sg), vctm = Splat(ctm);
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
      Store(g + j, Sel(pass, p * vsg * d * iv, zero));
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
      g[j] = pass ? Exp(v - lse) * sg * d * inv[j] : 0.0f;
    }
    const float fy = TargetValue<float>(k, cy, ctm);
    const float py = Exp(k.s * fy - lse);
    const bool pass_y = raw_y >= -1.0f && raw_y <= 1.0f;
    g[y] = pass_y ? (py - 1.0f) * sg * TargetDeriv<float>(k, cy) * inv[y] : 0.0f;
  }
}

}  // namespace
}  // namespace margin
}  // namespace ecf
