// Autograd entry points, CUDA autocast, RNG, threads, devices, memory accounting and build information.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/api/include/torch/version.h>

#include <mutex>
#include <unordered_map>

#ifdef ECF_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif
#include <ATen/Context.h>

#include "core/env_state.h"
#include "core/process_setup.h"
#include "ops/common.h"

namespace ecf {
namespace {

// backward(t, gradient?, retainGraph?)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "backward";
  const at::Tensor& t = ECF_T(0, "tensor");
  at::Tensor g = ECF_OPT_T(1, "gradient");
  c10::optional<bool> retain;
  if (!IsAbsent(info, 2)) retain = ECF_BOOL(2, "retainGraph");
  t.backward(g, retain);
  return info.Env().Undefined();
}
Napi::Value Grad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "grad";
  ECF_RET(ECF_T(0, "tensor").grad());
}
Napi::Value ClearGrad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "clearGrad";
  ECF_T(0, "tensor").mutable_grad() = at::Tensor();
  return info.Env().Undefined();
}
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setGrad";
  ECF_T(0, "tensor").mutable_grad() = ECF_OPT_T(1, "grad");
  return info.Env().Undefined();
}
Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setRequiresGrad";
  at::Tensor t = ECF_T(0, "tensor");
  t.set_requires_grad(ECF_BOOL(1, "requiresGrad"));
  return info.Env().Undefined();
}
Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "requiresGrad";
  return Napi::Boolean::New(info.Env(), ECF_T(0, "tensor").requires_grad());
}
Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "isLeaf";
  return Napi::Boolean::New(info.Env(), ECF_T(0, "tensor").is_leaf());
}
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setGradEnabled";
  at::GradMode::set_enabled(ECF_BOOL(0, "enabled"));
  return info.Env().Undefined();
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

// ---- CUDA autocast (mixed precision), a per-thread setting ----
// setAutocast(enabled, dtypeCode?): turns CUDA autocast on (float16 by default, or bfloat16) or
// off; turning it off drops autocast's cache of casted weights.
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setAutocast";
  const bool enabled = ECF_BOOL(0, "enabled");
  const c10::ScalarType dt = IsAbsent(info, 1) ? at::kHalf : DtypeArg(info, 1, kFn, "dtype");
  if (dt != at::kHalf && dt != at::kBFloat16) {
    throw Napi::TypeError::New(info.Env(), "setAutocast: dtype must be float16 or bfloat16");
  }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dt);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dt);
  at::autocast::set_enabled(enabled);
#endif
  if (!enabled) at::autocast::clear_cache();
  return info.Env().Undefined();
}
Napi::Value IsAutocastEnabled(const Napi::CallbackInfo& info) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return Napi::Boolean::New(info.Env(), at::autocast::is_autocast_enabled(at::kCUDA));
#else
  return Napi::Boolean::New(info.Env(), at::autocast::is_enabled());
#endif
}
// autocastDtype() -> the dtype code CUDA autocast casts to (whether or not it is enabled).
Napi::Value AutocastDtype(const Napi::CallbackInfo& info) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const c10::ScalarType dt = at::autocast::get_autocast_dtype(at::kCUDA);
#else
  const c10::ScalarType dt = at::autocast::get_autocast_gpu_dtype();
#endif
  return Napi::Number::New(info.Env(), CodeFromDtype(dt));
}

// ---- RNG ----
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "manualSeed";
  int64_t seed = ECF_INT(0, "seed");
  TORCH_CHECK(seed >= 0, "manualSeed: seed must be a non-negative integer, got ", seed);
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}
// getRngState() -> uint8 tensor of the CPU generator's state
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Wrap(info.Env(), gen.get_state());
}
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setRngState";
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(ECF_T(0, "state"));
  return info.Env().Undefined();
}

// ---- threads ----
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "setNumThreads";
  int64_t n = ECF_INT(0, "threads");
  TORCH_CHECK(n >= 1, "setNumThreads: threads must be >= 1, got ", n);
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

// ---- CUDA ----
Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA() && at::getNumGPUs() > 0);
}
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? static_cast<double>(at::getNumGPUs()) : 0.0);
}
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
#ifdef ECF_WITH_CUDA
  if (at::hasCUDA()) c10::cuda::device_synchronize();
