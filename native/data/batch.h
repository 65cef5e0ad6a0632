// The data loader's batch decoder (data/batch.cc), registered by RegisterDataOps.
#pragma once

#include <napi.h>

namespace ecf {

// Exports dataDecodeBatch and dataBatchPool.
void RegisterDataBatchOps(Napi::Env env, Napi::Object exports);

}  // namespace ecf
