// Shorthands shared by the op files: every op is a plain function of CallbackInfo, registered
// with Export<> (core/errors.h) so libtorch errors become JS errors.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <napi.h>

#include <cstdlib>
#include <initializer_list>
#include <limits>

#include "core/args.h"
#include "core/errors.h"
#include "core/registry.h"
#include "core/tensor_handle.h"
#include "kernels/dtype.h"

#ifdef ECF_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#define ECF_T(i, name) ::ecf::TensorArg(info, i, kFn, name)
#define ECF_OPT_T(i, name) ::ecf::OptTensorArg(info, i, kFn, name)
#define ECF_INT(i, name) ::ecf::IntArg(info, i, kFn, name)
#define ECF_DBL(i, name) ::ecf::DoubleArg(info, i, kFn, name)
#define ECF_BOOL(i, name) ::ecf::BoolArg(info, i, kFn, name)
#define ECF_INTS(i, name) ::ecf::IntListArg(info, i, kFn, name)
#define ECF_SCALAR(i, name) ::ecf::ScalarArg(info, i, kFn, name)
#define ECF_RET(expr) return ::ecf::Wrap(info.Env(), (expr))

namespace ecf {

// Optional bool argument with a default.
inline bool OptBool(const Napi::CallbackInfo& info, size_t i, bool dflt) {
  if (IsAbsent(info, i)) return dflt;
  if (!info[i].IsBoolean()) throw Napi::TypeError::New(info.Env(), "expected a boolean argument");
  return info[i].As<Napi::Boolean>().Value();
}

// The kernels' dtype of a tensor dtype (kernels/dtype.h); an error naming `fn` for any other.
inline kernels::Dtype KernelDtype(const char* fn, at::ScalarType t) {
  switch (t) {
    case at::kFloat: return kernels::Dtype::kFloat32;
    case at::kDouble: return kernels::Dtype::kFloat64;
    case at::kHalf: return kernels::Dtype::kFloat16;
    case at::kBFloat16: return kernels::Dtype::kBFloat16;
    default: break;
  }
  TORCH_CHECK(false, fn, ": the kernels take float32, float64, float16 or bfloat16, got ", t);
  return kernels::Dtype::kFloat32;  // not reached
}

#ifdef ECF_WITH_CUDA
// A plain-CUDA kernel's launch status (kernels/*.cu) as a libtorch error naming `what` (the op and pass).
inline void CheckCuda(const char* what, cudaError_t err) {
  TORCH_CHECK(err == cudaSuccess, what, ": CUDA kernel failed: ", cudaGetErrorString(err));
}
#endif

// The one output-poisoning switch of the custom ops (tests): with ECF_POISON_OUTPUTS set in the
// environment (and not "0"), every buffer a kernel must write completely is first filled with
// NaN, so an element a kernel forgets shows up as NaN instead of as stale memory that happens to
// be right. Read on every call, so a test can turn it on and off.
inline bool PoisonOutputs() {
  const char* v = std::getenv("ECF_POISON_OUTPUTS");
  return v != nullptr && *v != '\0' && *v != '0';
}

// Fills the defined tensors with NaN when PoisonOutputs().
inline void Poison(std::initializer_list<at::Tensor*> ts) {
  if (!PoisonOutputs()) return;
  for (at::Tensor* t : ts) {
    if (t->defined()) t->fill_(std::numeric_limits<double>::quiet_NaN());
  }
}

}  // namespace ecf
