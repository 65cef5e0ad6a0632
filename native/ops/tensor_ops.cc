// Creation, metadata, conversion, views and indexing.
#include <ATen/core/grad_mode.h>
#include <cstring>

#include "ops/common.h"

namespace ecf {
namespace {

at::TensorOptions Options(const Napi::CallbackInfo& info, size_t dtype_i, size_t device_i, const char* kFn) {
  at::TensorOptions o = at::TensorOptions().dtype(OptDtypeArg(info, dtype_i, kFn, "dtype").value_or(at::kFloat));
  return o.device(DeviceArg(info, device_i, kFn, "device"));
}

// ---- creation: (shape, dtype?, device?) ----
Napi::Value Zeros(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "zeros";
  ECF_RET(at::zeros(ECF_INTS(0, "shape"), Options(info, 1, 2, kFn)));
}
Napi::Value Ones(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "ones";
  ECF_RET(at::ones(ECF_INTS(0, "shape"), Options(info, 1, 2, kFn)));
}
Napi::Value Empty(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "empty";
  ECF_RET(at::empty(ECF_INTS(0, "shape"), Options(info, 1, 2, kFn)));
}
Napi::Value Full(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "full";
  ECF_RET(at::full(ECF_INTS(0, "shape"), ECF_SCALAR(1, "value"), Options(info, 2, 3, kFn)));
}
Napi::Value Rand(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "rand";
  ECF_RET(at::rand(ECF_INTS(0, "shape"), Options(info, 1, 2, kFn)));
}
Napi::Value Randn(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "randn";
  ECF_RET(at::randn(ECF_INTS(0, "shape"), Options(info, 1, 2, kFn)));
}
// randint(low, high, shape, dtype?, device?)
Napi::Value Randint(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "randint";
  at::TensorOptions o = at::TensorOptions().dtype(OptDtypeArg(info, 3, kFn, "dtype").value_or(at::kLong));
  o = o.device(DeviceArg(info, 4, kFn, "device"));
  ECF_RET(at::randint(ECF_INT(0, "low"), ECF_INT(1, "high"), ECF_INTS(2, "shape"), o));
}
// randperm(n, device?)
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "randperm";
  ECF_RET(at::randperm(ECF_INT(0, "n"), at::TensorOptions().dtype(at::kLong).device(DeviceArg(info, 1, kFn, "device"))));
}
// arange(start, end, step, dtype?, device?)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "arange";
  at::TensorOptions o = at::TensorOptions().device(DeviceArg(info, 4, kFn, "device"));
  auto dt = OptDtypeArg(info, 3, kFn, "dtype");
  c10::Scalar start = ECF_SCALAR(0, "start"), end = ECF_SCALAR(1, "end"), step = ECF_SCALAR(2, "step");
  if (dt) {
    o = o.dtype(*dt);
  } else {
    o = o.dtype(start.isIntegral(false) && end.isIntegral(false) && step.isIntegral(false) ? at::kLong : at::kFloat);
  }
  ECF_RET(at::arange(start, end, step, o));
}
// linspace(start, end, steps, dtype?, device?)
Napi::Value Linspace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "linspace";
  ECF_RET(at::linspace(ECF_SCALAR(0, "start"), ECF_SCALAR(1, "end"), ECF_INT(2, "steps"), Options(info, 3, 4, kFn)));
}
Napi::Value Eye(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "eye";
  ECF_RET(at::eye(ECF_INT(0, "n"), Options(info, 1, 2, kFn)));
}
Napi::Value ZerosLike(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "zerosLike";
  ECF_RET(at::zeros_like(ECF_T(0, "input")));
}
Napi::Value OnesLike(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "onesLike";
  ECF_RET(at::ones_like(ECF_T(0, "input")));
}
Napi::Value FullLike(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "fullLike";
  ECF_RET(at::full_like(ECF_T(0, "input"), ECF_SCALAR(1, "value")));
}
Napi::Value RandLike(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "randLike";
  ECF_RET(at::rand_like(ECF_T(0, "input")));
}
Napi::Value RandnLike(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "randnLike";
  ECF_RET(at::randn_like(ECF_T(0, "input")));
}

