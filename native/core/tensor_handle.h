// The JS-visible handle of a libtorch tensor: a Napi::External owning a TensorHolder.
// The TypeScript `Tensor` class (lib/tensor/tensor.ts) keeps one handle and frees it with
// dispose(); the External's finalizer is only the safety net for handles never disposed.
#pragma once

#include <ATen/Tensor.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ecf {

struct EnvState;

struct TensorHolder {
  at::Tensor tensor;
  EnvState* env = nullptr;  // null once disposed or once the environment is gone
  TensorHolder* prev = nullptr;
  TensorHolder* next = nullptr;
  int64_t accounted_bytes = 0;  // reported to V8 with AdjustExternalMemory
};

// Wraps a tensor in a new handle (an undefined tensor becomes JS `null`).
Napi::Value Wrap(Napi::Env env, at::Tensor t);
// Wraps a list of tensors as a JS array of handles.
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

// Returns the tensor behind argument i; throws a TypeError naming `arg` otherwise, and an Error
// if the tensor was disposed.
const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
// Same, but `undefined`/`null` give an undefined tensor (optional arguments such as bias).
at::Tensor OptTensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);

// Releases the tensor held by a handle now (idempotent).
void Release(TensorHolder* h);

void RegisterTensorHandle(Napi::Env env, Napi::Object exports);

}  // namespace ecf
