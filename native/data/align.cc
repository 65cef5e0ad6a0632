// Placeholder: this area's functions are added by its issue.
#include "core/registry.h"

namespace ecf {

void RegisterImageOps(Napi::Env, Napi::Object) {}

}  // namespace ecf
