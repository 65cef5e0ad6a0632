// The fused margin logits + cross-entropy op of the margin family (CurricularFace, ArcFace
// "thresh", CosFace, MV-Arc-Softmax; docs/heads.md), with its own backward.
//
//   marginLoss(x̂ [B,D], W [D,C], labels [B], t [1] | null, config) → [loss, stats, logits | null]
//
// x̂ is already L2-normalised (ATen ops with autograd around the op, lib/ops/margin.ts); W is
// the raw class-weight "kernel": the column normalisation happens inside the op, so no
// normalised copy of W ([D,C], as large as W) is ever made.
//
// Memory: one [B,C] buffer. Forward: buf = x̂·W (one matmul); a row-parallel pass reads it (times
// 1/‖w_j‖, clamped to [−1, 1]) to build the margin logits and a stable logsumexp per row; the
// logits are never stored. The buffer is kept for backward, which recomputes the logits from it
// and overwrites it in place with dL/d(x̂·W) = (softmax − onehot)/B · s · f'(c) / ‖w_j‖; then
// dL/dx̂ = buf·Wᵀ and dL/dW = x̂ᵀ·buf, finished in place by the column-normalisation term
// A_j ← A_j − (W_j·A_j)/‖w_j‖²·W_j. The buffer is released at the end of backward (a second
// backward through the same graph is refused with a clear error).
//
// CurricularFace's t (a buffer, updated in place here in training mode, before use, as the
// official head/metrics.py does):  t ← w·r + (1 − w)·t,  r = mean c_y (tStatistic 0) or mean cos(θ_y + m) (1).
// stats (float64 [4], no grad): mean c_y, the t used, fraction of hard negatives among the
// B·(C − 1) non-target entries, fraction of rows whose argmax_j c_ij is the label.
//
// Sharded form, for the Partial-FC head (lib/distributed/sharded-head.ts):
//
//   marginLossShard(x̂ [B,D], W [D,C] (this shard's columns), labels [B] in [−1, C), cy [B],
//                   t [1] | null, config) → [lse [B], target [B], rowStats [B, 2]]
//
// labels are local to the shard (−1: another shard owns the target); cy is every row's target
// cosine x̂·w_y/‖w_y‖ (unclamped, no gradient) as the owner computes it, all-reduced beforehand, so
// each shard takes the hard-negative threshold cos(θ_y + m), the target logit s·f(c_y) and
// CurricularFace's t update (the unsharded one: the same global c_y on every rank) from it.
// Outputs: lse, the logsumexp of the shard's margin logits per row (the caller all-reduces the
// shards' lse into the global normaliser); target = s·f(c_y) on every row; rowStats (no grad):
// the shard's hard count and max_j c_ij per row. The backward takes dL/dlse and dL/dtarget per
// row: dL/dz_ij = dL/dlse_i·exp(z_ij − lse_i), plus dL/dtarget_i at the target column where this
// shard owns it (c_y's gradient flows through the owner's column; the threshold mask has none).
// Same one-buffer memory and one backward per forward as marginLoss.
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>


#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/margin.h"
#include "ops/common.h"

#ifdef ECF_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace ecf {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kNormEps = 1e-12;  // as F.normalize

struct MarginConfig {
  int64_t target = margin::kThresh;
  int64_t negative = margin::kNegPlain;
  double s = 64.0;
  double m = 0.5;
  double mv_t = 0.2;          // MV-Arc's fixed t
  bool training = false;      // CurricularFace: update t
  double t_new_weight = 0.01; // t ← w·r + (1 − w)·t
  int64_t t_statistic = 0;    // 0: mean cos θ_y; 1: mean cos(θ_y + m)
  bool return_logits = false; // s·c (no margin), for accuracy logging
};

template <typename A>
margin::Consts<A> MakeConsts(const MarginConfig& c) {
  const double pi = 3.14159265358979323846;
  margin::Consts<A> k;
  k.target = static_cast<int32_t>(c.target);
  k.negative = static_cast<int32_t>(c.negative);
  k.s = static_cast<A>(c.s);
  k.m = static_cast<A>(c.m);
  k.cos_m = static_cast<A>(std::cos(c.m));
  k.sin_m = static_cast<A>(std::sin(c.m));
  k.th = static_cast<A>(std::cos(pi - c.m));
  k.mm = static_cast<A>(std::sin(pi - c.m) * c.m);
  return k;
}