// fromBuffer(typedArray, shape, dtype, device?): copies the bytes into a new tensor.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "fromBuffer";
  if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowArgType(info.Env(), kFn, "data", "a TypedArray");
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = ECF_INTS(1, "shape");
  c10::ScalarType dt = DtypeArg(info, 2, kFn, "dtype");
  c10::Device dev = DeviceArg(info, 3, kFn, "device");
  int64_t numel = 1;
  for (int64_t s : shape) {
    TORCH_CHECK(s >= 0, "fromBuffer: negative dimension ", s, " in shape");
    numel *= s;
  }
  const size_t need = static_cast<size_t>(numel) * c10::elementSize(dt);
  TORCH_CHECK(ta.ByteLength() == need, "fromBuffer: data has ", ta.ByteLength(), " bytes but shape ",
              c10::IntArrayRef(shape), " of dtype ", c10::toString(dt), " needs ", need);
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(dt));
  if (need > 0) {
    const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    std::memcpy(out.data_ptr(), src, need);
  }
  if (!dev.is_cpu()) out = out.to(dev);
  ECF_RET(out);
}

// toBuffer(t): an ArrayBuffer with the tensor's elements, contiguous, in its own dtype.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "toBuffer";
  at::Tensor t = ECF_T(0, "tensor").detach().to(at::kCPU).contiguous();
  const size_t n = t.numel() * t.element_size();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), n);
  if (n > 0) std::memcpy(ab.Data(), t.data_ptr(), n);
  return ab;
}

// copyFromBuffer(t, typedArray): writes bytes into an existing contiguous CPU tensor in place.
Napi::Value CopyFromBuffer(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "copyFromBuffer";
  at::Tensor t = ECF_T(0, "tensor");
  if (info.Length() < 2 || !info[1].IsTypedArray()) ThrowArgType(info.Env(), kFn, "data", "a TypedArray");
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  const size_t need = t.numel() * t.element_size();
  TORCH_CHECK(ta.ByteLength() == need, "copyFromBuffer: data has ", ta.ByteLength(), " bytes, tensor needs ", need);
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  at::Tensor host = at::from_blob(const_cast<uint8_t*>(src), t.sizes(), at::TensorOptions().dtype(t.scalar_type()));
  at::NoGradGuard ng;
  t.copy_(host);
  return info.Env().Undefined();
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "item";
  const at::Tensor& t = ECF_T(0, "tensor");
  TORCH_CHECK(t.numel() == 1, "item: a Tensor with ", t.numel(), " elements cannot be converted to a number");
  c10::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
  return Napi::Number::New(info.Env(), s.toDouble());
}

// meta(t) -> [shape, dtypeCode, deviceString, requiresGrad]
Napi::Value Meta(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "meta";
  const at::Tensor& t = ECF_T(0, "tensor");
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, ToJsIntArray(env, t.sizes()));
  out.Set(1u, Napi::Number::New(env, CodeFromDtype(t.scalar_type())));
  out.Set(2u, Napi::String::New(env, t.device().str()));
  return out;
}
Napi::Value Strides(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "strides";
  return ToJsIntArray(info.Env(), ECF_T(0, "tensor").strides());
}
Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "isContiguous";
  const at::Tensor& t = ECF_T(0, "tensor");
  bool cl = OptBool(info, 1, false);
  return Napi::Boolean::New(info.Env(), t.is_contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}

