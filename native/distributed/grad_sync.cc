// Bucketed gradient allreduce overlapped with the backward, on a DistGroup (group.h):
//   new DistGradSync(group, params, bucketBytes)   .arm() / .finish() / .info() / .dispose()
#include "distributed/group.h"

#if defined(ECF_WITH_C10D)

#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "ops/common.h"

namespace ecf {
namespace dist {
namespace {

// DDP's scheme without c10d::Reducer (whose constructor takes a c10d::ProcessGroup, which in
// libtorch 2.x would mean wrapping the Backend with a version-specific ProcessGroup API): the
// parameters are packed, in reverse order (the order gradients become ready in the backward),
// into flat buckets of about `bucketBytes`. A hook on each parameter copies its gradient (plus
// the .grad already accumulated by earlier micro-batches) into the bucket when it is produced; as
// soon as a bucket is complete, and every bucket before it has been launched, its allreduce
// starts, while the backward continues. finish() launches what is left (parameters that got no
// gradient count as zero), waits for every bucket, and writes the averaged gradients to .grad.
// arm() before a backward enables the hooks (like DDP's prepare_for_backward); a backward without
// arm() only accumulates (DDP's no_sync), for gradient accumulation.
struct GradSync {
  struct Bucket {
    at::Tensor flat;
    std::vector<size_t> params;
    std::vector<at::Tensor> views;
    size_t ready = 0;
    std::shared_future<WorkPtr> work;  // its allreduce, once launched
  };
  c10::intrusive_ptr<GroupCore> group;
  std::vector<at::Tensor> params;
  std::vector<size_t> bucket_of, slot_of;
  std::vector<Bucket> buckets;
  std::vector<char> seen;
  std::vector<unsigned> hook_ids;
  std::mutex mu;
  bool armed = false;
  size_t next_launch = 0;
  double wait_ms = 0;  // time finish() spent waiting (communication not hidden by the backward)

  void Launch(size_t b) {
    Bucket& k = buckets[b];
    k.flat.div_(group->opt.size);
    std::vector<at::Tensor> ts{k.flat};
    k.work = group->Submit(CollectiveDesc::Of(CollectiveDesc::kAllreduce, ts, ReduceCode("sum")), [ts](PgBase& pg) {
      std::vector<at::Tensor> io = ts;
      return pg.allreduce(io);
    });
  }

  void LaunchReady() {
    while (next_launch < buckets.size() && buckets[next_launch].ready == buckets[next_launch].params.size()) {
      Launch(next_launch++);
    }
  }

  void OnGrad(size_t i, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed || seen[i]) return;
    seen[i] = 1;
    Bucket& k = buckets[bucket_of[i]];
    at::Tensor& v = k.views[slot_of[i]];
    at::NoGradGuard ng;
    v.copy_(grad.reshape(v.sizes()));
    const at::Tensor& prev = params[i].grad();
    if (prev.defined()) v.add_(prev.reshape(v.sizes()));
    k.ready++;
    LaunchReady();
  }

  void Arm() {
    std::lock_guard<std::mutex> lock(mu);
    TORCH_CHECK(next_launch == 0 && !armed, "DistGradSync.arm: the previous synchronised backward was not finished");
    armed = true;
    std::fill(seen.begin(), seen.end(), 0);
    for (auto& k : buckets) k.ready = 0;
  }

  void Finish() {
    std::unique_lock<std::mutex> lock(mu);
    TORCH_CHECK(armed, "DistGradSync.finish: arm() was not called before the backward");
    at::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) {
      if (seen[i]) continue;
      // No gradient this step: its own accumulated .grad (or zero) joins the reduction.
      Bucket& k = buckets[bucket_of[i]];
      at::Tensor& v = k.views[slot_of[i]];
      const at::Tensor& prev = params[i].grad();
      if (prev.defined()) v.copy_(prev.reshape(v.sizes())); else v.zero_();
      seen[i] = 1;
      k.ready++;
    }
    LaunchReady();
    armed = false;
    next_launch = 0;
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    for (auto& k : buckets) {
      std::shared_future<WorkPtr> w = std::move(k.work);
      WaitWork(*group, w.get(), "gradient allreduce");
    }
    wait_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < params.size(); ++i) {
      const at::Tensor& v = buckets[bucket_of[i]].views[slot_of[i]];
      at::Tensor& p = params[i];
      if (p.grad().defined()) {
        p.mutable_grad().copy_(v.view(p.sizes()));
      } else {
        p.mutable_grad() = v.view(p.sizes()).clone();
      }
    }
  }
};