at::ScalarType AccType(at::ScalarType st) { return st == at::kDouble ? at::kDouble : at::kFloat; }

// The sharded form's per-row inputs (kernels/margin.h), all undefined for the unsharded op:
// cy [B] for the forward and the backward, gl and gt [B] (dL/dlse, dL/dtarget) for the backward.
struct ShardRows {
  at::Tensor cy, gl, gt;
  bool sharded() const { return cy.defined(); }
};

// CPU row passes, one template for float and double, parallel over rows.
template <typename T>
void ForwardCpu(const at::Tensor& buf, const at::Tensor& inv, const at::Tensor& labels, const at::Tensor& t_used,
                const at::Tensor& row_out, const MarginConfig& cfg, const ShardRows& sh) {
  const int64_t B = buf.size(0), C = buf.size(1), ld = buf.stride(0);
  const int64_t* lab = labels.data_ptr<int64_t>();
  const auto k = MakeConsts<T>(cfg);
  const T t = t_used.item<T>();
  at::parallel_for(0, B, 1, [&](int64_t r0, int64_t r1) {
    std::vector<T> scratch(static_cast<size_t>(C));
    if (sh.sharded()) {
      margin::ForwardShardRowsCpu(buf.data_ptr<T>(), ld, inv.data_ptr<T>(), lab, sh.cy.data_ptr<T>(), C, r0, r1, k,
                                  t, row_out.data_ptr<T>(), scratch.data());
    } else {
      margin::ForwardRowsCpu(buf.data_ptr<T>(), ld, inv.data_ptr<T>(), lab, C, r0, r1, k, t, row_out.data_ptr<T>(),
                             scratch.data());
    }
  });
}

template <typename T>
void BackwardCpu(const at::Tensor& buf, const at::Tensor& inv, const at::Tensor& labels, const at::Tensor& t_used,
                 const at::Tensor& row_out, const at::Tensor& gout, const MarginConfig& cfg, const ShardRows& sh) {
  const int64_t B = buf.size(0), C = buf.size(1), ld = buf.stride(0);
  const int64_t* lab = labels.data_ptr<int64_t>();
  const auto k = MakeConsts<T>(cfg);
  const T t = t_used.item<T>();
  const T gs = sh.sharded() ? T(0) : gout.item<T>() / static_cast<T>(B);
  at::parallel_for(0, B, 1, [&](int64_t r0, int64_t r1) {
    if (sh.sharded()) {
      margin::BackwardShardRowsCpu(buf.data_ptr<T>(), ld, inv.data_ptr<T>(), lab, sh.cy.data_ptr<T>(), C, r0, r1, k,
                                   t, row_out.data_ptr<T>(), sh.gl.data_ptr<T>(), sh.gt.data_ptr<T>());
    } else {
      margin::BackwardRowsCpu(buf.data_ptr<T>(), ld, inv.data_ptr<T>(), lab, C, r0, r1, k, t, row_out.data_ptr<T>(),
                              gs);
    }
  });
}

// Forward row pass over buf (raw x̂·W) → row_out [B, kRowOut] (sharded: [B, kShardRowOut]).
void RunForward(const at::Tensor& buf, const at::Tensor& inv, const at::Tensor& labels, const at::Tensor& t_used,
                const at::Tensor& row_out, const MarginConfig& cfg, const ShardRows& sh = {}) {
  if (buf.is_cuda()) {
#ifdef ECF_WITH_CUDA
    const int64_t B = buf.size(0), C = buf.size(1), ld = buf.stride(0);
    c10::cuda::CUDAGuard guard(buf.device());
    const auto st = KernelDtype("marginLoss", buf.scalar_type());
    const auto k = MakeConsts<double>(cfg);
    const auto stream = at::cuda::getCurrentCUDAStream();
    const int64_t* lab = labels.data_ptr<int64_t>();
    const cudaError_t err =
        sh.sharded() ? margin::ForwardShardCuda(st, buf.data_ptr(), ld, inv.data_ptr(), lab, sh.cy.data_ptr(), B, C, k,
                                                t_used.data_ptr(), row_out.data_ptr(), stream)
                     : margin::ForwardCuda(st, buf.data_ptr(), ld, inv.data_ptr(), lab, B, C, k, t_used.data_ptr(),
                                           row_out.data_ptr(), stream);
    CheckCuda("marginLoss forward", err);
    return;
#else
    TORCH_CHECK(false, "marginLoss: this build has no CUDA support");
#endif
  }
  if (buf.scalar_type() == at::kFloat) {
    ForwardCpu<float>(buf, inv, labels, t_used, row_out, cfg, sh);
  } else {
    ForwardCpu<double>(buf, inv, labels, t_used, row_out, cfg, sh);
  }
}

