"""Set-up shared by the benchmarks' Python references (bench/*_ref.py): the same process-level
switches our addon sets when it loads (native/core/torch_setup.cc), so both sides run the same
kernels and print the same (clean) output.
"""
import os
import sys

import torch


def nnpack_off_where_unusable():
    """Turns NNPACK off where this torch has it but this CPU cannot run it.

    PyTorch 2.x, built with NNPACK, tries it on every eligible convolution and, where NNPACK
    cannot initialise (e.g. CPUs whose cache sizes it cannot read), logs "Could not initialize
    NNPACK! Reason: Unsupported hardware." each time, then falls back to another kernel. The
    probe itself logs that line once, so it runs with file descriptor 2 pointed at /dev/null.
    Debian's torch 1.13 has neither NNPACK (USE_NNPACK=OFF) nor the switch: nothing to do there.
    """
    nnpack = getattr(torch.backends, 'nnpack', None)
    if nnpack is None:
        try:
            import torch.backends.nnpack as nnpack  # torch >= 2.0
        except ImportError:
            return  # torch 1.13: no switch, and Debian's build has no NNPACK
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        usable = bool(torch._nnpack_available())
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    if not usable:
        nnpack.set_flags(False)


def setup(threads):
    """What every reference does first: the thread count, the NNPACK decision, seed 0."""
    torch.set_num_threads(int(threads))
    nnpack_off_where_unusable()
    torch.manual_seed(0)
