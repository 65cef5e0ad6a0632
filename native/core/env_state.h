// Per-environment state of the addon (one per Node main thread or worker_thread).
// Nothing here is process-global: every Node environment gets its own EnvState through
// Napi::Env::SetInstanceData, so the addon can be loaded in several worker_threads at once.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>

namespace ecf {

struct TensorHolder;
class AsyncRunner;

struct EnvState {
  EnvState();
  ~EnvState();
  EnvState(const EnvState&) = delete;
  EnvState& operator=(const EnvState&) = delete;

  // Intrusive list of live tensor handles, for memory() and for detaching at teardown.
  TensorHolder* head = nullptr;
  std::size_t live = 0;
  std::size_t created = 0;

  // Runs long native work off the JS thread (see async_runner.h).
  std::unique_ptr<AsyncRunner> runner;

  void Link(TensorHolder* h);
  void Unlink(TensorHolder* h);
};

EnvState& State(Napi::Env env);

}  // namespace ecf
