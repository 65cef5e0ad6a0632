// Process-wide settings the addon makes when it first loads: libtorch's NNPACK switch and the C
// library's heap policy. Both are per process (libtorch's global context, glibc's malloc), so they
// are made once, whichever Node environment (main thread or worker_thread) loads the addon first.
#pragma once

#include <string>

namespace ecf {

// Called by Init in every Node environment; its work runs once per process.
void ConfigureProcessOnce();

// Whether libtorch may run convolutions through NNPACK here: built with it, usable on this CPU,
// and not switched off by ConfigureProcessOnce.
bool NnpackEnabled();

// The heap policy in force for tensor memory, in words (for buildInfo and `ecacface info`).
std::string CpuMallocPolicy();

}  // namespace ecf
