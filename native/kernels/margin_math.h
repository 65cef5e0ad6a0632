// The per-element math of the fused margin + cross-entropy op (CosFace, ArcFace, MV-Arc,
// CurricularFace; docs/heads.md), shared word for word by the CPU kernel (kernels/margin_cpu.cc) and the CUDA kernel
// (kernels/margin.cu). Plain C++/CUDA: no libtorch.
//
// Notation: c = clamp(x̂·w_j/‖w_j‖, −1, 1); y the target class; ctm = cos(θ_y + m) computed as
// c_y·cos m − √(max(1 − c_y², 1e-7))·sin m (the radicand floor keeps √ finite at |c| = 1).
//   target f(c_y):  kThresh  ctm if c_y > cos(π−m) else c_y − m·sin(π−m)    (ArcFace "thresh",
//                                                                          CurricularFace)
//                   kEasy    ctm if c_y > 0 else c_y                        (MV-Arc easy_margin)
//                   kPlain   ctm                                            (paper-literal)
//                   kCosFace c_y − m
//                   kNone    c_y                                            (normalised softmax)
//   negatives h(c_j), hard iff c_j > ctm (strict; ctm without the fallback):
//                   kNegPlain       c_j
//                   kNegCurricular  c_j·(t + c_j) on hard, derivative t + 2c_j
//                   kNegMv          (t + 1)·c_j + t on hard, derivative t + 1
//   logits s·f(c_y), s·h(c_j); loss = mean over rows of logsumexp − s·f(c_y).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ECF_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define ECF_HD inline __attribute__((always_inline))
#else
#define ECF_HD inline
#endif

namespace ecf {
namespace margin {

enum Target : int32_t { kThresh = 0, kEasy = 1, kPlain = 2, kCosFace = 3, kNone = 4 };
enum Negative : int32_t { kNegPlain = 0, kNegCurricular = 1, kNegMv = 2 };

// Values per row in row_out: logsumexp, loss, hard count, argmax == label, x̂·w_y/‖w_y‖
// (unclamped, read by the backward so that no thread needs the buffer's target entry).
constexpr int kRowOut = 5;

// Values per row in the sharded op's row_out: logsumexp over the shard's margin logits, the target
// logit s·f(c_y) (from the external c_y, on every shard), the shard's hard count (its own target
// column excluded), and the largest c_j among the shard's columns.
constexpr int kShardRowOut = 4;

// Floor of the radicand 1 − c²: keeps √ and its derivative finite at |c| = 1.
constexpr double kRadicandFloor = 1e-7;

// Constants of one call, in the accumulation type A (float for float/half/bfloat16, double for
// double).
template <typename A>
struct Consts {
  int32_t target;
  int32_t negative;
  A s;       // scale
  A m;       // margin
  A cos_m;   // cos m
  A sin_m;   // sin m
  A th;      // cos(π − m)
  A mm;      // sin(π − m)·m
};

template <typename A>
ECF_HD A Sqrt(A v);
template <>
ECF_HD float Sqrt<float>(float v) {
#if defined(__CUDA_ARCH__)
  return sqrtf(v);
#else
  return __builtin_sqrtf(v);
#endif
}
template <>
ECF_HD double Sqrt<double>(double v) {
#if defined(__CUDA_ARCH__)
  return sqrt(v);
#else
  return __builtin_sqrt(v);
#endif
}

template <typename A>
ECF_HD A Clamp1(A c) {
  return c < A(-1) ? A(-1) : (c > A(1) ? A(1) : c);
}

// cos(θ + m) without the fallback.
template <typename A>
ECF_HD A Ctm(const Consts<A>& k, A c) {
  A r = A(1) - c * c;
  r = r > A(kRadicandFloor) ? r : A(kRadicandFloor);
  return c * k.cos_m - Sqrt<A>(r) * k.sin_m;
}

// d cos(θ + m) / dc of the function Ctm computes (the clamped radicand has zero derivative).
template <typename A>
ECF_HD A CtmDeriv(const Consts<A>& k, A c) {
  A r = A(1) - c * c;
  return r > A(kRadicandFloor) ? k.cos_m + k.sin_m * c / Sqrt<A>(r) : k.cos_m;
}

// Target value f(c_y) given ctm = Ctm(c_y).
template <typename A>
ECF_HD A TargetValue(const Consts<A>& k, A c, A ctm) {
  switch (k.target) {
    case kThresh: return c > k.th ? ctm : c - k.mm;
    case kEasy: return c > A(0) ? ctm : c;
    case kPlain: return ctm;
    case kCosFace: return c - k.m;
    default: return c;
  }
}

// df/dc_y.
template <typename A>
ECF_HD A TargetDeriv(const Consts<A>& k, A c) {
  switch (k.target) {
    case kThresh: return c > k.th ? CtmDeriv(k, c) : A(1);
    case kEasy: return c > A(0) ? CtmDeriv(k, c) : A(1);
    case kPlain: return CtmDeriv(k, c);
    default: return A(1);
  }
}

// Whether the target kind uses ctm (for the hard mask, the negative kinds need it anyway).
template <typename A>
ECF_HD bool NeedsCtm(const Consts<A>& k) {
  return k.negative != kNegPlain || k.target == kThresh || k.target == kEasy || k.target == kPlain;
}

}  // namespace margin
}  // namespace ecf
