// Process groups on libtorch's c10d (the engine under PyTorch's DDP): Gloo on CPU, NCCL on CUDA
// builds, rendezvous over c10d's TCPStore (or FileStore). The backends' own headers (Gloo's,
// NCCL's: slow to compile) are included here only; group.h has what grad_sync.cc shares.
//
//   new DistGroup({ backend, rank, worldSize, masterAddr, masterPort | storePath, timeoutMs,
//                   rendezvousTimeoutMs, externalStorePrefix, checkCollectives })
//     checkCollectives (default true): each collective is compared across the ranks before it
//     starts (issue.cc); false skips that (a disagreement then aborts inside Gloo)
//     externalStorePrefix: the TCPStore at masterAddr:masterPort is served by the launcher
//     (torchrun's elastic agent, TORCHELASTIC_USE_AGENT_STORE): no rank serves it, and every key of
//     the group (backend rendezvous, heartbeats) lives under this prefix, as torch.distributed does
//     .connectStore()               → Promise: the store (rank 0 serves it unless the launcher does);
//                                     no waiting for the other ranks: lib/distributed/rendezvous.ts
//                                     joins them through the store, reporting progress
//     .connectBackend()             → Promise: the backend's connections and the heartbeat, once
//                                     every rank has joined
//     .storeSet(key, value)         → Promise (strings; the group's own keys, beside the backend's)
//     .storeGet(key)                → Promise<string> (waits up to the rendezvous timeout)
//     .storeCheck([key…])           → Promise<boolean[]>: which keys exist
//     .allreduce([t…], op)          → Promise (in place; op 'sum' | 'max' | 'min' | 'product')
//     .allgather(t)                 → Promise<handle[]> (one tensor per rank)
//     .broadcast([t…], root)        → Promise (in place)
//     .barrier()                    → Promise
//     .allreduceSync([t…], op)      → blocks like torch.distributed.all_reduce (for use inside a
//                                     forward, where the result is needed at once)
//     .diagnose()                   → Promise<string>: which ranks are dead or behind (heartbeats)
//     .destroy()
//   distAllGather(group, x, gradScale)   differentiable all-gather along dim 0; backward sums the
//                                        gradient over ranks and keeps this rank's slice × gradScale
//   DistGradSync (grad_sync.cc): bucketed gradient allreduce overlapped with the backward
//
// Collectives are enqueued on the JS thread (so every rank issues them in program order, which is
// what matches them across ranks) and awaited on libuv's thread pool; a promise settles when
// the work completes, fails or passes the group's timeout. Gloo's own operations use the same
// timeout, so a stalled peer makes the others fail instead of hanging.
//
// Liveness: each rank runs a heartbeat thread that writes "<beats>:<collectives issued>" under
// ecf/hb/<rank> in the store (its own connection) every kBeatMs. After a failure, diagnose()
// reads every rank's entry twice and names the ranks whose beat did not move (dead, stopped) or
// that issued fewer collectives than this one (behind: stalled before the collective).
#include <napi.h>

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/async_runner.h"
#include "distributed/group.h"
#include "ops/common.h"

