// Error mapping: every C++ exception becomes a JS Error carrying libtorch's message without the
// C++ backtrace. Each exported function is wrapped by Guard<> so that no exception can escape
// into Node-API and abort the process.
#pragma once

#include <napi.h>

#include <string>

namespace ecf {

// Converts the in-flight exception into a Napi::Error (call from a catch block only).
[[noreturn]] void RethrowAsJs(Napi::Env env);

// Throws a JS TypeError naming the offending argument.
[[noreturn]] void ThrowArgType(Napi::Env env, const char* fn, const char* arg, const char* expected);

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (...) {
    RethrowAsJs(info.Env());
  }
}

// Registers a guarded function on `exports` under `name`.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guard<F>, name));
}

}  // namespace ecf