// Backward row pass: buf ← dL/d(x̂·W) in place (gout: dL/dloss [1]; sharded: sh.gl, sh.gt).
void RunBackward(const at::Tensor& buf, const at::Tensor& inv, const at::Tensor& labels, const at::Tensor& t_used,
                 const at::Tensor& row_out, const at::Tensor& gout, const MarginConfig& cfg, const ShardRows& sh = {}) {
  if (buf.is_cuda()) {
#ifdef ECF_WITH_CUDA
    const int64_t B = buf.size(0), C = buf.size(1), ld = buf.stride(0);
    c10::cuda::CUDAGuard guard(buf.device());
    const auto st = KernelDtype("marginLoss", buf.scalar_type());
    const auto k = MakeConsts<double>(cfg);
    const auto stream = at::cuda::getCurrentCUDAStream();
    const int64_t* lab = labels.data_ptr<int64_t>();
    const cudaError_t err =
        sh.sharded() ? margin::BackwardShardCuda(st, buf.data_ptr(), ld, inv.data_ptr(), lab, sh.cy.data_ptr(), B, C, k,
                                                 t_used.data_ptr(), row_out.data_ptr(), sh.gl.data_ptr(),
                                                 sh.gt.data_ptr(), stream)
                     : margin::BackwardCuda(st, buf.data_ptr(), ld, inv.data_ptr(), lab, B, C, k, t_used.data_ptr(),
                                            row_out.data_ptr(), gout.data_ptr(), stream);
    CheckCuda("marginLoss backward", err);
    return;
#else
    TORCH_CHECK(false, "marginLoss: this build has no CUDA support");
#endif
  }
  if (buf.scalar_type() == at::kFloat) {
    BackwardCpu<float>(buf, inv, labels, t_used, row_out, gout, cfg, sh);
  } else {
    BackwardCpu<double>(buf, inv, labels, t_used, row_out, gout, cfg, sh);
  }
}

// A_j ← A_j − (W_j·A_j)·q_j·W_j in place (A, W [D, C] contiguous).
void RunProject(const at::Tensor& W, const at::Tensor& A, const at::Tensor& q) {
  const int64_t D = W.size(0), C = W.size(1);
  if (W.is_cuda()) {
#ifdef ECF_WITH_CUDA
    c10::cuda::CUDAGuard guard(W.device());
    CheckCuda("marginLoss normalisation-gradient",
              margin::ProjectColumnsCuda(KernelDtype("marginLoss", W.scalar_type()), W.data_ptr(), A.data_ptr(),
                                         q.data_ptr(), D, C, at::cuda::getCurrentCUDAStream()));
    return;
#else
    TORCH_CHECK(false, "marginLoss: this build has no CUDA support");
#endif
  }
  if (W.scalar_type() == at::kFloat) {
    at::parallel_for(0, C, 256, [&](int64_t c0, int64_t c1) {
      std::vector<float> scratch(static_cast<size_t>(c1 - c0));
      margin::ProjectColumnsCpu(W.data_ptr<float>(), A.data_ptr<float>(), q.data_ptr<float>(), D, C, c0, c1,
                                scratch.data());
    });
  } else {
    at::parallel_for(0, C, 256, [&](int64_t c0, int64_t c1) {
      std::vector<double> scratch(static_cast<size_t>(c1 - c0));
      margin::ProjectColumnsCpu(W.data_ptr<double>(), A.data_ptr<double>(), q.data_ptr<double>(), D, C, c0, c1,
                                scratch.data());
    });
  }
}

// a [M, K] · b [K, N]; a and b may be transposed views. On CPU this is libtorch's BLAS
// (OpenBLAS once scripts/setup.sh installed it: Debian's default reference BLAS is 10–20× slower).
at::Tensor MatMul(const at::Tensor& a, const at::Tensor& b) { return at::mm(a, b); }