class DistGradSync : public Napi::ObjectWrap<DistGradSync> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DistGradSync",
                       {InstanceMethod<&DistGradSync::Arm>("arm"), InstanceMethod<&DistGradSync::Finish>("finish"),
                        InstanceMethod<&DistGradSync::Info>("info"),
                        InstanceMethod<&DistGradSync::Dispose>("dispose")});
  }

  explicit DistGradSync(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DistGradSync>(info) {
    constexpr const char* kFn = "DistGradSync";
    try {
      c10::intrusive_ptr<GroupCore> g = GroupArg(info, 0, kFn);
      std::vector<at::Tensor> params = TensorListArg(info, 1, kFn, "params");
      const int64_t cap = IsAbsent(info, 2) ? (25 << 20) : IntArg(info, 2, kFn, "bucketBytes");
      TORCH_CHECK(cap > 0, "DistGradSync: bucketBytes must be > 0");
      state_ = std::make_shared<GradSync>();
      GradSync& s = *state_;
      s.group = g;
      s.params = params;
      const size_t n = params.size();
      s.bucket_of.assign(n, 0);
      s.slot_of.assign(n, 0);
      s.seen.assign(n, 0);
      // Reverse order; a bucket holds one dtype/device and about `cap` bytes.
      std::vector<std::vector<size_t>> groups;
      int64_t bytes = 0;
      for (size_t j = n; j-- > 0;) {
        const at::Tensor& p = params[j];
        TORCH_CHECK(p.requires_grad(), "DistGradSync: parameter ", j, " does not require grad");
        const int64_t pb = p.numel() * static_cast<int64_t>(p.element_size());
        const bool fresh = groups.empty() || bytes + pb > cap ||
                           params[groups.back()[0]].scalar_type() != p.scalar_type() ||
                           params[groups.back()[0]].device() != p.device();
        if (fresh) {
          groups.emplace_back();
          bytes = 0;
        }
        groups.back().push_back(j);
        bytes += pb;
      }
      for (size_t b = 0; b < groups.size(); ++b) {
        GradSync::Bucket k;
        int64_t numel = 0;
        for (size_t j : groups[b]) numel += params[j].numel();
        k.flat = at::zeros({numel}, params[groups[b][0]].options().requires_grad(false));
        int64_t off = 0;
        for (size_t j : groups[b]) {
          s.bucket_of[j] = b;
          s.slot_of[j] = k.views.size();
          k.views.push_back(k.flat.narrow(0, off, params[j].numel()));
          k.params.push_back(j);
          off += params[j].numel();
        }
        s.buckets.push_back(std::move(k));
      }
      std::weak_ptr<GradSync> weak = state_;
      for (size_t j = 0; j < n; ++j) {
        s.hook_ids.push_back(params[j].register_hook([weak, j](const at::Tensor& grad) {
          if (auto st = weak.lock()) st->OnGrad(j, grad);
        }));
      }
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  ~DistGradSync() override { Release(); }

 private:
  void Release() {
    if (!state_) return;
    for (size_t j = 0; j < state_->params.size() && j < state_->hook_ids.size(); ++j) {
      try {
        state_->params[j].remove_hook(state_->hook_ids[j]);
      } catch (...) {
      }
    }
    state_.reset();
  }
  GradSync& S(const char* fn) {
    TORCH_CHECK(state_, "DistGradSync.", fn, ": disposed");
    return *state_;
  }
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    try {
      S("arm").Arm();
    } catch (...) {
      RethrowAsJs(info.Env());
    }
    return info.Env().Undefined();
  }
  Napi::Value Finish(const Napi::CallbackInfo& info) {
    try {
      S("finish").Finish();
    } catch (...) {
      RethrowAsJs(info.Env());
    }
    return info.Env().Undefined();
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    try {
      GradSync& s = S("info");
      Napi::Array sizes = Napi::Array::New(env, s.buckets.size());
      for (size_t b = 0; b < s.buckets.size(); ++b)
        sizes.Set(static_cast<uint32_t>(b), Napi::Number::New(env, static_cast<double>(s.buckets[b].flat.numel())));
      o.Set("bucketNumel", sizes);
      o.Set("waitMs", Napi::Number::New(env, s.wait_ms));
    } catch (...) {
      RethrowAsJs(env);
    }
    return o;
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }
  std::shared_ptr<GradSync> state_;
};

}  // namespace

Napi::Function DefineDistGradSync(Napi::Env env) { return DistGradSync::Define(env); }

}  // namespace dist
}  // namespace ecf

#endif  // ECF_WITH_C10D
