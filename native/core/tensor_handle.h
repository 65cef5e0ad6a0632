// JS-visible handles of libtorch tensors.
//
// A handle is a small integer (a V8 Smi, so creating one allocates nothing on the JS heap) that
// names a slot of this environment's TensorTable (env_state.h). The TypeScript `Tensor` class
// (lib/tensor/tensor.ts) owns one handle and frees its slot with dispose(); a JS
// FinalizationRegistry frees the slots of Tensors that were never disposed, as a safety net.
// Freeing is immediate and complete: nothing waits for the garbage collector.
#pragma once

#include <ATen/Tensor.h>
#include <napi.h>

#include <vector>

namespace ecf {

// Wraps a tensor in a new handle (an undefined tensor becomes JS `null`).
Napi::Value Wrap(Napi::Env env, at::Tensor t);
// Wraps a list of tensors as a JS array of handles.
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

// Returns the tensor behind argument i; throws a TypeError naming `arg` if it is not a handle and
// an Error if the tensor was disposed. The reference stays valid until that handle is disposed.
const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
// Same, but `undefined`/`null` give an undefined tensor (optional arguments such as bias).
at::Tensor OptTensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);
// An array whose items are tensors or null/undefined (given as undefined tensors).
std::vector<at::Tensor> OptTensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg);


}  // namespace ecf