// cos(θ + m) of a [B] tensor with the radicand 1 − c² floored at 1e-7 (finite at |c| = 1).
at::Tensor CtmOf(const at::Tensor& c, double m) {
  return c * std::cos(m) - (1 - c * c).clamp_min(margin::kRadicandFloor).sqrt() * std::sin(m);
}

// Checks both forms make on x̂ [B, D] and W [D, C].
void CheckOperands(const char* fn, const at::Tensor& xhat, const at::Tensor& weight) {
  TORCH_CHECK(xhat.dim() == 2, fn, ": embeddings must be [B, D], got ", xhat.sizes());
  TORCH_CHECK(weight.dim() == 2, fn, ": kernel must be [D, C], got ", weight.sizes());
  TORCH_CHECK(xhat.size(1) == weight.size(0), fn, ": embeddings are ", xhat.size(1), "-d but the kernel has ",
              weight.size(0), " rows (expected [D, C])");
  TORCH_CHECK(xhat.scalar_type() == weight.scalar_type(), fn, ": embeddings (", xhat.scalar_type(), ") and kernel (",
              weight.scalar_type(), ") must have the same dtype");
  TORCH_CHECK(xhat.device() == weight.device(), fn, ": embeddings on ", xhat.device(), " but kernel on ",
              weight.device());
  const auto st = xhat.scalar_type();
  if (xhat.is_cuda()) {
    TORCH_CHECK(st == at::kFloat || st == at::kDouble || st == at::kHalf || st == at::kBFloat16, fn,
                ": CUDA supports float32, float64, float16 and bfloat16, got ", st);
  } else {
    TORCH_CHECK(st == at::kFloat || st == at::kDouble, fn, ": on CPU the dtype must be float32 or float64, got ", st);
  }
  TORCH_CHECK(xhat.size(0) > 0, fn, ": empty batch");
  TORCH_CHECK(weight.size(1) > 0, fn, ": the kernel has no classes");
}

// labels [B] of any integer dtype → int64 on `device`, checked to lie in [lo, C).
at::Tensor CheckedLabels(const char* fn, const at::Tensor& labels_in, int64_t B, int64_t lo, int64_t C,
                         const at::Device& device) {
  TORCH_CHECK(labels_in.dim() == 1 && labels_in.size(0) == B, fn, ": labels must be [", B, "], got ",
              labels_in.sizes());
  TORCH_CHECK(!labels_in.is_floating_point() && !labels_in.is_complex() && labels_in.scalar_type() != at::kBool, fn,
              ": labels must be integers, got ", labels_in.scalar_type());
  at::Tensor labels = labels_in.to(device, at::kLong).contiguous();
  const int64_t min = labels.min().item<int64_t>(), max = labels.max().item<int64_t>();
  TORCH_CHECK(min >= lo && max < C, fn, ": labels must lie in [", lo, ", ", C, "), got values in [", min, ", ", max,
              "]");
  return labels;
}

// Column norms: inv = 1/max(‖w_j‖, eps); q = 1/‖w_j‖² where ‖w_j‖ ≥ eps, else 0 (the clamp blocks
// the norm's gradient there).
std::pair<at::Tensor, at::Tensor> ColumnNorms(const at::Tensor& W, at::ScalarType acc) {
  at::Tensor norm = at::linalg_vector_norm(W, 2, at::IntArrayRef{0}, false, acc);
  at::Tensor inv = norm.clamp_min(kNormEps).reciprocal();
  at::Tensor q = at::where(norm >= kNormEps, inv * inv, at::zeros_like(inv));
  return {inv, q};
}

// The t this call uses ([1], accumulation type): CurricularFace's buffer, first updated in place
// from the clamped target cosines cy in training mode; MV's fixed t; 0 otherwise.
at::Tensor TUsed(const char* fn, const at::Tensor& t, const at::Tensor& cy, const MarginConfig& cfg,
                 const at::TensorOptions& acc_opts) {
  if (cfg.negative == margin::kNegCurricular) {
    TORCH_CHECK(t.numel() == 1 && t.is_floating_point(), fn,
                ": CurricularFace needs the t buffer (a 1-element float tensor)");
    TORCH_CHECK(t.device() == cy.device(), fn, ": t is on ", t.device(), " but the embeddings on ", cy.device());
    if (cfg.training) {
      at::Tensor r = cfg.t_statistic == 1 ? CtmOf(cy, cfg.m).mean() : cy.mean();
      t.mul_(1.0 - cfg.t_new_weight).add_(r.to(t.scalar_type()) * cfg.t_new_weight);
    }
    return t.detach().reshape({1}).to(acc_opts.dtype()).clone();
  }
  if (cfg.negative == margin::kNegMv) return at::full({1}, cfg.mv_t, acc_opts);
  return at::zeros({1}, acc_opts);
}

