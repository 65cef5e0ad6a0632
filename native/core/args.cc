#include "core/args.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/csrc/api/include/torch/version.h>

#include <cmath>
#include <string>

#include "core/errors.h"

namespace ecf {
namespace {

constexpr c10::ScalarType kDtypes[] = {
    c10::kFloat, c10::kDouble, c10::kHalf, c10::kBFloat16, c10::kInt, c10::kLong, c10::kByte, c10::kBool,
    c10::kChar, c10::kShort,
};
constexpr int kNumDtypes = sizeof(kDtypes) / sizeof(kDtypes[0]);

}  // namespace

c10::ScalarType DtypeFromCode(int code) {
  if (code < 0 || code >= kNumDtypes) throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  return kDtypes[code];
}

int CodeFromDtype(c10::ScalarType t) {
  for (int i = 0; i < kNumDtypes; ++i) {
    if (kDtypes[i] == t) return i;
  }
  throw std::invalid_argument(std::string("dtype ") + c10::toString(t) + " is not supported by ecacface-torch");
}

void CheckDeviceAvailable(const c10::Device& d) {
  if (d.is_cuda()) {
#if defined(ECF_WITH_CUDA)
    TORCH_CHECK(at::hasCUDA(),
                "CUDA was requested (device '", d.str(), "'), but there is no CUDA device: this addon has CUDA compiled in "
                "(libtorch ", TORCH_VERSION, "), and no GPU is visible to it (none installed, no driver, or hidden by "
                "CUDA_VISIBLE_DEVICES); use device 'cpu'");
#else
    TORCH_CHECK(false,
                "CUDA was requested (device '", d.str(), "'), but this build of ecacface-torch has no CUDA: it is built "
                "against a libtorch without CUDA (", TORCH_VERSION, "); use device 'cpu', or build against a CUDA "
                "libtorch (docs/install.md)");
#endif
    TORCH_CHECK_INDEX(!d.has_index() || d.index() < static_cast<int>(at::getNumGPUs()), "CUDA device index ",
                      static_cast<int>(d.index()), " is out of range: ", at::getNumGPUs(), " GPU(s) visible");
  } else {
    TORCH_CHECK(d.is_cpu(), "device '", d.str(), "' is not supported (use 'cpu', 'cuda' or 'cuda:N')");
  }
}

c10::Device DeviceFromString(Napi::Env env, const std::string& s) {
  try {
    return c10::Device(s);
  } catch (const c10::Error&) {
    throw Napi::TypeError::New(env, "invalid device '" + s + "' (expected 'cpu', 'cuda' or 'cuda:N')");
  }
}

std::string DeviceToString(const c10::Device& d) { return d.str(); }

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowArgType(info.Env(), fn, arg, "an integer");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || std::floor(v) != v) ThrowArgType(info.Env(), fn, arg, "an integer");
  return static_cast<int64_t>(v);
}

c10::optional<int64_t> OptIntArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (IsAbsent(info, i)) return c10::nullopt;
  return IntArg(info, i, fn, arg);
}

double DoubleArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowArgType(info.Env(), fn, arg, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

c10::optional<double> OptDoubleArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (IsAbsent(info, i)) return c10::nullopt;
  return DoubleArg(info, i, fn, arg);
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsBoolean()) ThrowArgType(info.Env(), fn, arg, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsString()) ThrowArgType(info.Env(), fn, arg, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> IntListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() > i && info[i].IsNumber()) return {IntArg(info, i, fn, arg)};
  if (info.Length() <= i || !info[i].IsArray()) ThrowArgType(info.Env(), fn, arg, "an array of integers");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) ThrowArgType(info.Env(), fn, arg, "an array of integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) ThrowArgType(info.Env(), fn, arg, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

c10::optional<std::vector<int64_t>> OptIntListArg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                                  const char* arg) {
  if (IsAbsent(info, i)) return c10::nullopt;
  return IntListArg(info, i, fn, arg);
}

c10::Scalar ScalarArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() > i && info[i].IsBoolean()) return c10::Scalar(info[i].As<Napi::Boolean>().Value());
  if (info.Length() <= i || !info[i].IsNumber()) ThrowArgType(info.Env(), fn, arg, "a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 9007199254740992.0) {
    return c10::Scalar(static_cast<int64_t>(v));
  }
  return c10::Scalar(v);
}

c10::ScalarType DtypeArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowArgType(info.Env(), fn, arg, "a dtype");
  return DtypeFromCode(info[i].As<Napi::Number>().Int32Value());
}

c10::optional<c10::ScalarType> OptDtypeArg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                           const char* arg) {
  if (IsAbsent(info, i)) return c10::nullopt;
  return DtypeArg(info, i, fn, arg);
}

c10::Device DeviceArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (IsAbsent(info, i)) return c10::Device(c10::kCPU);
  c10::Device d = DeviceFromString(info.Env(), StringArg(info, i, fn, arg));
  CheckDeviceAvailable(d);
  return d;
}

Napi::Array ToJsIntArray(Napi::Env env, c10::IntArrayRef v) {
  Napi::Array out = Napi::Array::New(env, v.size());
  for (size_t k = 0; k < v.size(); ++k) out.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(v[k])));
  return out;
}

}  // namespace ecf
