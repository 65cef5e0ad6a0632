#include "core/process_setup.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <c10/util/Logging.h>
#include <torch/csrc/api/include/torch/version.h>

#include <algorithm>
#include <mutex>

namespace ecf {
namespace {

std::once_flag configured;

// ---- NNPACK --------------------------------------------------------------------------------

#if TORCH_VERSION_MAJOR >= 2
// libtorch 2.x (PyTorch's wheels are built with NNPACK) asks whether NNPACK is available while it
// picks a kernel for every convolution that oneDNN does not take (e.g. 1×1 at one thread). Where
// NNPACK cannot initialise — its x86 start reads cache sizes through CPUID leaf 4, which AMD CPUs
// and many VMs do not answer — every such ask logs "Could not initialize NNPACK! Reason: Unsupported
// hardware." and falls back to another kernel. at::_nnpack_available() is that same ask, so the
// probe logs the line once too: it runs with c10's log threshold raised to ERROR (restored after;
// a TORCH_CPP_LOG_LEVEL the user set stays in force). Builds that log through glog (C10_USE_GLOG;
// PyTorch's wheels do not) may print the probe's one line.
bool NnpackUsable() {
#ifdef C10_USE_GLOG
  return at::_nnpack_available();
#else
  const int level = FLAGS_caffe2_log_level;
  FLAGS_caffe2_log_level = std::max(level, c10::GLOG_ERROR);
  const bool usable = at::_nnpack_available();
  FLAGS_caffe2_log_level = level;
  return usable;
#endif
}
#endif

void DisableNnpackWhereUnusable() {
#if TORCH_VERSION_MAJOR >= 2
  // Off where unusable, so that libtorch never asks (nor logs) again. The switch
  // (Context::setUserEnabledNNPACK; torch.backends.nnpack in Python) exists from libtorch 2.0.
  if (!NnpackUsable()) at::globalContext().setUserEnabledNNPACK(false);
#endif
  // libtorch 1.13 has no such switch; Debian's 1.13 build has no NNPACK (USE_NNPACK=OFF).
}

}  // namespace

void ConfigureProcessOnce() {
  std::call_once(configured, [] {
    DisableNnpackWhereUnusable();
  });
}

bool NnpackEnabled() {
#if TORCH_VERSION_MAJOR >= 2
  // userEnabledNNPACK() is false where ConfigureProcessOnce found NNPACK unusable: the ask
  // (which would log) is then never reached.
  return at::globalContext().userEnabledNNPACK() && at::_nnpack_available();
#else
  return at::_nnpack_available();
#endif
}

}  // namespace ecf