// to(t, dtype?, device?, copy?)
Napi::Value To(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "to";
  const at::Tensor& t = ECF_T(0, "tensor");
  auto dt = OptDtypeArg(info, 1, kFn, "dtype");
  c10::Device dev = IsAbsent(info, 2) ? t.device() : DeviceArg(info, 2, kFn, "device");
  bool copy = OptBool(info, 3, false);
  ECF_RET(t.to(dev, dt.value_or(t.scalar_type()), /*non_blocking=*/false, copy));
}
Napi::Value Contiguous(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "contiguous";
  bool cl = OptBool(info, 1, false);
  ECF_RET(ECF_T(0, "tensor").contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}
Napi::Value Clone(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "clone";
  ECF_RET(ECF_T(0, "tensor").clone());
}
Napi::Value Detach(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "detach";
  ECF_RET(ECF_T(0, "tensor").detach());
}
// pinMemory(t): page-locked copy for fast host-to-GPU transfer (CUDA builds only).
Napi::Value PinMemory(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "pinMemory";
  ECF_RET(ECF_T(0, "tensor").pin_memory());
}

// ---- views and shape ----
Napi::Value View(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "view";
  ECF_RET(ECF_T(0, "tensor").view(ECF_INTS(1, "shape")));
}
Napi::Value Reshape(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "reshape";
  ECF_RET(ECF_T(0, "tensor").reshape(ECF_INTS(1, "shape")));
}
Napi::Value Permute(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "permute";
  ECF_RET(ECF_T(0, "tensor").permute(ECF_INTS(1, "dims")));
}
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "transpose";
  ECF_RET(ECF_T(0, "tensor").transpose(ECF_INT(1, "dim0"), ECF_INT(2, "dim1")));
}
Napi::Value Flatten(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "flatten";
  ECF_RET(ECF_T(0, "tensor").flatten(ECF_INT(1, "startDim"), ECF_INT(2, "endDim")));
}
Napi::Value Unsqueeze(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "unsqueeze";
  ECF_RET(ECF_T(0, "tensor").unsqueeze(ECF_INT(1, "dim")));
}
Napi::Value Squeeze(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "squeeze";
  if (IsAbsent(info, 1)) ECF_RET(ECF_T(0, "tensor").squeeze());
  ECF_RET(ECF_T(0, "tensor").squeeze(ECF_INT(1, "dim")));
}
Napi::Value Expand(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "expand";
  ECF_RET(ECF_T(0, "tensor").expand(ECF_INTS(1, "shape")));
}
Napi::Value Repeat(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "repeat";
  ECF_RET(ECF_T(0, "tensor").repeat(ECF_INTS(1, "repeats")));
}
Napi::Value Select(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "select";
  ECF_RET(ECF_T(0, "tensor").select(ECF_INT(1, "dim"), ECF_INT(2, "index")));
}
// slice(t, dim, start, end, step)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "slice";
  ECF_RET(ECF_T(0, "tensor").slice(ECF_INT(1, "dim"), OptIntArg(info, 2, kFn, "start"), OptIntArg(info, 3, kFn, "end"),
                                   ECF_INT(4, "step")));
}
Napi::Value Narrow(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "narrow";
  ECF_RET(ECF_T(0, "tensor").narrow(ECF_INT(1, "dim"), ECF_INT(2, "start"), ECF_INT(3, "length")));
}
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "indexSelect";
  ECF_RET(at::index_select(ECF_T(0, "tensor"), ECF_INT(1, "dim"), ECF_T(2, "index")));
}
Napi::Value Gather(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "gather";
  ECF_RET(at::gather(ECF_T(0, "tensor"), ECF_INT(1, "dim"), ECF_T(2, "index")));
}
// scatter(t, dim, index, src) out of place
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "scatter";
  ECF_RET(at::scatter(ECF_T(0, "tensor"), ECF_INT(1, "dim"), ECF_T(2, "index"), ECF_T(3, "src")));
}
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "scatterAdd";
  ECF_RET(at::scatter_add(ECF_T(0, "tensor"), ECF_INT(1, "dim"), ECF_T(2, "index"), ECF_T(3, "src")));
}
// indexPutAccumulate_(t, index, values): t[index] += values along dim 0 (in place)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "indexAdd";
  ECF_RET(at::index_add(ECF_T(0, "tensor"), ECF_INT(1, "dim"), ECF_T(2, "index"), ECF_T(3, "source")));
}
Napi::Value MaskedFill(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "maskedFill";
  ECF_RET(at::masked_fill(ECF_T(0, "tensor"), ECF_T(1, "mask"), ECF_SCALAR(2, "value")));
}
Napi::Value MaskedSelect(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "maskedSelect";
  ECF_RET(at::masked_select(ECF_T(0, "tensor"), ECF_T(1, "mask")));
}
Napi::Value Cat(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "cat";
  ECF_RET(at::cat(TensorListArg(info, 0, kFn, "tensors"), ECF_INT(1, "dim")));
}
Napi::Value Stack(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "stack";
  ECF_RET(at::stack(TensorListArg(info, 0, kFn, "tensors"), ECF_INT(1, "dim")));
}
Napi::Value Split(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "split";
  return WrapList(info.Env(), at::split(ECF_T(0, "tensor"), ECF_INT(1, "size"), ECF_INT(2, "dim")));
}
Napi::Value Chunk(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "chunk";
  return WrapList(info.Env(), at::chunk(ECF_T(0, "tensor"), ECF_INT(1, "chunks"), ECF_INT(2, "dim")));
}
Napi::Value Flip(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "flip";
  ECF_RET(at::flip(ECF_T(0, "tensor"), ECF_INTS(1, "dims")));
}
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "oneHot";
  ECF_RET(at::one_hot(ECF_T(0, "labels"), ECF_INT(1, "numClasses")));
}
Napi::Value Where(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "where";
  ECF_RET(at::where(ECF_T(0, "condition"), ECF_T(1, "input"), ECF_T(2, "other")));
}
Napi::Value Nonzero(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "nonzero";
  ECF_RET(at::nonzero(ECF_T(0, "tensor")));
}

