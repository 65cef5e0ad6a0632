// Placeholder: this area's functions are added by its issue.
#include "core/registry.h"

namespace ecf {

void RegisterMarginOps(Napi::Env, Napi::Object) {}

}  // namespace ecf
