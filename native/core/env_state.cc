#include "core/env_state.h"

#include "core/async_runner.h"
#include "core/tensor_handle.h"

namespace ecf {

EnvState::EnvState() = default;

EnvState::~EnvState() {
  // Handles may outlive the environment's instance data at teardown: detach them so their
  // finalizers do not touch this object.
  for (TensorHolder* h = head; h != nullptr; h = h->next) h->env = nullptr;
  head = nullptr;
}

void EnvState::Link(TensorHolder* h) {
  h->env = this;
  h->prev = nullptr;
  h->next = head;
  if (head != nullptr) head->prev = h;
  head = h;
  ++live;
  ++created;
}

void EnvState::Unlink(TensorHolder* h) {
  if (h->prev != nullptr) h->prev->next = h->next;
  if (h->next != nullptr) h->next->prev = h->prev;
  if (head == h) head = h->next;
  h->prev = h->next = nullptr;
  --live;
}

EnvState& State(Napi::Env env) { return *env.GetInstanceData<EnvState>(); }

}  // namespace ecf