// ---- in place (no autograd history on leaves: used for initialisation and updates) ----
Napi::Value Copy_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "copy_";
  at::Tensor t = ECF_T(0, "tensor");
  t.copy_(ECF_T(1, "src"));
  return info.Env().Undefined();
}
Napi::Value Fill_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "fill_";
  at::Tensor t = ECF_T(0, "tensor");
  t.fill_(ECF_SCALAR(1, "value"));
  return info.Env().Undefined();
}
Napi::Value Zero_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "zero_";
  at::Tensor t = ECF_T(0, "tensor");
  t.zero_();
  return info.Env().Undefined();
}
Napi::Value Uniform_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "uniform_";
  at::Tensor t = ECF_T(0, "tensor");
  at::NoGradGuard ng;
  t.uniform_(ECF_DBL(1, "low"), ECF_DBL(2, "high"));
  return info.Env().Undefined();
}
Napi::Value Normal_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "normal_";
  at::Tensor t = ECF_T(0, "tensor");
  at::NoGradGuard ng;
  t.normal_(ECF_DBL(1, "mean"), ECF_DBL(2, "std"));
  return info.Env().Undefined();
}
Napi::Value Bernoulli_(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "bernoulli_";
  at::Tensor t = ECF_T(0, "tensor");
  at::NoGradGuard ng;
  t.bernoulli_(ECF_DBL(1, "p"));
  return info.Env().Undefined();
}
// add_(t, other, alpha): t += alpha * other
Napi::Value AddInPlace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "add_";
  at::Tensor t = ECF_T(0, "tensor");
  t.add_(ECF_T(1, "other"), IsAbsent(info, 2) ? c10::Scalar(1) : ECF_SCALAR(2, "alpha"));
  return info.Env().Undefined();
}
Napi::Value MulInPlace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "mul_";
  at::Tensor t = ECF_T(0, "tensor");
  t.mul_(ECF_T(1, "other"));
  return info.Env().Undefined();
}
Napi::Value AddScalarInPlace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "addScalar_";
  at::Tensor t = ECF_T(0, "tensor");
  t.add_(ECF_SCALAR(1, "other"));
  return info.Env().Undefined();
}
Napi::Value MulScalarInPlace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "mulScalar_";
  at::Tensor t = ECF_T(0, "tensor");
  t.mul_(ECF_SCALAR(1, "other"));
  return info.Env().Undefined();
}
Napi::Value ClampInPlace(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "clamp_";
  at::Tensor t = ECF_T(0, "tensor");
  c10::optional<c10::Scalar> lo, hi;
  if (!IsAbsent(info, 1)) lo = ECF_SCALAR(1, "min");
  if (!IsAbsent(info, 2)) hi = ECF_SCALAR(2, "max");
  t.clamp_(lo, hi);
  return info.Env().Undefined();
}

}  // namespace