#endif
  return info.Env().Undefined();
}
Napi::Value CudaDeviceName(const Napi::CallbackInfo& info) {
#ifdef ECF_WITH_CUDA
  constexpr const char* kFn = "cudaDeviceName";
  int64_t idx = IsAbsent(info, 0) ? 0 : ECF_INT(0, "device");
  TORCH_CHECK(at::hasCUDA(), "cudaDeviceName: no CUDA device");
  return Napi::String::New(info.Env(), at::cuda::getDeviceProperties(static_cast<int>(idx))->name);
#else
  throw Napi::Error::New(info.Env(), "cudaDeviceName: this build of ecacface-torch has no CUDA support");
#endif
}

// cudnnBenchmark(enable?) -> previous setting: cuDNN autotuning of convolution algorithms
// (PyTorch's torch.backends.cudnn.benchmark). A process-wide libtorch setting.
Napi::Value CudnnBenchmark(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "cudnnBenchmark";
  const bool before = at::globalContext().benchmarkCuDNN();
  if (!IsAbsent(info, 0)) at::globalContext().setBenchmarkCuDNN(ECF_BOOL(0, "enable"));
  return Napi::Boolean::New(info.Env(), before);
}
// cudaEmptyCache(): returns the CUDA caching allocator's unused blocks to the driver.
Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
#ifdef ECF_WITH_CUDA
  if (at::hasCUDA()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  return info.Env().Undefined();
}

// memory() -> { tensors, bytes, created }: live handles of this environment and the bytes of the
// distinct storages behind them (views share their base's storage and count once).
Napi::Value Memory(const Napi::CallbackInfo& info) {
  const TensorTable& table = State(info.Env()).tensors;
  std::unordered_map<const void*, int64_t> storages;
  int64_t cuda_bytes = 0, cpu_bytes = 0;
  table.ForEach([&](const at::Tensor& t) {
    if (!t.has_storage()) return;
    const void* key = t.storage().unsafeGetStorageImpl();
    if (storages.emplace(key, 0).second) {
      int64_t n = static_cast<int64_t>(t.storage().nbytes());
      (t.is_cuda() ? cuda_bytes : cpu_bytes) += n;
    }
  });
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(table.live())));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(cpu_bytes + cuda_bytes)));
  out.Set("cpuBytes", Napi::Number::New(info.Env(), static_cast<double>(cpu_bytes)));
  out.Set("cudaBytes", Napi::Number::New(info.Env(), static_cast<double>(cuda_bytes)));
  out.Set("created", Napi::Number::New(info.Env(), static_cast<double>(table.created())));
  return out;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
#ifdef ECF_WITH_CUDA
  out.Set("cuda", Napi::Boolean::New(env, true));
#else
  out.Set("cuda", Napi::Boolean::New(env, false));
#endif
  out.Set("parallel", Napi::String::New(env, at::get_parallel_info()));
  out.Set("nnpack", Napi::Boolean::New(env, NnpackEnabled()));
  out.Set("cpuMalloc", Napi::String::New(env, CpuMallocPolicy()));
  return out;
}

}  // namespace

void RegisterRuntimeOps(Napi::Env env, Napi::Object e) {
  Export<Backward>(env, e, "backward");
  Export<Grad>(env, e, "grad");
  Export<ClearGrad>(env, e, "clearGrad");
  Export<SetGrad>(env, e, "setGrad");
  Export<SetRequiresGrad>(env, e, "setRequiresGrad");
  Export<RequiresGrad>(env, e, "requiresGrad");
  Export<IsLeaf>(env, e, "isLeaf");
  Export<SetGradEnabled>(env, e, "setGradEnabled");
  Export<IsGradEnabled>(env, e, "isGradEnabled");
  Export<SetAutocast>(env, e, "setAutocast");
  Export<IsAutocastEnabled>(env, e, "isAutocastEnabled");
  Export<AutocastDtype>(env, e, "autocastDtype");
  Export<ManualSeed>(env, e, "manualSeed");
  Export<GetRngState>(env, e, "getRngState");
  Export<SetRngState>(env, e, "setRngState");
  Export<SetNumThreads>(env, e, "setNumThreads");
  Export<GetNumThreads>(env, e, "getNumThreads");
  Export<CudaIsAvailable>(env, e, "cudaIsAvailable");
  Export<CudaDeviceCount>(env, e, "cudaDeviceCount");
  Export<CudaSynchronize>(env, e, "cudaSynchronize");
  Export<CudaDeviceName>(env, e, "cudaDeviceName");
  Export<CudnnBenchmark>(env, e, "cudnnBenchmark");
  Export<CudaEmptyCache>(env, e, "cudaEmptyCache");
  Export<Memory>(env, e, "memory");
  Export<BuildInfo>(env, e, "buildInfo");
}

}  // namespace ecf
