// CUDA graphs (at::cuda::CUDAGraph) for capturing a whole train step once and replaying it per
// batch, and the CUDA caching allocator's statistics (peak with reset) for memory().
//
//   cudaGraphBegin(device) -> graph   synchronises the device, then begins capture on a side
//                                      stream of `device`: every CUDA op the calling thread issues
//                                      (and the autograd engine's backward ops of those ops) is
//                                      recorded until cudaGraphEnd, not run. Allocations made
//                                      during capture come from the graph's private memory pool
//                                      and keep their addresses on every replay.
//   cudaGraphEnd(graph)               ends capture, instantiates the graph, restores the stream
//   cudaGraphReplay(graph)            launches the recorded work on the current stream
//   cudaGraphDispose(graph)           frees it; also ends an unfinished capture. Idempotent.
//   cudaMemoryStats(device, reset)    -> { allocatedBytes, peakAllocatedBytes, reservedBytes,
//                                      peakReservedBytes } of the caching allocator; with reset
//                                      the peaks restart from the current values after reading
//
// The graph is a JS External owning its state (freed by cudaGraphDispose, or by the GC as a
// safety net). Rules for what may be captured are CUDA's and PyTorch's: no host synchronisation
// (no item(), no CPU copies) and no CPU-side decisions that differ between steps; scalars passed
// to kernels (e.g. a learning rate given as a number) are frozen into the graph.
//
// Without ECF_WITH_CUDA (CPU builds) the graph functions throw "this build of ecacface-torch has
// no CUDA support" and cudaMemoryStats returns zeros. The CUDA half of this file is compiled only
// in CUDA builds (scripts/check-cuda.sh compiles the .cu kernels alone).
#include <napi.h>

#include <memory>

#include "core/errors.h"
#include "core/registry.h"
#include "ops/common.h"

#ifdef ECF_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Optional.h>
#endif

namespace ecf {
namespace {

#ifdef ECF_WITH_CUDA
// One graph: capturing between Begin and End, replayable after End.
class GraphState {
 public:
  explicit GraphState(c10::DeviceIndex device)
      : device_(device), graph_(std::make_unique<at::cuda::CUDAGraph>()) {}
  GraphState(const GraphState&) = delete;
  GraphState& operator=(const GraphState&) = delete;
  ~GraphState() { Release(); }

  void Begin() {
    c10::cuda::CUDAGuard device_guard(device_);
    // Work queued before the capture must be done: the side stream does not wait for it.
    c10::cuda::device_synchronize();
    stream_guard_.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_));
    capturing_ = true;
    try {
      graph_->capture_begin();
    } catch (...) {
      capturing_ = false;
      stream_guard_.reset();
      throw;
    }
  }
  void End() {
    TORCH_CHECK(graph_ && capturing_, "cudaGraphEnd: the graph is not capturing");
    capturing_ = false;
    try {
      graph_->capture_end();
    } catch (...) {
      stream_guard_.reset();
      throw;
    }
    stream_guard_.reset();  // back to the stream the capture started from
    // the capture stream's work (none ran, but the pool's frees are stream-ordered) before the
    // first replay on the original stream
    c10::cuda::device_synchronize();
    captured_ = true;
  }
  void Replay() {
    TORCH_CHECK(graph_ && captured_, "cudaGraphReplay: the graph has not been captured (call cudaGraphEnd first)");
    c10::cuda::CUDAGuard device_guard(device_);
    graph_->replay();
  }
  // Ends an unfinished capture (its error is dropped: the capture failed already) and frees the
  // graph and its memory pool.
  void Release() {
    if (capturing_) {
      capturing_ = false;
      try {
        graph_->capture_end();
      } catch (...) {
      }
    }
    stream_guard_.reset();
    graph_.reset();
    captured_ = false;
  }

 private:
  c10::DeviceIndex device_;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  c10::optional<c10::cuda::CUDAStreamGuard> stream_guard_;
  bool capturing_ = false;
  bool captured_ = false;
};
#else
class GraphState {};
#endif

