#!/usr/bin/python3
"""Python PyTorch reference for bench/backbones.ts: forward+backward time of the same backbones.

Usage: backbones_ref.py THREADS BATCH WARMUP ITERS CONFIG...   (CONFIG = arch:attention, e.g. ir50:esca)
Prints JSON {config: median seconds per forward+backward}. The models are the independent
implementations of test/fixtures/models/make_backbones.py (the spec's layouts), in float32.
"""
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'fixtures', 'models'))
from make_backbones import IR, MobileFaceNet  # noqa: E402

UNITS = {'ir18': [2, 2, 2, 2], 'ir34': [3, 4, 6, 3], 'ir50': [3, 4, 14, 3], 'ir101': [3, 13, 30, 3], 'ir152': [3, 8, 36, 3]}


def build(arch, att):
    return MobileFaceNet(att) if arch == 'mobilefacenet' else IR(UNITS[arch], att)


def main():
    threads, batch, warmup, iters = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    for cfg in sys.argv[5:]:
        arch, att = cfg.split(':')
        model = build(arch, att).train()
        x = torch.randn(batch, 3, 112, 112)
        times = []
        for i in range(warmup + iters):
            t0 = time.perf_counter()
            model(x).sum().backward()
            model.zero_grad(set_to_none=True)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
        times.sort()
        out[cfg] = times[len(times) // 2]
        del model
    print(json.dumps(out))


if __name__ == '__main__':
    main()
