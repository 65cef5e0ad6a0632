#!/usr/bin/python3
"""Python PyTorch reference for bench/backbones.ts: forward+backward of the same backbones.

Runs as a server driven line by line over stdin/stdout, so that the TypeScript side can interleave
one iteration of ours with one of Python's (both then see the same machine load):
    backbones_ref.py THREADS [contiguous|channels_last]
    > build ARCH ATTENTION BATCH      < ok
    > step                            < <wall seconds> <process CPU seconds> of one forward+backward
    > quit
The models are the independent implementations of test/fixtures/models/make_backbones.py (the
spec's layouts), in float32, train mode; the input is a fixed random batch.
"""
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'fixtures', 'models'))
from make_backbones import IR, MobileFaceNet  # noqa: E402

UNITS = {'ir18': [2, 2, 2, 2], 'ir34': [3, 4, 6, 3], 'ir50': [3, 4, 14, 3], 'ir101': [3, 13, 30, 3], 'ir152': [3, 8, 36, 3]}


def main():
    torch.set_num_threads(int(sys.argv[1]))
    fmt = torch.channels_last if len(sys.argv) > 2 and sys.argv[2] == 'channels_last' else torch.contiguous_format
    torch.manual_seed(0)
    model = x = None
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == 'build':
            arch, att, batch = cmd[1], cmd[2], int(cmd[3])
            model = x = None
            model = (MobileFaceNet(att) if arch == 'mobilefacenet' else IR(UNITS[arch], att)).train()
            model = model.to(memory_format=fmt)
            x = torch.randn(batch, 3, 112, 112).contiguous(memory_format=fmt)
            reply = 'ok'
        elif cmd[0] == 'step':
            t0, c0 = time.perf_counter(), time.process_time()
            model(x).sum().backward()
            model.zero_grad(set_to_none=True)
            reply = f'{time.perf_counter() - t0!r} {time.process_time() - c0!r}'
        elif cmd[0] == 'quit':
            break
        else:
            reply = 'error unknown command ' + cmd[0]
        sys.stdout.write(reply + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
