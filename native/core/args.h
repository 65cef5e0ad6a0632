// Argument conversion between JS values and libtorch types. Dtypes travel as small integers
// (the order of kDtypes, mirrored by DTYPES in lib/tensor/dtype.ts); devices as strings.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Scalar.h>
#include <c10/core/ScalarType.h>
#include <napi.h>

#include <cstdint>
#include <c10/util/Optional.h>
#include <vector>

namespace ecf {

c10::ScalarType DtypeFromCode(int code);
int CodeFromDtype(c10::ScalarType t);
c10::Device DeviceFromString(Napi::Env env, const std::string& s);
std::string DeviceToString(const c10::Device& d);

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::optional<int64_t> OptIntArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
double DoubleArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::optional<double> OptDoubleArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
std::vector<int64_t> IntListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::optional<std::vector<int64_t>> OptIntListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
// A JS number becomes an integral Scalar when it is an exact integer, else a double (as Python's
// `t + 2` vs `t + 2.5`); booleans become bool Scalars.
c10::Scalar ScalarArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::ScalarType DtypeArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::optional<c10::ScalarType> OptDtypeArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
c10::Device DeviceArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);

inline bool IsAbsent(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() <= i || info[i].IsUndefined() || info[i].IsNull();
}

// Throws a clear error when a CUDA device is asked for and libtorch has no CUDA (or no such GPU).
void CheckDeviceAvailable(const c10::Device& d);

Napi::Array ToJsIntArray(Napi::Env env, c10::IntArrayRef v);

}  // namespace ecf
