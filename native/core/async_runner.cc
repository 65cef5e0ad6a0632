#include "core/async_runner.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/env_state.h"
#include "core/errors.h"
#include "core/registry.h"
#include "core/tensor_handle.h"

namespace ecf {

struct AsyncRunner::Job {
  AsyncRunner* runner = nullptr;
  Work work;
  Finish finish;
  std::exception_ptr error;
  bool grad_enabled = true;
  Napi::Promise::Deferred deferred;
  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

AsyncRunner::AsyncRunner(Napi::Env env, std::size_t threads) {
  tsfn_ = Napi::TypedThreadSafeFunction<void, Job, &AsyncRunner::DeliverTrampoline>::New(
      env, "ecacface.async", 0, 1);
  tsfn_.Unref(env);  // only pending jobs keep the event loop alive
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

AsyncRunner::~AsyncRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  tsfn_.Abort();
}

Napi::Promise AsyncRunner::Submit(Napi::Env env, Work work) {
  auto job = std::make_unique<Job>(env);
  job->runner = this;
  job->work = std::move(work);
  job->grad_enabled = at::GradMode::is_enabled();
  Napi::Promise promise = job->deferred.Promise();
  if (pending_++ == 0) tsfn_.Ref(env);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return promise;
}

void AsyncRunner::Loop() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      at::AutoGradMode grad(job->grad_enabled);
      job->finish = job->work();
    } catch (...) {
      job->error = std::current_exception();
    }
    job->work = nullptr;
    // The queue of the thread-safe function is unbounded: this never blocks.
    if (tsfn_.NonBlockingCall(job.get()) == napi_ok) job.release();
  }
}

void AsyncRunner::DeliverTrampoline(Napi::Env env, Napi::Function, void*, Job* raw) {
  std::unique_ptr<Job> job(raw);
  if (env == nullptr) return;  // environment shutting down
  AsyncRunner* runner = job->runner;
  Napi::HandleScope scope(env);
  try {
    if (job->error) std::rethrow_exception(job->error);
    job->deferred.Resolve(job->finish ? job->finish(env) : env.Undefined());
  } catch (...) {
    try {
      RethrowAsJs(env);
    } catch (const Napi::Error& e) {
      job->deferred.Reject(e.Value());
    }
  }
  if (--runner->pending_ == 0) runner->tsfn_.Unref(env);
}

namespace {

// mmAsync(a, b): the matrix product on a runner thread (the sample of the async mechanism).
Napi::Value MmAsync(const Napi::CallbackInfo& info) {
  at::Tensor a = TensorArg(info, 0, "mmAsync", "a");
  at::Tensor b = TensorArg(info, 1, "mmAsync", "b");
  return State(info.Env()).runner->Submit(info.Env(), [a, b]() -> AsyncRunner::Finish {
    at::Tensor out = at::matmul(a, b);
    return [out](Napi::Env env) { return Wrap(env, out); };
  });
}


}  // namespace

void RegisterAsyncOps(Napi::Env env, Napi::Object exports) {
  Export<MmAsync>(env, exports, "mmAsync");
}

}  // namespace ecf
