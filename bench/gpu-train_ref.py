#!/usr/bin/env python3
"""PyTorch eager reference for bench/gpu-train.ts: the same train step on the same card.

A server driven line by line over stdin; one JSON line answers each command:
    gpu-train_ref.py DEVICE
    > info N                                      < {"torch", "cuda", "card", "matmulTflops"}  (bf16 N³ matmul)
    > run ARCH ATTENTION BATCH CLASSES WARMUP ITERS < {"imgPerSec", "msPerStep", "loss", "peakGB"}
      (peakGB: torch.cuda.max_memory_allocated over the timed steps, GiB; null on the CPU)
    > quit
A step is what insightface arcface_torch / the CurricularFace code do, tuned the usual way:
channels_last model and input, torch.backends.cudnn.benchmark, bfloat16 autocast around the
backbone, the official CurricularFace head in float32 on the float embedding, loss.item() every
step, torch.optim.SGD(foreach=True) momentum 0.9, weight decay 5e-4 except BatchNorm. The models
are the independent layouts of test/fixtures/models/make_backbones.py (ESCA composed of ATen ops,
as PyTorch users write it). Everything is freed (and the allocator's cache emptied) after a run.
"""
import json
import os
import sys
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'fixtures', 'models'))
sys.path.insert(0, HERE)
import make_attention  # noqa: E402
from make_backbones import IR, MobileFaceNet  # noqa: E402
from heads_ref import CurricularFace  # noqa: E402

# Flatten by view fails on channels_last activations; reshape is what a channels_last user writes.
make_attention.Flatten.forward = lambda self, x: x.reshape(x.size(0), -1)

UNITS = {'ir18': [2, 2, 2, 2], 'ir34': [3, 4, 6, 3], 'ir50': [3, 4, 14, 3], 'ir101': [3, 13, 30, 3], 'ir152': [3, 8, 36, 3]}


def sync(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def info(dev, n):
    out = {'torch': torch.__version__, 'cuda': torch.version.cuda,
           'card': torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu'}
    dt = torch.bfloat16 if dev.type == 'cuda' else torch.float32
    a = torch.randn(n, n, device=dev, dtype=dt)
    b = torch.randn(n, n, device=dev, dtype=dt)
    for _ in range(3):
        a @ b
    sync(dev)
    reps = 10
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(dev)
    out['matmulTflops'] = 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12
    return out


def run(dev, arch, att, batch, classes, warmup, iters):
    torch.manual_seed(0)
    model = (MobileFaceNet(att) if arch == 'mobilefacenet' else IR(UNITS[arch], att)).to(dev)
    model = model.to(memory_format=torch.channels_last).train()
    head = CurricularFace(512, classes).to(dev).train()
    decay, no_decay = [], []
    for m in model.modules():
        for p in m.parameters(recurse=False):
            (no_decay if isinstance(m, nn.modules.batchnorm._BatchNorm) else decay).append(p)
    opt = torch.optim.SGD([{'params': decay + list(head.parameters()), 'weight_decay': 5e-4},
                           {'params': no_decay, 'weight_decay': 0.0}], lr=0.1, momentum=0.9, foreach=True)
    x = torch.randn(batch, 3, 112, 112, device=dev).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,), device=dev)
    amp = dev.type == 'cuda'
    ce = nn.CrossEntropyLoss()
    loss_v = float('nan')

    def step():
        nonlocal loss_v
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            emb = model(x)
        logits, _ = head(emb.float(), y)
        loss = ce(logits, y)
        loss_v = loss.item()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    sync(dev)
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    sync(dev)
    sec = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == 'cuda' else None
    del model, head, opt, x, y
    if dev.type == 'cuda':
        torch.cuda.empty_cache()
    return {'imgPerSec': batch * iters / sec, 'msPerStep': 1000 * sec / iters, 'loss': loss_v, 'peakGB': peak}


def main():
    dev = torch.device(sys.argv[1] if len(sys.argv) > 1 else 'cuda')
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        try:
            if cmd[0] == 'info':
                reply = info(dev, int(cmd[1]))
            elif cmd[0] == 'run':
                reply = run(dev, cmd[1], cmd[2], *map(int, cmd[3:7]))
            elif cmd[0] == 'quit':
                break
            else:
                reply = {'error': 'unknown command ' + cmd[0]}
        except Exception as e:  # noqa: BLE001 - reported to the driver, which goes on
            if dev.type == 'cuda':
                torch.cuda.empty_cache()
            reply = {'error': f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
