// Per-environment state of the addon (one per Node main thread or worker_thread).
// Nothing here is process-global: every Node environment gets its own EnvState through
// Napi::Env::SetInstanceData, so the addon can be loaded in several worker_threads at once.
#pragma once

#include <ATen/Tensor.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace ecf {

class AsyncRunner;

// The live tensors of one environment, addressed by handles.
// A handle packs a slot index (low 22 bits) and the slot's generation (8 bits) so that a stale
// handle of a reused slot is detected (modulo 256 reuses); it stays below 2^30, a V8 Smi.
// Slots live in a deque: references to a slot's tensor stay valid while other slots are added.
class TensorTable {
 public:
  static constexpr uint32_t kSlotBits = 22;
  static constexpr uint32_t kMaxSlots = 1u << kSlotBits;

  uint32_t Add(at::Tensor t);                  // returns the handle
  const at::Tensor* Find(uint32_t handle) const;  // null if unknown or disposed
  // Frees the slot; returns the bytes to un-report to V8 (0 if none). Idempotent.
  int64_t Remove(uint32_t handle);
  void Clear();
  // Bytes reported to V8 for a live handle (see Wrap in tensor_handle.cc).
  void SetAccountedBytes(uint32_t handle, int64_t n);

  std::size_t live() const { return live_; }
  std::size_t created() const { return created_; }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.tensor.defined()) f(s.tensor);
    }
  }

 private:
  struct Slot {
    at::Tensor tensor;
    uint8_t generation = 0;
    int64_t accounted_bytes = 0;
  };
  std::deque<Slot> slots_;
  std::vector<uint32_t> free_;
  std::size_t live_ = 0;
  std::size_t created_ = 0;

};

struct EnvState {
  EnvState();
  ~EnvState();
  EnvState(const EnvState&) = delete;
  EnvState& operator=(const EnvState&) = delete;

  TensorTable tensors;
  // A one-element Float64Array of the JS side (lib/tensor/tensor.ts): bytes reported to V8 for
  // tensors created since JS last reset it, so that the FinalizationRegistry nursery is flushed
  // by size, not only by count (see Wrap). Null until JS registers it.
  Napi::Reference<Napi::Float64Array> nurseryBytesRef;
  double* nurseryBytes = nullptr;
  // Bytes of tensors created (+) and freed (−) not yet reported to V8 (see Account in
  // tensor_handle.cc).
  int64_t unreportedBytes = 0;
  // Runs long native work off the JS thread (see async_runner.h).
  std::unique_ptr<AsyncRunner> runner;
};

EnvState& State(Napi::Env env);

}  // namespace ecf
