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
#include <mutex>
#include <string>
#include <thread>

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
  Ms rendezvous_timeout{300000};  // the store and the backend's connections (≥ timeout)
};

// The shared state of one group: the JS wrapper, autograd nodes, gradient buckets and pending
// waits hold it. A CustomClassHolder so an autograd context can keep it as a capsule for the
// backward.
struct GroupCore : torch::CustomClassHolder {
  GroupOptions opt;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PgBase> pg;
  std::atomic<int64_t> issued{0};  // collectives enqueued by this rank
  std::atomic<bool> failed{false};  // a collective failed or timed out

  // heartbeat
  c10::intrusive_ptr<c10d::Store> hb_store;
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool hb_stop = false;
  std::thread hb_thread;

  ~GroupCore() override { Shutdown(); }

  void Shutdown();
  bool connected() const { return static_cast<bool>(pg); }
  // Store + backend rendezvous (blocking), then the heartbeat thread.
  void Connect();
  // Which ranks are dead or behind, in words ("" when every rank looks healthy).
  std::string Diagnose();

 private:
  c10::intrusive_ptr<c10d::Store> MakeStore(bool server, bool worker) const;
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