constexpr const char* kNoCuda = "this build of ecacface-torch has no CUDA support";

GraphState* GraphArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument 'graph' must be a CUDA graph handle");
  }
  return info[0].As<Napi::External<GraphState>>().Data();
}

// cudaGraphBegin(device) -> graph
Napi::Value CudaGraphBegin(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "cudaGraphBegin";
  const int64_t device = ECF_INT(0, "device");
#ifdef ECF_WITH_CUDA
  TORCH_CHECK(device >= 0 && device < c10::cuda::device_count(), kFn, ": no CUDA device ", device, " (",
              static_cast<int>(c10::cuda::device_count()), " visible)");
  auto state = std::make_unique<GraphState>(static_cast<c10::DeviceIndex>(device));
  state->Begin();
  return Napi::External<GraphState>::New(info.Env(), state.release(), [](Napi::Env, GraphState* s) { delete s; });
#else
  (void)device;
  TORCH_CHECK(false, kFn, ": ", kNoCuda);
  return info.Env().Undefined();
#endif
}

Napi::Value CudaGraphEnd(const Napi::CallbackInfo& info) {
  GraphState* s = GraphArg(info, "cudaGraphEnd");
#ifdef ECF_WITH_CUDA
  s->End();
#else
  (void)s;
  TORCH_CHECK(false, "cudaGraphEnd: ", kNoCuda);
#endif
  return info.Env().Undefined();
}

Napi::Value CudaGraphReplay(const Napi::CallbackInfo& info) {
  GraphState* s = GraphArg(info, "cudaGraphReplay");
#ifdef ECF_WITH_CUDA
  s->Replay();
#else
  (void)s;
  TORCH_CHECK(false, "cudaGraphReplay: ", kNoCuda);
#endif
  return info.Env().Undefined();
}

Napi::Value CudaGraphDispose(const Napi::CallbackInfo& info) {
  GraphState* s = GraphArg(info, "cudaGraphDispose");
#ifdef ECF_WITH_CUDA
  s->Release();
#else
  (void)s;
#endif
  return info.Env().Undefined();
}

// cudaMemoryStats(device, reset) -> { allocatedBytes, peakAllocatedBytes, reservedBytes, peakReservedBytes }
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "cudaMemoryStats";
  const int64_t device = ECF_INT(0, "device");
  const bool reset = ECF_BOOL(1, "reset");
  double allocated = 0, peak_allocated = 0, reserved = 0, peak_reserved = 0;
#ifdef ECF_WITH_CUDA
  if (device >= 0 && device < c10::cuda::device_count()) {
    const auto d = static_cast<c10::DeviceIndex>(device);
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(d);
    // index 0 = StatType::AGGREGATE (all pools) in every libtorch version
    allocated = static_cast<double>(stats.allocated_bytes[0].current);
    peak_allocated = static_cast<double>(stats.allocated_bytes[0].peak);
    reserved = static_cast<double>(stats.reserved_bytes[0].current);
    peak_reserved = static_cast<double>(stats.reserved_bytes[0].peak);
    if (reset) c10::cuda::CUDACachingAllocator::resetPeakStats(d);
  }
#else
  (void)device;
  (void)reset;
#endif
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("allocatedBytes", Napi::Number::New(env, allocated));
  out.Set("peakAllocatedBytes", Napi::Number::New(env, peak_allocated));
  out.Set("reservedBytes", Napi::Number::New(env, reserved));
  out.Set("peakReservedBytes", Napi::Number::New(env, peak_reserved));
  return out;
}

}  // namespace

void RegisterCudaGraphOps(Napi::Env env, Napi::Object exports) {
  Export<CudaGraphBegin>(env, exports, "cudaGraphBegin");
  Export<CudaGraphEnd>(env, exports, "cudaGraphEnd");
  Export<CudaGraphReplay>(env, exports, "cudaGraphReplay");
  Export<CudaGraphDispose>(env, exports, "cudaGraphDispose");
  Export<CudaMemoryStats>(env, exports, "cudaMemoryStats");
}

}  // namespace ecf
