// Fused SGD step (the PyTorch torch.optim.SGD rule, over every parameter in one native call) and
// gradient unscaling for fp16 loss scaling.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <string>
#include <vector>

#include "core/registry.h"
#include "ops/common.h"

namespace ecf {
namespace {

std::vector<double> DoubleListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (!info[i].IsArray()) ThrowArgType(info.Env(), fn, arg, "an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<double> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) ThrowArgType(info.Env(), fn, arg, "an array of numbers");
    out.push_back(v.As<Napi::Number>().DoubleValue());
  }
  return out;
}

// sgdStep(params, momentumBuffers, weightDecays, lr, momentum, dampening, nesterov)
//   → array (one entry per parameter): the handle of a momentum buffer created by this call, or null.
// The update, per parameter p with gradient g (parameters without a gradient are skipped):
//   g ← g + wd·p;  buf ← g (first step) | μ·buf + (1−dampening)·g;  g ← g + μ·buf (nesterov) | buf;
//   p ← p − lr·g.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "sgdStep";
  Napi::Env env = info.Env();
  std::vector<at::Tensor> params = TensorListArg(info, 0, kFn, "params");
  std::vector<at::Tensor> bufs = OptTensorListArg(info, 1, kFn, "momentumBuffers");
  std::vector<double> wds = DoubleListArg(info, 2, kFn, "weightDecays");
  const double lr = ECF_DBL(3, "lr");
  const double momentum = ECF_DBL(4, "momentum");
  const double dampening = IsAbsent(info, 5) ? 0.0 : ECF_DBL(5, "dampening");
  const bool nesterov = IsAbsent(info, 6) ? false : ECF_BOOL(6, "nesterov");
  const size_t n = params.size();
  if (bufs.size() != n || wds.size() != n) {
    throw Napi::Error::New(env, "sgdStep: params (" + std::to_string(n) + "), momentumBuffers (" +
                                    std::to_string(bufs.size()) + ") and weightDecays (" +
                                    std::to_string(wds.size()) + ") must have the same length");
  }
  if (nesterov && (momentum <= 0 || dampening != 0)) {
    throw Napi::Error::New(env, "sgdStep: nesterov momentum requires momentum > 0 and dampening = 0");
  }
  Napi::Array created = Napi::Array::New(env, n);
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < n; ++k) {
    at::Tensor& p = params[k];
    created.Set(uint32_t(k), env.Null());
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    at::Tensor d_p = grad;
    if (wds[k] != 0) d_p = d_p.add(p, wds[k]);
    if (momentum != 0) {
      at::Tensor& buf = bufs[k];
      if (!buf.defined()) {
        buf = d_p.clone().detach();
        created.Set(uint32_t(k), Wrap(env, buf));
      } else {
        if (!buf.sizes().equals(p.sizes())) {
          throw Napi::Error::New(env, "sgdStep: momentumBuffers[" + std::to_string(k) + "] has shape " +
                                          c10::str(buf.sizes()) + " but params[" + std::to_string(k) +
                                          "] has shape " + c10::str(p.sizes()));
        }
        buf.mul_(momentum).add_(d_p, 1.0 - dampening);
      }
      d_p = nesterov ? d_p.add(buf, momentum) : buf;
    }
    p.add_(d_p, -lr);
  }
  return created;
}

// unscaleGrads(params, invScale) → true when some gradient is non-finite (inf/NaN).
// Multiplies every defined gradient by invScale in place (fp16 loss scaling); one host sync.
Napi::Value UnscaleGrads(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "unscaleGrads";
  std::vector<at::Tensor> params = TensorListArg(info, 0, kFn, "params");
  const double inv = ECF_DBL(1, "invScale");
  at::NoGradGuard no_grad;
  at::Tensor found;
  for (auto& p : params) {
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (inv != 1.0) g.mul_(inv);
    at::Tensor bad = g.isfinite().logical_not().any();
    found = found.defined() ? found.logical_or(bad) : bad;
  }
  return Napi::Boolean::New(info.Env(), found.defined() && found.item<bool>());
}

}  // namespace

void RegisterOptimOps(Napi::Env env, Napi::Object exports) {
  Export<SgdStep>(env, exports, "sgdStep");
  Export<UnscaleGrads>(env, exports, "unscaleGrads");
}

}  // namespace ecf
