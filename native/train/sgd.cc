// Placeholder: this area's functions are added by its issue.
#include "core/registry.h"

namespace ecf {

void RegisterOptimOps(Napi::Env, Napi::Object) {}

}  // namespace ecf
