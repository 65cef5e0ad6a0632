#include "core/env_state.h"

#include <c10/util/Exception.h>

#include "core/async_runner.h"

namespace ecf {

uint32_t TensorTable::Add(at::Tensor t) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    TORCH_CHECK(slots_.size() < kMaxSlots, "too many live tensors (", kMaxSlots,
                "): dispose tensors you no longer need (dispose(), using, scope())");
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.tensor = std::move(t);
  s.accounted_bytes = 0;
  ++live_;
  ++created_;
  return index | (static_cast<uint32_t>(s.generation) << kSlotBits);
}

const at::Tensor* TensorTable::Find(uint32_t handle) const {
  uint32_t index = handle & (kMaxSlots - 1);
  if (index >= slots_.size()) return nullptr;
  const Slot& s = slots_[index];
  if (s.generation != static_cast<uint8_t>(handle >> kSlotBits) || !s.tensor.defined()) return nullptr;
  return &s.tensor;
}

int64_t TensorTable::Remove(uint32_t handle) {
  uint32_t index = handle & (kMaxSlots - 1);
  if (index >= slots_.size()) return 0;
  Slot& s = slots_[index];
  if (s.generation != static_cast<uint8_t>(handle >> kSlotBits) || !s.tensor.defined()) return 0;
  s.tensor = at::Tensor();
  int64_t bytes = s.accounted_bytes;
  s.accounted_bytes = 0;
  ++s.generation;
  free_.push_back(index);
  --live_;
  return bytes;
}

void TensorTable::SetAccountedBytes(uint32_t handle, int64_t n) { slots_[handle & (kMaxSlots - 1)].accounted_bytes = n; }

void TensorTable::Clear() {
  slots_.clear();
  free_.clear();
  live_ = 0;
}

EnvState::EnvState() = default;

EnvState::~EnvState() {
  runner.reset();  // joins the worker threads before the tensors go
  nurseryBytes = nullptr;
  if (!nurseryBytesRef.IsEmpty()) nurseryBytesRef.SuppressDestruct();  // the environment is going away
  tensors.Clear();
}

EnvState& State(Napi::Env env) { return *env.GetInstanceData<EnvState>(); }

}  // namespace ecf
