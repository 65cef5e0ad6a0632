#include "core/process_setup.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <c10/util/Logging.h>
#include <torch/csrc/api/include/torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

// ---- the C library's heap ------------------------------------------------------------------

// libtorch's CPU allocator takes every tensor from malloc and gives it back at once (it caches
// nothing on the CPU). glibc's malloc by default adapts its thresholds as it goes: blocks above
// the mmap threshold (128 KiB at first, raised up to 32 MiB as such blocks are freed) are mapped
// and unmapped one by one, and whenever more than the trim threshold (twice the mmap threshold) is
// free at the top of the heap it is handed back to the kernel. A training step frees most of what
// it allocated, so depending on that history the next step faults in 100+ MiB of fresh zeroed pages
// again (measured: ~35,000 minor faults per MobileFaceNet step at batch 8, user+system CPU time
// 1.6× that of a step without them), or does not: which configuration a process ran first decided
// how fast the next ran (issue 27). Fixed thresholds keep the freed heap for the next step.
constexpr int kMmapThreshold = 32 << 20;  // glibc's own ceiling for the adaptive threshold (64-bit)
constexpr int kTrimThreshold = 1 << 30;   // free heap above this is still given back

bool UserChoseMalloc() {
  if (const char* v = std::getenv("ECACFACE_MALLOC"); v != nullptr && std::strcmp(v, "system") == 0) return true;
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t != nullptr && std::strstr(t, "glibc.malloc.") != nullptr) return true;
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

bool malloc_fixed = false;  // written once, under `configured`

void FixMallocThresholds() {
#if defined(__GLIBC__)
  if (UserChoseMalloc()) return;
  // mallopt returns 1 on success; setting either threshold also stops glibc adapting the other.
  malloc_fixed = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#endif
}

}  // namespace

void ConfigureProcessOnce() {
  std::call_once(configured, [] {
    DisableNnpackWhereUnusable();
    FixMallocThresholds();
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

std::string CpuMallocPolicy() {
  if (malloc_fixed) return "glibc, fixed thresholds (mmap 32 MiB, trim 1 GiB)";
  return "system default";
}

}  // namespace ecf
