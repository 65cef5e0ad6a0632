"""Python PyTorch reference for bench/esca-op.ts: ESCA composed of eager ops, forward + backward.

Run by bench/esca-op.ts with its reference interpreter (bench/python.ts; Debian's python3-torch by default).
Arguments: threads, reps, JSON list of [N, C, H, W], and optionally the layout of x and of the
output gradient ('contiguous', the default, or 'channels_last'). Prints a JSON list of median milliseconds,
one per shape, timed exactly like the TypeScript side (2 warm-up runs, median of reps).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

from ref_setup import setup

threads = int(sys.argv[1])
reps = int(sys.argv[2])
shapes = json.loads(sys.argv[3])
fmt = torch.channels_last if len(sys.argv) > 4 and sys.argv[4] == 'channels_last' else torch.contiguous_format
setup(threads)


def k_of(c):
    t = int(abs(math.log2(c) / 2 + 0.5))
    return t if t % 2 == 1 else t + 1


def esca(x, wca, wsa):
    n, c = x.shape[:2]
    k = wca.shape[2]
    a = torch.sigmoid(F.conv1d(x.mean((2, 3)).view(n, 1, c), wca, padding=(k - 1) // 2)).view(n, c, 1, 1)
    y = x * a
    s = torch.cat([F.avg_pool2d(y, 3, 1, 1, count_include_pad=True), F.max_pool2d(y, 3, 1, 1)], 1)
    return y * torch.sigmoid(F.conv2d(s, wsa, padding=1))


out = []
for n, c, h, w in shapes:
    x = torch.randn(n, c, h, w).contiguous(memory_format=fmt).requires_grad_()
    wca = torch.randn(1, 1, k_of(c), requires_grad=True)
    wsa = (torch.randn(1, 2 * c, 3, 3) / math.sqrt(18 * c)).requires_grad_()
    go = torch.randn(n, c, h, w).contiguous(memory_format=fmt)

    def once():
        for t in (x, wca, wsa):
            t.grad = None
        esca(x, wca, wsa).backward(go)

    once()
    once()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        once()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    out.append(times[len(times) // 2])
print(json.dumps(out))
