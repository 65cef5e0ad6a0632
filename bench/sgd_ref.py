"""Python PyTorch reference for bench/sgd.ts: one torch.optim.SGD step (momentum 0.9, two groups,
weight decay 5e-4 / 0) over MobileFaceNet-shaped parameters, for-loop and foreach implementations.

Run by bench/sgd.ts with its reference interpreter (bench/python.ts; Debian's python3-torch by default). Prints JSON {name: ms/step}.
"""
import json
import sys
import time

import torch

from ref_setup import setup

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 50
shapes = json.loads(sys.argv[3])
setup(threads)
params = [torch.randn(s, requires_grad=True) for s in shapes]
for p in params:
    p.grad = torch.randn_like(p)
decay = [p for p in params if p.dim() > 1]
no_decay = [p for p in params if p.dim() <= 1]
out = {}
for name, foreach in (("torch.optim.SGD for-loop", False), ("torch.optim.SGD foreach", True)):
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=0.1, momentum=0.9, foreach=foreach)
    for _ in range(5):
        opt.step()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(iters):
            opt.step()
        best = min(best, (time.perf_counter() - t0) * 1e3 / iters)
    out[name] = best
print(json.dumps(out))
