// Entry point of the addon: creates the per-environment state and registers every area's
// functions on the exports object. Each area lives in its own file and exposes one Register*.
#include <napi.h>

#include <memory>

#include "core/async_runner.h"
#include "core/env_state.h"
#include "core/process_setup.h"
#include "core/registry.h"

namespace ecf {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ConfigureProcessOnce();
  // Node owns the instance data from here and deletes it when the environment is torn down.
  EnvState* state = std::make_unique<EnvState>().release();
  env.SetInstanceData<EnvState>(state);
  state->runner = std::make_unique<AsyncRunner>(env, 1);

  RegisterTensorHandle(env, exports);
  RegisterAsyncOps(env, exports);
  RegisterTensorOps(env, exports);
  RegisterMathOps(env, exports);
  RegisterNnOps(env, exports);
  RegisterRuntimeOps(env, exports);
  RegisterEscaOps(env, exports);
  RegisterMarginOps(env, exports);
  RegisterDataOps(env, exports);
  RegisterImageOps(env, exports);
  RegisterOptimOps(env, exports);
  RegisterDistributedOps(env, exports);
  RegisterDetectOps(env, exports);
  RegisterCudaGraphOps(env, exports);
  return exports;
}

}  // namespace ecf

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ecf::Init(env, exports); }

NODE_API_MODULE(ecacface, InitAddon)
