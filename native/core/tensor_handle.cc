#include "core/tensor_handle.h"

#include <memory>

#include "core/env_state.h"
#include "core/errors.h"

namespace ecf {
namespace {

// Tensors below this size are not reported to V8's external-memory accounting: the two extra
// Node-API calls per tensor would dominate the cost of small ops, and small tensors cannot build
// up enough hidden memory to matter before the next GC.
constexpr int64_t kAccountThreshold = 1 << 16;

int64_t AccountedBytes(const at::Tensor& t) {
  if (!t.defined() || t.is_cuda()) return 0;
  int64_t n = static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
  return n >= kAccountThreshold ? n : 0;
}

void Finalize(Napi::Env env, TensorHolder* raw) {
  std::unique_ptr<TensorHolder> owned(raw);
  if (owned->env != nullptr) {
    // Not disposed explicitly: the garbage collector is the safety net.
    Release(owned.get());
    if (owned->accounted_bytes != 0) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -owned->accounted_bytes);
      owned->accounted_bytes = 0;
    }
  }
}

TensorHolder* HolderOf(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsExternal()) ThrowArgType(info.Env(), fn, arg, "a Tensor");
  return info[i].As<Napi::External<TensorHolder>>().Data();
}

// dispose(handle): frees the tensor now. Safe to call twice.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  TensorHolder* h = HolderOf(info, 0, "dispose", "tensor");
  int64_t bytes = h->accounted_bytes;
  Release(h);
  if (bytes != 0) {
    h->accounted_bytes = 0;
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -bytes);
  }
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  TensorHolder* h = HolderOf(info, 0, "isDisposed", "tensor");
  return Napi::Boolean::New(info.Env(), !h->tensor.defined());
}

}  // namespace

void Release(TensorHolder* h) {
  if (h->env != nullptr) {
    h->env->Unlink(h);
    h->env = nullptr;
  }
  h->tensor = at::Tensor();
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  auto holder = std::make_unique<TensorHolder>();
  holder->tensor = std::move(t);
  holder->accounted_bytes = AccountedBytes(holder->tensor);
  State(env).Link(holder.get());
  int64_t bytes = holder->accounted_bytes;
  auto ext = Napi::External<TensorHolder>::New(env, holder.release(), Finalize);
  if (bytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return ext;
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array out = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, ts[i]));
  return out;
}

const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  TensorHolder* h = HolderOf(info, i, fn, arg);
  if (!h->tensor.defined()) {
    throw Napi::Error::New(info.Env(), std::string(fn) + ": argument '" + arg + "' is a disposed Tensor");
  }
  return h->tensor;
}

at::Tensor OptTensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return at::Tensor();
  return TensorArg(info, i, fn, arg);
}

std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || !info[i].IsArray()) ThrowArgType(info.Env(), fn, arg, "an array of Tensors");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsExternal()) ThrowArgType(info.Env(), fn, arg, "an array of Tensors");
    TensorHolder* h = v.As<Napi::External<TensorHolder>>().Data();
    if (!h->tensor.defined()) {
      throw Napi::Error::New(info.Env(), std::string(fn) + ": argument '" + arg + "' holds a disposed Tensor");
    }
    out.push_back(h->tensor);
  }
  return out;
}

void RegisterTensorHandle(Napi::Env env, Napi::Object exports) {
  Export<Dispose>(env, exports, "dispose");
  Export<IsDisposed>(env, exports, "isDisposed");
}

}  // namespace ecf
