// The process group shared by the files of native/distributed/: the c10d headers this folder
// needs (per libtorch version), a group's options and state (GroupCore), the wait that names what
// failed, and the JS-argument unwrap. process_group.cc implements the group and its collectives;
// grad_sync.cc the bucketed gradient allreduce built on it.
#pragma once

#if defined(ECF_WITH_C10D)

#include <napi.h>

#include <ATen/core/ivalue.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
// libtorch 2.x: Gloo and NCCL are c10d::Backends (ProcessGroup dispatches to them), and the
// Backend, Work, ReduceOp and *Options types come from their own headers; a file that got them
// only through ProcessGroupGloo.hpp does not compile where no gloo/ headers are found (the wheels
// ship none). libtorch 1.13: they are c10d::ProcessGroups.
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ecf {
namespace dist {

#if TORCH_VERSION_MAJOR >= 2
using PgBase = c10d::Backend;  // libtorch 2.x
#else
using PgBase = c10d::ProcessGroup;  // libtorch 1.13
#endif
using WorkPtr = c10::intrusive_ptr<c10d::Work>;
using Ms = std::chrono::milliseconds;

struct GroupOptions {
  std::string backend = "gloo";
  int rank = 0;
  int size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string store_path;  // FileStore instead of TCPStore when set
  std::string external_store_prefix;  // the launcher serves the TCPStore; our keys under this prefix
  Ms timeout{300000};             // each collective
  Ms rendezvous_timeout{300000};  // reaching the store, waiting on its keys, the backend's connections
  bool check_collectives = true;  // compare each collective across ranks before it starts (issue.cc)
};

// What a collective is, as the ranks compare it before it starts (GroupCore::Submit).
struct CollectiveDesc {
  enum Kind : int64_t { kAllreduce = 1, kAllgather = 2, kBroadcast = 3, kBarrier = 4 };
  int64_t kind = 0;
  int64_t dtype = 0;   // c10::ScalarType of the tensors
  int64_t numel = 0;   // over all the tensors
  int64_t detail = 0;  // allreduce: the op (ReduceCode); broadcast: the root
  c10::Device device = c10::kCPU;  // the tensors' (the check travels there: CUDA for NCCL)

  // `kind` over `ts` (one dtype and device: the first tensor's).
  static CollectiveDesc Of(Kind kind, const std::vector<at::Tensor>& ts, int64_t detail = 0);
};

// An allreduce op's code in a CollectiveDesc ('sum' 0, 'max' 1, 'min' 2, 'product' 3).
int64_t ReduceCode(const std::string& op);

// The shared state of one group: the JS wrapper, autograd nodes, gradient buckets and pending
// waits hold it. A CustomClassHolder so an autograd context can keep it as a capsule for the
// backward.
struct GroupCore : torch::CustomClassHolder {
  GroupOptions opt;
  c10::intrusive_ptr<c10d::Store> store;
  std::mutex store_mu;  // the JS side's store operations (a TCPStore client is not shared between threads)
  c10::intrusive_ptr<PgBase> pg;
  std::atomic<int64_t> issued{0};  // collectives enqueued by this rank
  std::atomic<bool> failed{false};  // a collective failed or timed out

  // the collectives' thread (Submit)
  struct Job {
    CollectiveDesc desc;
    int64_t seq = 0;
    std::function<WorkPtr(PgBase&)> issue;
    std::promise<WorkPtr> done;
  };
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Job> q_jobs;
  bool q_busy = false;  // a collective is being checked and started (by the thread or by Run)
  bool q_stop = false;
  std::thread q_thread;

  // heartbeat
  c10::intrusive_ptr<c10d::Store> hb_store;
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool hb_stop = false;
  std::thread hb_thread;

  ~GroupCore() override { Shutdown(); }

  void Shutdown();
  bool connected() const { return static_cast<bool>(pg); }
  // Rendezvous, step 1: the store (rank 0 serves it unless the launcher does). No rank waits for
  // the others here (TCPStore's own wait says nothing while it waits): lib/distributed/rendezvous.ts
  // joins them through the store's keys.
  void ConnectStore();
  // The JS side's store operations (the group's own keys, beside the backend's).
  void StoreSet(const std::string& key, const std::string& value);
  std::string StoreGet(const std::string& key);  // waits up to the rendezvous timeout
  std::vector<bool> StoreCheck(const std::vector<std::string>& keys);
  // Step 2, once every rank has joined: the backend's connections, then the heartbeat thread and
  // the collectives' thread.
  void ConnectBackend();

  // Every collective goes through here, in the order submitted, on the group's collectives thread
  // (issue.cc): the ranks first all-gather and compare each one's description (a fixed-size
  // header, so the check itself cannot disagree in size), and only if all agree is `issue` called.
  // Ranks at different collectives (another size, dtype, device, kind, op or root, or out of step)
  // fail with an Error naming each rank's, instead of meeting in Gloo with different sizes (which
  // aborts the process from Gloo's own thread) or exchanging mismatched data. Resolves to the
  // issued work, which the caller waits for; after a failed wait, later collectives fail at once.
  std::shared_future<WorkPtr> Submit(const CollectiveDesc& d, std::function<WorkPtr(PgBase&)> issue,
                                     bool inline_if_idle = false);
  // Submit, then wait for the work (WaitWork's errors, naming `what`).
  void Run(const CollectiveDesc& d, std::function<WorkPtr(PgBase&)> issue, const char* what);
  // Which ranks are dead or behind, in words ("" when every rank looks healthy).
  std::string Diagnose();

 private:
  c10::intrusive_ptr<c10d::Store> MakeStore(bool server) const;
  void CollectivesLoop();
  void Start(Job& job);
  void CheckAgreement(const Job& job);
  void Beat(int64_t n);
  void HeartbeatLoop();
};

// Waits for a work with the group's timeout; the error names the collective, the rank and the
// ranks that look dead or behind.
void WaitWork(GroupCore& g, const WorkPtr& w, const char* what);

// The connected group of the DistGroup passed as argument `i` (a JS error naming `fn` otherwise).
c10::intrusive_ptr<GroupCore> GroupArg(const Napi::CallbackInfo& info, size_t i, const char* fn);

// The DistGradSync class (grad_sync.cc).
Napi::Function DefineDistGradSync(Napi::Env env);

}  // namespace dist
}  // namespace ecf

#endif  // ECF_WITH_C10D