// What both forms keep for the backward (the buffer separately: the backward consumes it).
void SaveForBackward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& W, const at::Tensor& buf,
                     const at::Tensor& inv, const at::Tensor& q, const at::Tensor& labels, const at::Tensor& t_used,
                     const at::Tensor& row_out, const MarginConfig& cfg) {
  ctx->save_for_backward({x, W});
  ctx->saved_data["buf"] = buf;
  ctx->saved_data["inv"] = inv;
  ctx->saved_data["q"] = q;
  ctx->saved_data["labels"] = labels;
  ctx->saved_data["t"] = t_used;
  ctx->saved_data["row_out"] = row_out;
  ctx->saved_data["target"] = cfg.target;
  ctx->saved_data["negative"] = cfg.negative;
  ctx->saved_data["s"] = cfg.s;
  ctx->saved_data["m"] = cfg.m;
}

MarginConfig SavedConfig(AutogradContext* ctx) {
  MarginConfig cfg;
  cfg.target = ctx->saved_data["target"].toInt();
  cfg.negative = ctx->saved_data["negative"].toInt();
  cfg.s = ctx->saved_data["s"].toDouble();
  cfg.m = ctx->saved_data["m"].toDouble();
  return cfg;
}

// The saved [B, C] buffer, removed from the context (one backward per forward).
at::Tensor TakeBuffer(AutogradContext* ctx, const char* fn) {
  auto it = ctx->saved_data.find("buf");
  TORCH_CHECK(it != ctx->saved_data.end(), fn,
              ": backward ran twice through the same graph; the fused op turns its saved [B x C] buffer into the "
              "gradient in place, so it supports one backward per forward (no retainGraph)");
  at::Tensor buf = it->second.toTensor();
  ctx->saved_data.erase(it);
  return buf;
}

// dL/dx̂ = buf·Wᵀ and dL/dW = x̂ᵀ·buf (with the column-normalisation term) from buf = dL/d(x̂·W);
// releases buf.
variable_list InputGrads(AutogradContext* ctx, at::Tensor buf, size_t num_inputs) {
  const auto saved = ctx->get_saved_variables();
  const at::Tensor& x = saved[0];
  const at::Tensor& W = saved[1];
  at::Tensor dx, dW;
  if (ctx->needs_input_grad(0)) dx = MatMul(buf, W.t());
  if (ctx->needs_input_grad(1)) {
    dW = MatMul(x.t(), buf);
    buf.reset();
    RunProject(W, dW, ctx->saved_data["q"].toTensor());
  }
  variable_list out(num_inputs);
  out[0] = dx;
  out[1] = dW;
  return out;
}

struct MarginFn : public torch::autograd::Function<MarginFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& xhat, const at::Tensor& weight,
                               const at::Tensor& labels_in, const at::Tensor& t, MarginConfig cfg) {
    constexpr const char* kFn = "marginLoss";
    CheckOperands(kFn, xhat, weight);
    const int64_t B = xhat.size(0), C = weight.size(1);
    at::Tensor labels = CheckedLabels(kFn, labels_in, B, 0, C, xhat.device());
    const at::ScalarType acc = AccType(xhat.scalar_type());
    const auto acc_opts = xhat.options().dtype(acc);
    at::Tensor x = xhat.contiguous();
    at::Tensor W = weight.contiguous();
    auto [inv, q] = ColumnNorms(W, acc);

    at::Tensor buf = MatMul(x, W);  // the one [B, C] matrix

    // The target cosine (clamped, margin-free), for t and the stats.
    at::Tensor cy = (buf.gather(1, labels.view({B, 1})).view({B}).to(acc) * inv.index_select(0, labels))
                        .clamp(-1, 1);
    at::Tensor t_used = TUsed(kFn, t, cy, cfg, acc_opts);

    at::Tensor row_out = at::empty({B, margin::kRowOut}, acc_opts);
    Poison({&row_out});
    RunForward(buf, inv, labels, t_used, row_out, cfg);

    at::Tensor loss = row_out.select(1, 1).mean();
    at::Tensor hard_frac = C > 1 ? row_out.select(1, 2).sum() / static_cast<double>(B * (C - 1))
                                 : at::zeros({}, acc_opts);
    at::Tensor stats =
        at::stack({cy.mean(), t_used.select(0, 0), hard_frac, row_out.select(1, 3).mean()}).to(at::kDouble);
    at::Tensor logits;
    if (cfg.return_logits) {
      logits = buf.to(acc).mul(inv).clamp_(-1, 1).mul_(cfg.s);
    } else {
      logits = at::empty({0}, acc_opts);
    }

    SaveForBackward(ctx, x, W, buf, inv, q, labels, t_used, row_out, cfg);
    ctx->mark_non_differentiable({stats, logits});
    return {loss, stats, logits};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    at::Tensor buf = TakeBuffer(ctx, "marginLoss");
    const MarginConfig cfg = SavedConfig(ctx);
    at::Tensor inv = ctx->saved_data["inv"].toTensor();
    at::Tensor gout = grads[0].to(inv.scalar_type()).reshape({1}).contiguous();
    RunBackward(buf, inv, ctx->saved_data["labels"].toTensor(), ctx->saved_data["t"].toTensor(),
                ctx->saved_data["row_out"].toTensor(), gout, cfg);
    return InputGrads(ctx, std::move(buf), 5);
  }
};