#if defined(ECF_WITH_C10D)
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(ECF_WITH_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(ECF_WITH_CUDA) && __has_include(<nccl.h>) && \
    __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define ECF_WITH_NCCL 1
#endif
#endif

namespace ecf {
namespace dist {

#if defined(ECF_WITH_C10D)

namespace {

constexpr int kBeatMs = 500;
constexpr uint32_t kGroupMagic = 0xEC0D1D00u;

std::string Trim(std::string s) {
  auto pos = s.find("\nException raised from");
  if (pos != std::string::npos) s.resize(pos);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// ------------------------------------------------------------------------------------ GroupCore

void GroupCore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(hb_mu);
    hb_stop = true;
  }
  hb_cv.notify_all();
  if (hb_thread.joinable()) hb_thread.join();
  // The collectives thread fails what is still queued and ends (a check in progress ends within
  // the collective timeout).
  {
    std::lock_guard<std::mutex> lock(q_mu);
    q_stop = true;
  }
  q_cv.notify_all();
  if (q_thread.joinable()) q_thread.join();
  // After a failure the backend's threads may sit in a collective that a dead or stalled peer
  // never completes (until the backend's own, rendezvous-length timeout): destroying it would
  // wait for them. The process is ending with the error; leave it to the exit.
  if (failed.load() && pg) (void)pg.release();
  pg.reset();
  hb_store.reset();
  store.reset();
}

// A connection to the store; rank 0's main one serves it (`server`). Nobody waits for the other
// ranks' connections here (TCPStore's waitWorkers): the ranks join through keys (ConnectStore).
// With an external store nobody here serves it (`server` is ignored) and the result is the
// prefixed view.
c10::intrusive_ptr<c10d::Store> GroupCore::MakeStore(bool server) const {
  if (!opt.store_path.empty()) {
    return c10::make_intrusive<c10d::FileStore>(opt.store_path, opt.size);
  }
  const bool external = !opt.external_store_prefix.empty();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(opt.master_port);
  so.isServer = server && !external;
  so.numWorkers = static_cast<std::size_t>(opt.size);
  so.waitWorkers = false;
  so.timeout = opt.rendezvous_timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(opt.master_addr, so);
  if (!external) return tcp;
  return c10::make_intrusive<c10d::PrefixStore>(opt.external_store_prefix, tcp);
}

void GroupCore::ConnectStore() {
  TORCH_CHECK(!store, "DistGroup.connectStore: already connected");
  store = MakeStore(opt.rank == 0);
  store->setTimeout(opt.rendezvous_timeout);
}

void GroupCore::StoreSet(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(store_mu);
  TORCH_CHECK(store, "DistGroup.storeSet: the store is not connected");
  store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string GroupCore::StoreGet(const std::string& key) {
  std::lock_guard<std::mutex> lock(store_mu);
  TORCH_CHECK(store, "DistGroup.storeGet: the store is not connected");
  auto v = store->get(key);
  return std::string(v.begin(), v.end());
}

std::vector<bool> GroupCore::StoreCheck(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(store_mu);
  TORCH_CHECK(store, "DistGroup.storeCheck: the store is not connected");
  std::vector<bool> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(store->check({k}));
  return out;
}

void GroupCore::ConnectBackend() {
  TORCH_CHECK(store, "DistGroup.connectBackend: connectStore() first");
  TORCH_CHECK(!pg, "DistGroup.connectBackend: already connected");
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("ecf/pg", store);
  if (opt.backend == "gloo") {
#if defined(ECF_WITH_GLOO)
    // Gloo's own timeout covers its connections as well as its operations: the longer of the two
    // here (every rank has joined, so connecting is quick); WaitWork enforces the collective one.
    auto o = c10d::ProcessGroupGloo::Options::create(std::max(opt.timeout, opt.rendezvous_timeout));
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname != nullptr && *ifname != '\0') {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (opt.master_addr == "127.0.0.1" || opt.master_addr == "localhost") {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    o->threads = 2;
    pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, opt.rank, opt.size, o);
#else
    TORCH_CHECK(false, "distributed: this build has no Gloo backend (build with libgloo-dev installed)");
#endif
  } else if (opt.backend == "nccl") {
#if defined(ECF_WITH_NCCL)
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = opt.timeout;
    pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, opt.rank, opt.size, o);
#else
    TORCH_CHECK(false, "distributed: this build has no NCCL backend (a CUDA build of libtorch with NCCL is needed)");
#endif
  } else {
    TORCH_CHECK(false, "distributed: unknown backend '", opt.backend, "' (expected 'gloo' or 'nccl')");
  }
  // The heartbeat's own TCP connection (a TCPStore client is not shared between threads); a
  // FileStore is shared (each instance counts as a worker for the file's cleanup).
  hb_store = opt.store_path.empty() ? MakeStore(false) : store;
  hb_store->setTimeout(Ms(std::max<int64_t>(2000, opt.timeout.count() / 4)));
  Beat(0);
  hb_thread = std::thread([this] { HeartbeatLoop(); });
  q_thread = std::thread([this] { CollectivesLoop(); });
}

void GroupCore::Beat(int64_t n) {
  std::string v = std::to_string(n) + ":" + std::to_string(issued.load());
  hb_store->set("ecf/hb/" + std::to_string(opt.rank), std::vector<uint8_t>(v.begin(), v.end()));
}

void GroupCore::HeartbeatLoop() {
  int64_t n = 1;
  std::unique_lock<std::mutex> lock(hb_mu);
  while (!hb_stop) {
    hb_cv.wait_for(lock, Ms(kBeatMs));
    if (hb_stop) break;
    try {
      Beat(n++);
    } catch (...) {
      // The store is gone (rank 0 ended): diagnose() reports it; keep the thread quiet.
    }
  }
}

std::string GroupCore::Diagnose() {
  auto read = [this](std::vector<int64_t>& beats, std::vector<int64_t>& seqs) {
    std::lock_guard<std::mutex> lock(hb_mu);
    for (int r = 0; r < opt.size; ++r) {
      std::string key = "ecf/hb/" + std::to_string(r);
      if (!hb_store->check({key})) {
        beats[r] = -1;
        continue;
      }
      auto v = hb_store->get(key);
      std::string s(v.begin(), v.end());
      auto colon = s.find(':');
      beats[r] = std::stoll(s.substr(0, colon));
      seqs[r] = std::stoll(s.substr(colon + 1));
    }
  };
  std::vector<int64_t> b0(opt.size, -1), s0(opt.size, 0), b1(opt.size, -1), s1(opt.size, 0);
  try {
    read(b0, s0);
    std::this_thread::sleep_for(Ms(kBeatMs * 5 / 2));
    read(b1, s1);
  } catch (const std::exception& e) {
    return opt.rank == 0 ? std::string("the rendezvous store is unreachable")
                         : "rank 0 (the rendezvous host, " + opt.master_addr + ":" +
                               std::to_string(opt.master_port) + ") is unreachable: it has probably exited";
  }
  std::ostringstream dead, behind;
  const int64_t mine = issued.load();
  for (int r = 0; r < opt.size; ++r) {
    if (r == opt.rank) continue;
    if (b1[r] < 0 || b1[r] == b0[r]) {
      dead << (dead.tellp() > 0 ? ", " : "") << r;
    } else if (s1[r] < mine) {
      behind << (behind.tellp() > 0 ? ", " : "") << r << " (" << s1[r] << " of " << mine << " collectives)";
    }
  }
  std::string out;
  if (dead.tellp() > 0) out += "rank " + dead.str() + " stopped responding (no heartbeat for " +
                               std::to_string(kBeatMs * 5 / 2) + " ms: exited, killed or frozen)";
  if (behind.tellp() > 0) {
    if (!out.empty()) out += "; ";
    out += "rank " + behind.str() + " is behind: stalled before this collective";
  }
  return out;
}

void WaitWork(GroupCore& g, const WorkPtr& w, const char* what) {
  bool ok = false;
  std::string why;
  try {
    ok = w->wait(g.opt.timeout);
    if (!ok) why = "timed out after " + std::to_string(g.opt.timeout.count()) + " ms";
  } catch (const c10::Error& e) {
    why = Trim(e.what_without_backtrace());
  } catch (const std::exception& e) {
    why = Trim(e.what());
  }
  if (ok) return;
  g.failed = true;
  std::string who = g.Diagnose();
  TORCH_CHECK(false, "distributed: ", what, " failed on rank ", g.opt.rank, " of ", g.opt.size,
              who.empty() ? std::string() : ": " + who, " [", why, "]");
}

namespace {

// The c10d op of a ReduceCode.
c10d::ReduceOp OpOf(int64_t code) {
  switch (code) {
    case 1: return c10d::ReduceOp::MAX;
    case 2: return c10d::ReduceOp::MIN;
    case 3: return c10d::ReduceOp::PRODUCT;
    default: return c10d::ReduceOp::SUM;
  }
}

// The reduce op argument `i` ('sum' when absent), as a ReduceCode.
int64_t OpArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return ReduceCode(IsAbsent(info, i) ? std::string("sum") : StringArg(info, i, fn, "op"));
}

// Every collective: submitted through the group's check (GroupCore::Submit), then waited for.
void AllReduceNow(GroupCore& g, const std::vector<at::Tensor>& ts, int64_t op, const char* what) {
  g.Run(CollectiveDesc::Of(CollectiveDesc::kAllreduce, ts, op), [ts, op](PgBase& pg) {
    std::vector<at::Tensor> io = ts;
    c10d::AllreduceOptions o;
    o.reduceOp = OpOf(op);
    return pg.allreduce(io, o);
  }, what);
}

void CheckTensors(const std::vector<at::Tensor>& ts, const char* fn) {
  for (const auto& t : ts) TORCH_CHECK(t.defined() && t.is_contiguous(), fn, ": tensors must be contiguous");
}

// ------------------------------------------------------------------------------------- autograd

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// An allgather of `x` (contiguous) into one tensor per rank: the work (issued through the
// group's check) and where the result will be.
std::pair<std::shared_future<WorkPtr>, std::vector<at::Tensor>> SubmitAllGather(GroupCore& g, const at::Tensor& x) {
  std::vector<at::Tensor> in{x.contiguous()};
  std::vector<at::Tensor> result;
  for (int r = 0; r < g.opt.size; ++r) result.push_back(at::empty_like(in[0]));
  auto f = g.Submit(CollectiveDesc::Of(CollectiveDesc::kAllgather, in), [in, result](PgBase& pg) {
    std::vector<at::Tensor> input = in;
    std::vector<std::vector<at::Tensor>> out{result};
    return pg.allgather(out, input);
  });
  return {f, result};
}

std::vector<at::Tensor> AllGatherNow(GroupCore& g, const at::Tensor& x) {
  auto [f, result] = SubmitAllGather(g, x);
  WaitWork(g, f.get(), "allgather");
  return result;
}

struct AllGatherFn : public torch::autograd::Function<AllGatherFn> {
  static at::Tensor forward(AutogradContext* ctx, at::Tensor x, c10::intrusive_ptr<GroupCore> g, double scale) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->saved_data["group"] = c10::IValue::make_capsule(g);
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["rows"] = x.size(0);
    return at::cat(AllGatherNow(*g, x.detach()), 0);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto g = c10::static_intrusive_pointer_cast<GroupCore>(ctx->saved_data["group"].toCapsule());
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    // Sum of every rank's gradient of the gathered tensor, then this rank's rows (Gloo in 1.13 has
    // no reduce_scatter: allreduce + slice, as the issue notes).
    std::vector<at::Tensor> gv{grads[0].contiguous().clone()};
    AllReduceNow(*g, gv, ReduceCode("sum"), "allgather backward (allreduce)");
    at::Tensor mine = gv[0].narrow(0, g->opt.rank * rows, rows);
    if (scale != 1.0) mine = mine.mul(scale);
    return {mine, at::Tensor(), at::Tensor()};
  }
};

// --------------------------------------------------------------------------------- JS wrappers

// A blocking wait (rendezvous, a collective's completion) on libuv's thread pool, settling a
// promise on the JS thread. Not the addon's AsyncRunner: a stalled collective must not hold up its
// data jobs, and a second runner's thread-safe function does not survive environment teardown
// next to the first.
class WaitJob : public Napi::AsyncWorker {
 public:
  using Work = std::function<AsyncRunner::Finish()>;
  static Napi::Promise Run(Napi::Env env, Work work) {
    auto* job = new WaitJob(env, std::move(work));  // Node-API owns it: deleted after OnOK
    Napi::Promise p = job->deferred_.Promise();
    job->Queue();
    return p;
  }

 private:
  WaitJob(Napi::Env env, Work work) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  void Execute() override {
    try {
      finish_ = work_();
    } catch (...) {
      error_ = std::current_exception();
    }
    work_ = nullptr;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      if (error_) std::rethrow_exception(error_);
      deferred_.Resolve(finish_ ? finish_(env) : env.Undefined());
    } catch (...) {
      try {
        RethrowAsJs(env);
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    }
  }
  Napi::Promise::Deferred deferred_;
  Work work_;
  AsyncRunner::Finish finish_;
  std::exception_ptr error_;
};


class DistGroup : public Napi::ObjectWrap<DistGroup> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DistGroup",
                       {InstanceMethod<&DistGroup::ConnectStore>("connectStore"),
                        InstanceMethod<&DistGroup::ConnectBackend>("connectBackend"),
                        InstanceMethod<&DistGroup::StoreSet>("storeSet"),
                        InstanceMethod<&DistGroup::StoreGet>("storeGet"),
                        InstanceMethod<&DistGroup::StoreCheck>("storeCheck"),
                        InstanceMethod<&DistGroup::AllReduce>("allreduce"),
                        InstanceMethod<&DistGroup::AllReduceSync>("allreduceSync"),
                        InstanceMethod<&DistGroup::AllGather>("allgather"),
                        InstanceMethod<&DistGroup::Broadcast>("broadcast"),
                        InstanceMethod<&DistGroup::Barrier>("barrier"),
                        InstanceMethod<&DistGroup::Diagnose>("diagnose"),
                        InstanceMethod<&DistGroup::Destroy>("destroy")});
  }

  explicit DistGroup(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DistGroup>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) ThrowArgType(env, "DistGroup", "options", "an object");
    Napi::Object o = info[0].As<Napi::Object>();
    core_ = c10::make_intrusive<GroupCore>();
    GroupOptions& opt = core_->opt;
    auto str = [&](const char* k, std::string& dst) {
      Napi::Value v = o.Get(k);
      if (v.IsString()) dst = v.As<Napi::String>().Utf8Value();
    };
    auto num = [&](const char* k, double& dst) {
      Napi::Value v = o.Get(k);
      if (v.IsNumber()) dst = v.As<Napi::Number>().DoubleValue();
    };
    double rank = 0, size = 1, port = 29500, timeout = 300000, rdv = 0;
    str("backend", opt.backend);
    str("masterAddr", opt.master_addr);
    str("storePath", opt.store_path);
    str("externalStorePrefix", opt.external_store_prefix);
    num("rank", rank);
    num("worldSize", size);
    num("masterPort", port);
    num("timeoutMs", timeout);
    num("rendezvousTimeoutMs", rdv);
    Napi::Value check = o.Get("checkCollectives");
    if (check.IsBoolean()) opt.check_collectives = check.As<Napi::Boolean>().Value();
    if (!(size >= 1) || !(rank >= 0 && rank < size))
      throw Napi::RangeError::New(env, "DistGroup: rank must lie in [0, worldSize)");
    if (!(port > 0 && port < 65536)) throw Napi::RangeError::New(env, "DistGroup: masterPort must lie in 1..65535");
    if (!(timeout > 0)) throw Napi::RangeError::New(env, "DistGroup: timeoutMs must be > 0");
    opt.rank = static_cast<int>(rank);
    opt.size = static_cast<int>(size);
    opt.master_port = static_cast<int>(port);
    opt.timeout = Ms(static_cast<int64_t>(timeout));
    opt.rendezvous_timeout = Ms(static_cast<int64_t>(rdv > 0 ? rdv : timeout));
  }

  const c10::intrusive_ptr<GroupCore>& core() const { return core_; }
  uint32_t magic() const { return magic_; }

  GroupCore& Ready(const char* fn) {
    TORCH_CHECK(core_ && core_->connected(), "DistGroup.", fn, ": the group is not connected (or was destroyed)");
    return *core_;
  }

 private:
  // Runs `step` on the group's wait thread; the promise settles with what `step` returns.
  template <typename Step>
  Napi::Value OnGroupThread(const Napi::CallbackInfo& info, const char* fn, Step step) {
    try {
      TORCH_CHECK(core_, "DistGroup.", fn, ": the group was destroyed");
      auto g = core_;
      return WaitJob::Run(info.Env(), [g, step]() -> AsyncRunner::Finish { return step(*g); });
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value ConnectStore(const Napi::CallbackInfo& info) {
    return OnGroupThread(info, "connectStore", [](GroupCore& g) -> AsyncRunner::Finish {
      g.ConnectStore();
      return nullptr;
    });
  }

  Napi::Value ConnectBackend(const Napi::CallbackInfo& info) {
    return OnGroupThread(info, "connectBackend", [](GroupCore& g) -> AsyncRunner::Finish {
      g.ConnectBackend();
      return nullptr;
    });
  }

  Napi::Value StoreSet(const Napi::CallbackInfo& info) {
    std::string key = StringArg(info, 0, "storeSet", "key");
    std::string value = StringArg(info, 1, "storeSet", "value");
    return OnGroupThread(info, "storeSet", [key, value](GroupCore& g) -> AsyncRunner::Finish {
      g.StoreSet(key, value);
      return nullptr;
    });
  }

  Napi::Value StoreGet(const Napi::CallbackInfo& info) {
    std::string key = StringArg(info, 0, "storeGet", "key");
    return OnGroupThread(info, "storeGet", [key](GroupCore& g) -> AsyncRunner::Finish {
      std::string v = g.StoreGet(key);
      return [v](Napi::Env env) { return Napi::String::New(env, v); };
    });
  }

  Napi::Value StoreCheck(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) ThrowArgType(env, "storeCheck", "keys", "an array of strings");
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<std::string> keys;
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value v = a.Get(i);
      if (!v.IsString()) ThrowArgType(env, "storeCheck", "keys", "an array of strings");
      keys.push_back(v.As<Napi::String>().Utf8Value());
    }
    return OnGroupThread(info, "storeCheck", [keys](GroupCore& g) -> AsyncRunner::Finish {
      std::vector<bool> have = g.StoreCheck(keys);
      return [have](Napi::Env env) {
        Napi::Array out = Napi::Array::New(env, have.size());
        for (size_t i = 0; i < have.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, have[i]));
        return out;
      };
    });
  }

  // Submitted now (program order), waited for off the JS thread.
  Napi::Value Await(Napi::Env env, std::shared_future<WorkPtr> f, const char* what, AsyncRunner::Finish finish) {
    auto g = core_;
    std::string name(what);
    return WaitJob::Run(env, [g, f, name, finish]() -> AsyncRunner::Finish {
      WaitWork(*g, f.get(), name.c_str());
      return finish;
    });
  }

  Napi::Value AllReduce(const Napi::CallbackInfo& info) {
    try {
      constexpr const char* kFn = "allreduce";
      GroupCore& g = Ready(kFn);
      std::vector<at::Tensor> ts = TensorListArg(info, 0, kFn, "tensors");
      CheckTensors(ts, kFn);
      const int64_t op = OpArg(info, 1, kFn);
      auto f = g.Submit(CollectiveDesc::Of(CollectiveDesc::kAllreduce, ts, op), [ts, op](PgBase& pg) {
        std::vector<at::Tensor> io = ts;
        c10d::AllreduceOptions o;
        o.reduceOp = OpOf(op);
        return pg.allreduce(io, o);
      });
      return Await(info.Env(), f, kFn, nullptr);
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value AllReduceSync(const Napi::CallbackInfo& info) {
    try {
      constexpr const char* kFn = "allreduceSync";
      GroupCore& g = Ready(kFn);
      std::vector<at::Tensor> ts = TensorListArg(info, 0, kFn, "tensors");
      CheckTensors(ts, kFn);
      AllReduceNow(g, ts, OpArg(info, 1, kFn), "allreduce");
      return info.Env().Undefined();
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value AllGather(const Napi::CallbackInfo& info) {
    try {
      constexpr const char* kFn = "allgather";
      GroupCore& g = Ready(kFn);
      auto [f, result] = SubmitAllGather(g, TensorArg(info, 0, kFn, "tensor"));
      return Await(info.Env(), f, kFn, [result = result](Napi::Env env) { return WrapList(env, result); });
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value Broadcast(const Napi::CallbackInfo& info) {
    try {
      constexpr const char* kFn = "broadcast";
      GroupCore& g = Ready(kFn);
      std::vector<at::Tensor> ts = TensorListArg(info, 0, kFn, "tensors");
      CheckTensors(ts, kFn);
      const int64_t root = IsAbsent(info, 1) ? 0 : IntArg(info, 1, kFn, "root");
      TORCH_CHECK(root >= 0 && root < g.opt.size, "broadcast: root must lie in [0, worldSize)");
      auto f = g.Submit(CollectiveDesc::Of(CollectiveDesc::kBroadcast, ts, root), [ts, root](PgBase& pg) {
        std::vector<at::Tensor> io = ts;
        c10d::BroadcastOptions o;
        o.rootRank = root;
        return pg.broadcast(io, o);
      });
      return Await(info.Env(), f, kFn, nullptr);
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value Barrier(const Napi::CallbackInfo& info) {
    try {
      GroupCore& g = Ready("barrier");
      // A barrier as a one-element allreduce: works on every backend and version alike.
      std::vector<at::Tensor> one{at::zeros({1}, at::kFloat)};
  #if defined(ECF_WITH_NCCL)
      if (g.opt.backend == "nccl") one[0] = one[0].cuda();
  #endif
      auto f = g.Submit(CollectiveDesc::Of(CollectiveDesc::kBarrier, one), [one](PgBase& pg) {
        std::vector<at::Tensor> io = one;
        return pg.allreduce(io);
      });
      return Await(info.Env(), f, "barrier", nullptr);
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value Diagnose(const Napi::CallbackInfo& info) {
    try {
      Ready("diagnose");
      auto g = core_;
      return WaitJob::Run(info.Env(), [g]() -> AsyncRunner::Finish {
        std::string s = g->Diagnose();
        return [s](Napi::Env env) { return Napi::String::New(env, s); };
      });
    } catch (...) {
      RethrowAsJs(info.Env());
    }
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    if (core_) core_->Shutdown();
    return info.Env().Undefined();
  }

  uint32_t magic_ = kGroupMagic;
  c10::intrusive_ptr<GroupCore> core_;
};

}  // namespace

c10::intrusive_ptr<GroupCore> GroupArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsObject()) ThrowArgType(info.Env(), fn, "group", "a DistGroup");
  DistGroup* w = DistGroup::Unwrap(info[i].As<Napi::Object>());
  if (w == nullptr || w->magic() != kGroupMagic) ThrowArgType(info.Env(), fn, "group", "a DistGroup");
  w->Ready(fn);
  return w->core();
}

namespace {

// distAllGather(group, x, gradScale) → [world·B, …]
Napi::Value DistAllGather(const Napi::CallbackInfo& info) {
  constexpr const char* kFn = "distAllGather";
  c10::intrusive_ptr<GroupCore> g = GroupArg(info, 0, kFn);
  const at::Tensor& x = ECF_T(1, "x");
  const double scale = IsAbsent(info, 2) ? 1.0 : ECF_DBL(2, "gradScale");
  ECF_RET(AllGatherFn::apply(x, g, scale));
}

Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  uint32_t i = 0;
#if defined(ECF_WITH_GLOO)
  a.Set(i++, Napi::String::New(env, "gloo"));
#endif
#if defined(ECF_WITH_NCCL)
  a.Set(i++, Napi::String::New(env, "nccl"));
#endif
  (void)i;
  return a;
}

}  // namespace

#else  // no c10d headers: the functions exist and say why they cannot work

namespace {

Napi::Value DistBackends(const Napi::CallbackInfo& info) { return Napi::Array::New(info.Env()); }
Napi::Value NoDist(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(), "distributed: this build of the addon has no c10d (libtorch's distributed "
                                     "headers or libgloo-dev were missing when it was compiled)");
}

}  // namespace

#endif

}  // namespace dist

void RegisterDistributedOps(Napi::Env env, Napi::Object exports) {
  Export<dist::DistBackends>(env, exports, "distBackends");
#if defined(ECF_WITH_C10D)
  exports.Set("DistGroup", dist::DistGroup::Define(env));
  exports.Set("DistGradSync", dist::DefineDistGradSync(env));
  Export<dist::DistAllGather>(env, exports, "distAllGather");
#else
  Export<dist::NoDist>(env, exports, "DistGroup");
  Export<dist::NoDist>(env, exports, "DistGradSync");
  Export<dist::NoDist>(env, exports, "distAllGather");
#endif
}

}  // namespace ecf
