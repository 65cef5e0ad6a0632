// Runs long native work (batch decoding, embedding a set, a large op) on the addon's own
// threads instead of the JS thread or libuv's small shared pool, and settles a JS promise when
// it is done. Each task runs in two halves:
//   work()         on a runner thread: pure C++/libtorch, no Node-API;
//   finish(env)    back on the JS thread: turns the C++ result into a JS value.
// Exceptions thrown by work() reject the promise with the same error mapping as synchronous
// calls (core/errors.h). Grad mode is per thread in libtorch, so the submitter's grad mode is
// carried into the worker.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ecf {

class AsyncRunner {
 public:
  using Finish = std::function<Napi::Value(Napi::Env)>;
  using Work = std::function<Finish()>;

  AsyncRunner(Napi::Env env, std::size_t threads);
  ~AsyncRunner();
  AsyncRunner(const AsyncRunner&) = delete;
  AsyncRunner& operator=(const AsyncRunner&) = delete;

  // Queues `work`; returns a promise settled with finish(env)'s value or the error thrown.
  Napi::Promise Submit(Napi::Env env, Work work);


  struct Job;

 private:
  static void DeliverTrampoline(Napi::Env env, Napi::Function fn, void* ctx, Job* job);
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  Napi::TypedThreadSafeFunction<void, Job, &AsyncRunner::DeliverTrampoline> tsfn_;
  std::size_t pending_ = 0;  // touched on the JS thread only
};


}  // namespace ecf
