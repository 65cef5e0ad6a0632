"""Python PyTorch reference for bench/ops.ts: per-call cost of small eager ops (µs/op).

Run by bench/ops.ts with /usr/bin/python3 (Debian's python3-torch, the same libtorch build).
Prints one JSON object {op: microseconds}. Each op's result is dropped at once, as in the
TypeScript side where it is disposed.
"""
import json
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
torch.set_num_threads(threads)
torch.manual_seed(0)

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

out = {}
for name, fn in ops.items():
    for _ in range(iters // 10):
        fn()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters * 1e6)
    out[name] = best
print(json.dumps(out))