struct MarginShardFn : public torch::autograd::Function<MarginShardFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& xhat, const at::Tensor& weight,
                               const at::Tensor& labels_in, const at::Tensor& cy_in, const at::Tensor& t,
                               MarginConfig cfg) {
    constexpr const char* kFn = "marginLossShard";
    CheckOperands(kFn, xhat, weight);
    const int64_t B = xhat.size(0), C = weight.size(1);
    at::Tensor labels = CheckedLabels(kFn, labels_in, B, -1, C, xhat.device());
    TORCH_CHECK(cy_in.dim() == 1 && cy_in.size(0) == B, kFn, ": cy (the target cosines) must be [", B, "], got ",
                cy_in.sizes());
    TORCH_CHECK(cy_in.is_floating_point(), kFn, ": cy must be floating point, got ", cy_in.scalar_type());
    const at::ScalarType acc = AccType(xhat.scalar_type());
    const auto acc_opts = xhat.options().dtype(acc);
    at::Tensor cy = cy_in.detach().to(xhat.device(), acc).contiguous();
    at::Tensor x = xhat.contiguous();
    at::Tensor W = weight.contiguous();
    auto [inv, q] = ColumnNorms(W, acc);

    at::Tensor buf = MatMul(x, W);
    at::Tensor t_used = TUsed(kFn, t, cy.clamp(-1, 1), cfg, acc_opts);

    at::Tensor row_out = at::empty({B, margin::kShardRowOut}, acc_opts);
    Poison({&row_out});
    RunForward(buf, inv, labels, t_used, row_out, cfg, ShardRows{cy, {}, {}});

    at::Tensor lse = row_out.select(1, 0).clone();
    at::Tensor target = row_out.select(1, 1).clone();
    at::Tensor row_stats = row_out.narrow(1, 2, 2).clone();

    SaveForBackward(ctx, x, W, buf, inv, q, labels, t_used, row_out, cfg);
    ctx->saved_data["cy"] = cy;
    ctx->mark_non_differentiable({row_stats});
    return {lse, target, row_stats};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    at::Tensor buf = TakeBuffer(ctx, "marginLossShard");
    const MarginConfig cfg = SavedConfig(ctx);
    at::Tensor inv = ctx->saved_data["inv"].toTensor();
    at::Tensor labels = ctx->saved_data["labels"].toTensor();
    const auto per_row = [&](const at::Tensor& g) {
      return g.defined() ? g.to(inv.scalar_type()).reshape({labels.size(0)}).contiguous()
                         : at::zeros({labels.size(0)}, inv.options());
    };
    const ShardRows sh{ctx->saved_data["cy"].toTensor(), per_row(grads[0]), per_row(grads[1])};
    RunBackward(buf, inv, labels, ctx->saved_data["t"].toTensor(), ctx->saved_data["row_out"].toTensor(), at::Tensor(),
                cfg, sh);
    return InputGrads(ctx, std::move(buf), 6);
  }
};

