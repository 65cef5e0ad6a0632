"""bench:heads reference: the CurricularFace head in the official-code formulation
(HuangYG123/CurricularFace head/metrics.py),
forward + backward at batch 128, 512-d, in Python PyTorch (bench/heads.ts's reference interpreter, see bench/python.ts).

usage: <python> bench/heads_ref.py CLASSES ITERS THREADS [cpu|cuda]  -> JSON {ms, peakMiB, loss}
Peak memory on CPU: VmHWM reset through /proc/self/clear_refs after one warm-up step; peak =
VmHWM - VmRSS. On CUDA: torch.cuda.max_memory_allocated (reset after the warm-up) - allocated.
"""
import json
import math
import re
import sys
import time

import torch
import torch.nn as nn

from ref_setup import setup


def l2_norm(v, axis):
    # the official helper: no epsilon
    return torch.div(v, torch.norm(v, 2, axis, True))


class CurricularFace(nn.Module):
    def __init__(self, in_features, out_features, m=0.5, s=64.0):
        super().__init__()
        self.m, self.s = m, s
        self.cos_m, self.sin_m = math.cos(m), math.sin(m)
        self.threshold = math.cos(math.pi - m)
        self.mm = math.sin(math.pi - m) * m
        self.kernel = nn.Parameter(torch.empty(in_features, out_features))
        self.register_buffer("t", torch.zeros(1))
        nn.init.normal_(self.kernel, std=0.01)

    def forward(self, embeddings, label):
        embeddings = l2_norm(embeddings, 1)
        kernel_norm = l2_norm(self.kernel, 0)
        cos_theta = torch.mm(embeddings, kernel_norm).clamp(-1, 1)
        with torch.no_grad():
            origin_cos = cos_theta.clone()
        target_logit = cos_theta[torch.arange(0, embeddings.size(0)), label].view(-1, 1)
        sin_theta = torch.sqrt(1.0 - torch.pow(target_logit, 2))
        cos_theta_m = target_logit * self.cos_m - sin_theta * self.sin_m
        mask = cos_theta > cos_theta_m
        final_target_logit = torch.where(target_logit > self.threshold, cos_theta_m, target_logit - self.mm)
        hard_example = cos_theta[mask]
        with torch.no_grad():
            self.t = target_logit.mean() * 0.01 + (1 - 0.01) * self.t
        cos_theta[mask] = hard_example * (self.t + hard_example)
        cos_theta.scatter_(1, label.view(-1, 1).long(), final_target_logit)
        return cos_theta * self.s, origin_cos * self.s


def status_kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M).group(1))


def main():
    classes, iters, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    setup(threads)
    B, D = 128, 512
    head = CurricularFace(D, classes).to(device)
    x = torch.randn(B, D, device=device, requires_grad=True)
    y = torch.randint(0, classes, (B,), device=device)
    criterion = nn.CrossEntropyLoss()

    def step():
        head.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = head(x, y)
        loss = criterion(out, y)
        loss.backward()
        if device == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    step()
    head.zero_grad(set_to_none=True)
    x.grad = None
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_cuda = torch.cuda.memory_allocated()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = status_kib("VmRSS")
    times = []
    loss = 0.0
    for _ in range(iters):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1e3)
    peak = status_kib("VmHWM")
    times.sort()
    if device == "cuda":
        peak_mib = (torch.cuda.max_memory_allocated() - base_cuda) / 2**20
    else:
        peak_mib = (peak - base) / 1024
    print(json.dumps({"ms": times[len(times) // 2], "peakMiB": peak_mib, "loss": loss}))


if __name__ == "__main__":
    main()
