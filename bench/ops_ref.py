"""Python PyTorch reference for bench/ops.ts: per-call cost of small eager ops (µs/op).

Runs as a server driven line by line over stdin/stdout, so that bench/ops.ts can alternate its own
rounds with Python's (both then see the same machine load):
    ops_ref.py THREADS
    > op NAME ITERS     < <µs per call> (one round: ITERS calls after ITERS/10 warm-up calls)
    > quit
Each op's result is dropped at once, as on the TypeScript side where it is disposed.
"""
import sys
import time

import torch

from ref_setup import setup

setup(sys.argv[1] if len(sys.argv) > 1 else 1)

a = torch.randn(16)
b = torch.randn(16)
m = torch.randn(8, 8)
img = torch.randn(1, 3, 8, 8)
w = torch.randn(4, 3, 3, 3)
big = torch.randn(4, 16)

ops = {
    "add": lambda: a + b,
    "mul_scalar": lambda: a * 2.5,
    "sigmoid": lambda: a.sigmoid(),
    "sum": lambda: a.sum(),
    "matmul_8x8": lambda: m @ m,
    "view": lambda: big.view(8, 8),
    "cat": lambda: torch.cat([a, b], 0),
    "conv2d_small": lambda: torch.nn.functional.conv2d(img, w, None, 1, 1),
    "zeros": lambda: torch.zeros(16),
}


def round_us(fn, iters):
    for _ in range(iters // 10):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters * 1e6


for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    if cmd[0] == "quit":
        break
    if cmd[0] == "op" and len(cmd) == 3 and cmd[1] in ops:
        reply = repr(round_us(ops[cmd[1]], int(cmd[2])))
    else:
        reply = "error unknown command " + line.strip()
    sys.stdout.write(reply + "\n")
    sys.stdout.flush()
