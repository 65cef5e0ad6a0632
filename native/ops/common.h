// Shorthands shared by the op files: every op is a plain function of CallbackInfo, registered
// with Export<> (core/errors.h) so libtorch errors become JS errors.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <napi.h>

#include "core/args.h"
#include "core/errors.h"
#include "core/tensor_handle.h"

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

void RegisterTensorOps(Napi::Env env, Napi::Object exports);
void RegisterMathOps(Napi::Env env, Napi::Object exports);
void RegisterNnOps(Napi::Env env, Napi::Object exports);
void RegisterRuntimeOps(Napi::Env env, Napi::Object exports);

}  // namespace ecf
