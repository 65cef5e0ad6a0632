#include "core/tensor_handle.h"

#include <string>

#include "core/env_state.h"
#include "core/errors.h"
#include "core/registry.h"

namespace ecf {
namespace {

// Native memory is reported to V8's external-memory accounting by aggregate: every tensor's bytes
// (plus kTensorOverhead for its TensorImpl and storage) are added to a running balance, and the
// balance is handed to V8 once it reaches ±kReportBatch. So V8 sees the memory of small tensors
// too (400,000 forgotten 2 KiB embeddings are 800 MB it would otherwise never collect for),
// while a small op costs a few additions instead of a Node-API call. V8's view is off by less
// than kReportBatch.
constexpr int64_t kReportBatch = 1 << 20;
// The host memory of a tensor beyond its data: TensorImpl, StorageImpl, allocator rounding.
constexpr int64_t kTensorOverhead = 256;

// Adds `delta` bytes to the balance and reports it to V8 once it is large enough.
void Account(Napi::Env env, EnvState& st, int64_t delta) {
  st.unreportedBytes += delta;
  if (st.unreportedBytes >= kReportBatch || st.unreportedBytes <= -kReportBatch) {
    Napi::MemoryManagement::AdjustExternalMemory(env, st.unreportedBytes);
    st.unreportedBytes = 0;
  }
}

bool HandleValue(const Napi::Value& v, uint32_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < 4294967296.0)) return false;
  *out = static_cast<uint32_t>(d);
  return static_cast<double>(*out) == d;
}

[[noreturn]] void ThrowDisposed(Napi::Env env, const char* fn, const char* arg) {
  throw Napi::Error::New(env, std::string(fn) + ": argument '" + arg + "' is a disposed Tensor");
}

// dispose(handle): frees the tensor now. Safe to call twice.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  uint32_t h;
  if (info.Length() < 1 || !HandleValue(info[0], &h)) ThrowArgType(info.Env(), "dispose", "tensor", "a Tensor");
  EnvState& st = State(info.Env());
  int64_t bytes = st.tensors.Remove(h);
  if (bytes != 0) Account(info.Env(), st, -bytes);
  return info.Env().Undefined();
}

// setNurseryCounter(f64): registers the JS nursery's byte counter (one Float64Array element that
// Wrap adds the accounted bytes of each new tensor to). The array is kept alive here.
Napi::Value SetNurseryCounter(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[0].As<Napi::Float64Array>().ElementLength() < 1) {
    ThrowArgType(info.Env(), "setNurseryCounter", "counter", "a Float64Array of at least one element");
  }
  EnvState& st = State(info.Env());
  Napi::Float64Array a = info[0].As<Napi::Float64Array>();
  st.nurseryBytesRef = Napi::Persistent(a);
  st.nurseryBytes = a.Data();
  return info.Env().Undefined();
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  // Device memory is not host memory: only the host-side bookkeeping of a CUDA tensor counts.
  const int64_t data = t.is_cuda() ? 0 : static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
  const int64_t bytes = data + kTensorOverhead;
  EnvState& st = State(env);
  uint32_t h = st.tensors.Add(std::move(t));
  st.tensors.SetAccountedBytes(h, bytes);
  Account(env, st, bytes);
  if (st.nurseryBytes) *st.nurseryBytes += static_cast<double>(bytes);
  return Napi::Number::New(env, static_cast<double>(h));
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array out = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, ts[i]));
  return out;
}

const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  uint32_t h;
  if (info.Length() <= i || !HandleValue(info[i], &h)) ThrowArgType(info.Env(), fn, arg, "a Tensor");
  const at::Tensor* t = State(info.Env()).tensors.Find(h);
  if (t == nullptr) ThrowDisposed(info.Env(), fn, arg);
  return *t;
}

at::Tensor OptTensorArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return at::Tensor();
  return TensorArg(info, i, fn, arg);
}

static std::vector<at::Tensor> ListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg,
                                       bool allow_null) {
  const char* expected = allow_null ? "an array of Tensors or nulls" : "an array of Tensors";
  if (info.Length() <= i || !info[i].IsArray()) ThrowArgType(info.Env(), fn, arg, expected);
  Napi::Array arr = info[i].As<Napi::Array>();
  const TensorTable& table = State(info.Env()).tensors;
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (allow_null && (v.IsNull() || v.IsUndefined())) {
      out.emplace_back();
      continue;
    }
    uint32_t h;
    if (!HandleValue(v, &h)) ThrowArgType(info.Env(), fn, arg, expected);
    const at::Tensor* t = table.Find(h);
    if (t == nullptr) ThrowDisposed(info.Env(), fn, arg);
    out.push_back(*t);
  }
  return out;
}

std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  return ListArg(info, i, fn, arg, false);
}

std::vector<at::Tensor> OptTensorListArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* arg) {
  return ListArg(info, i, fn, arg, true);
}

void RegisterTensorHandle(Napi::Env env, Napi::Object exports) {
  Export<Dispose>(env, exports, "dispose");
  Export<SetNurseryCounter>(env, exports, "setNurseryCounter");
}

}  // namespace ecf
