#include "core/errors.h"

#include <c10/util/Exception.h>

#include <exception>
#include <stdexcept>

namespace ecf {
namespace {

Napi::Error WithCode(Napi::Error err, const char* code) {
  err.Set("code", Napi::String::New(err.Env(), code));
  return err;
}

// libtorch messages sometimes end with a newline or carry an "Exception raised from" tail.
std::string Clean(std::string msg) {
  auto pos = msg.find("\nException raised from");
  if (pos != std::string::npos) msg.resize(pos);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

}  // namespace

void RethrowAsJs(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::IndexError& e) {
    throw WithCode(Napi::RangeError::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH_INDEX");
  } catch (const c10::TypeError& e) {
    throw WithCode(Napi::TypeError::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH_TYPE");
  } catch (const c10::ValueError& e) {
    throw WithCode(Napi::Error::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH_VALUE");
  } catch (const c10::NotImplementedError& e) {
    throw WithCode(Napi::Error::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH_NOT_IMPLEMENTED");
  } catch (const c10::OutOfMemoryError& e) {
    throw WithCode(Napi::Error::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH_OUT_OF_MEMORY");
  } catch (const c10::Error& e) {
    throw WithCode(Napi::Error::New(env, Clean(e.what_without_backtrace())), "ERR_TORCH");
  } catch (const std::invalid_argument& e) {
    throw WithCode(Napi::TypeError::New(env, e.what()), "ERR_INVALID_ARG");
  } catch (const std::out_of_range& e) {
    throw WithCode(Napi::RangeError::New(env, e.what()), "ERR_OUT_OF_RANGE");
  } catch (const std::bad_alloc&) {
    throw WithCode(Napi::Error::New(env, "out of memory (std::bad_alloc)"), "ERR_OUT_OF_MEMORY");
  } catch (const std::exception& e) {
    throw WithCode(Napi::Error::New(env, e.what()), "ERR_NATIVE");
  } catch (...) {
    throw WithCode(Napi::Error::New(env, "unknown native error"), "ERR_NATIVE");
  }
}

void ThrowArgType(Napi::Env env, const char* fn, const char* arg, const char* expected) {
  std::string msg = std::string(fn) + ": argument '" + arg + "' must be " + expected;
  throw WithCode(Napi::TypeError::New(env, msg), "ERR_INVALID_ARG_TYPE");
}

}  // namespace ecf