double NumberField(const Napi::Object& o, const char* fn, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(fn) + ": config." + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
bool BoolField(const Napi::Object& o, const char* fn, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(fn) + ": config." + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// The config object of both forms, validated.
MarginConfig ParseConfig(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (info.Length() <= index || !info[index].IsObject()) ThrowArgType(info.Env(), fn, "config", "an object");
  Napi::Object o = info[index].As<Napi::Object>();
  const auto range_error = [&](const char* what) {
    return Napi::RangeError::New(info.Env(), std::string(fn) + ": config." + what);
  };
  MarginConfig cfg;
  cfg.target = static_cast<int64_t>(NumberField(o, fn, "target", margin::kThresh));
  cfg.negative = static_cast<int64_t>(NumberField(o, fn, "negative", margin::kNegPlain));
  cfg.s = NumberField(o, fn, "s", 64.0);
  cfg.m = NumberField(o, fn, "m", 0.5);
  cfg.mv_t = NumberField(o, fn, "mvT", 0.2);
  cfg.training = BoolField(o, fn, "training", false);
  cfg.t_new_weight = NumberField(o, fn, "tNewWeight", 0.01);
  cfg.t_statistic = static_cast<int64_t>(NumberField(o, fn, "tStatistic", 0));
  cfg.return_logits = BoolField(o, fn, "returnLogits", false);
  if (cfg.target < margin::kThresh || cfg.target > margin::kNone) throw range_error("target must be 0..4");
  if (cfg.negative < margin::kNegPlain || cfg.negative > margin::kNegMv) throw range_error("negative must be 0..2");
  if (cfg.t_statistic != 0 && cfg.t_statistic != 1) throw range_error("tStatistic must be 0 or 1");
  if (!(cfg.t_new_weight >= 0 && cfg.t_new_weight <= 1)) throw range_error("tNewWeight must lie in [0, 1]");
  if (!(cfg.s > 0)) throw range_error("s must be > 0");
  return cfg;
}

// The t argument, or a placeholder where the variant has no t (autograd inputs must be defined).
at::Tensor TArgument(const Napi::CallbackInfo& info, at::Tensor t, const MarginConfig& cfg, const at::Tensor& like,
                     const char* fn) {
  if (t.defined()) return t;
  if (cfg.negative == margin::kNegCurricular)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": CurricularFace needs the t buffer (argument 't')");
  return at::zeros({1}, like.options());
}

// marginLoss(xhat, kernel, labels, t | null, config) → [loss, stats, logits | null]
Napi::Value MarginLoss(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "marginLoss";
  const at::Tensor& xhat = ECF_T(0, "embeddings");
  const at::Tensor& weight = ECF_T(1, "kernel");
  const at::Tensor& labels = ECF_T(2, "labels");
  at::Tensor t = ECF_OPT_T(3, "t");
  const MarginConfig cfg = ParseConfig(info, 4, kFn);
  t = TArgument(info, t, cfg, xhat, kFn);
  variable_list out = MarginFn::apply(xhat, weight, labels, t, cfg);
  Napi::Env env = info.Env();
  Napi::Array arr = Napi::Array::New(env, 3);
  arr.Set(0u, Wrap(env, out[0]));
  arr.Set(1u, Wrap(env, out[1]));
  arr.Set(2u, cfg.return_logits ? Wrap(env, out[2]) : env.Null());
  return arr;
}

// marginLossShard(xhat, kernel, labels, cy, t | null, config) → [lse, target, rowStats]
Napi::Value MarginLossShard(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "marginLossShard";
  const at::Tensor& xhat = ECF_T(0, "embeddings");
  const at::Tensor& weight = ECF_T(1, "kernel");
  const at::Tensor& labels = ECF_T(2, "labels");
  const at::Tensor& cy = ECF_T(3, "cy");
  at::Tensor t = ECF_OPT_T(4, "t");
  const MarginConfig cfg = ParseConfig(info, 5, kFn);
  t = TArgument(info, t, cfg, xhat, kFn);
  variable_list out = MarginShardFn::apply(xhat, weight, labels, cy, t, cfg);
  Napi::Env env = info.Env();
  Napi::Array arr = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; ++i) arr.Set(i, Wrap(env, out[i]));
  return arr;
}

}  // namespace

void RegisterMarginOps(Napi::Env env, Napi::Object exports) {
  Export<MarginLoss>(env, exports, "marginLoss");
  Export<MarginLossShard>(env, exports, "marginLossShard");
}

}  // namespace ecf
