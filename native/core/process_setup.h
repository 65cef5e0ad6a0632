// Process-wide settings the addon makes when it first loads: libtorch's NNPACK switch. It is per
// process (libtorch's global context), so it is made once, whichever Node environment (main thread
// or worker_thread) loads the addon first.
#pragma once

namespace ecf {

// Called by Init in every Node environment; its work runs once per process.
void ConfigureProcessOnce();

// Whether libtorch may run convolutions through NNPACK here: built with it, usable on this CPU,
// and not switched off by ConfigureProcessOnce.
bool NnpackEnabled();

}  // namespace ecf