void RegisterTensorOps(Napi::Env env, Napi::Object e) {
  Export<Zeros>(env, e, "zeros");
  Export<Ones>(env, e, "ones");
  Export<Empty>(env, e, "empty");
  Export<Full>(env, e, "full");
  Export<Rand>(env, e, "rand");
  Export<Randn>(env, e, "randn");
  Export<Randint>(env, e, "randint");
  Export<Randperm>(env, e, "randperm");
  Export<Arange>(env, e, "arange");
  Export<Linspace>(env, e, "linspace");
  Export<Eye>(env, e, "eye");
  Export<ZerosLike>(env, e, "zerosLike");
  Export<OnesLike>(env, e, "onesLike");
  Export<FullLike>(env, e, "fullLike");
  Export<RandLike>(env, e, "randLike");
  Export<RandnLike>(env, e, "randnLike");
  Export<FromBuffer>(env, e, "fromBuffer");
  Export<ToBuffer>(env, e, "toBuffer");
  Export<CopyFromBuffer>(env, e, "copyFromBuffer");
  Export<Item>(env, e, "item");
  Export<Meta>(env, e, "meta");
  Export<Strides>(env, e, "strides");
  Export<IsContiguous>(env, e, "isContiguous");
  Export<To>(env, e, "to");
  Export<Contiguous>(env, e, "contiguous");
  Export<Clone>(env, e, "clone");
  Export<Detach>(env, e, "detach");
  Export<PinMemory>(env, e, "pinMemory");
  Export<View>(env, e, "view");
  Export<Reshape>(env, e, "reshape");
  Export<Permute>(env, e, "permute");
  Export<Transpose>(env, e, "transpose");
  Export<Flatten>(env, e, "flatten");
  Export<Unsqueeze>(env, e, "unsqueeze");
  Export<Squeeze>(env, e, "squeeze");
  Export<Expand>(env, e, "expand");
  Export<Repeat>(env, e, "repeat");
  Export<Select>(env, e, "select");
  Export<Slice>(env, e, "slice");
  Export<Narrow>(env, e, "narrow");
  Export<IndexSelect>(env, e, "indexSelect");
  Export<Gather>(env, e, "gather");
  Export<Scatter>(env, e, "scatter");
  Export<ScatterAdd>(env, e, "scatterAdd");
  Export<IndexAdd>(env, e, "indexAdd");
  Export<MaskedFill>(env, e, "maskedFill");
  Export<MaskedSelect>(env, e, "maskedSelect");
  Export<Cat>(env, e, "cat");
  Export<Stack>(env, e, "stack");
  Export<Split>(env, e, "split");
  Export<Chunk>(env, e, "chunk");
  Export<Flip>(env, e, "flip");
  Export<OneHot>(env, e, "oneHot");
  Export<Where>(env, e, "where");
  Export<Nonzero>(env, e, "nonzero");
  Export<Copy_>(env, e, "copy_");
  Export<Fill_>(env, e, "fill_");
  Export<Zero_>(env, e, "zero_");
  Export<Uniform_>(env, e, "uniform_");
  Export<Normal_>(env, e, "normal_");
  Export<Bernoulli_>(env, e, "bernoulli_");
  Export<AddInPlace>(env, e, "add_");
  Export<MulInPlace>(env, e, "mul_");
  Export<AddScalarInPlace>(env, e, "addScalar_");
  Export<MulScalarInPlace>(env, e, "mulScalar_");
  Export<ClampInPlace>(env, e, "clamp_");
}

}  // namespace ecf
