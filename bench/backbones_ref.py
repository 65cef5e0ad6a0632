"""Python PyTorch reference for bench/backbones.ts: one training step of the same backbones.

Runs as a server driven line by line over stdin/stdout, so that the TypeScript side can interleave
one iteration of ours with one of Python's (both then see the same machine load):
    backbones_ref.py THREADS [contiguous|channels_last]
    > build ARCH ATTENTION BATCH MODE SGD   < ok | error <why>
          MODE: eager | compile (torch.compile of the model, default inductor backend)
          SGD:  0 (forward + backward) | 1 (forward + backward + SGD step)
    > step                                  < <wall seconds> <process CPU seconds> <minor page faults> of one step
    > quit
The models are the independent implementations of test/fixtures/models/make_backbones.py (the
spec's layouts), in float32, train mode; the input is a fixed random batch. The SGD step is
torch.optim.SGD (its default implementation), lr 0.1, momentum 0.9, weight decay 5e-4 except on
BatchNorm parameters, as our trainer. Under torch.compile the first steps compile (forward on the
first, backward on the first backward): the TypeScript side counts them as warm-up.
"""
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'fixtures', 'models'))
from make_backbones import IR, MobileFaceNet  # noqa: E402
from ref_setup import setup  # noqa: E402

UNITS = {'ir18': [2, 2, 2, 2], 'ir34': [3, 4, 6, 3], 'ir50': [3, 4, 14, 3], 'ir101': [3, 13, 30, 3], 'ir152': [3, 8, 36, 3]}


def sgd_for(model):
    decay, no_decay = [], []
    for m in model.modules():
        params = list(m.parameters(recurse=False))
        (no_decay if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) else decay).extend(params)
    return torch.optim.SGD([{'params': decay, 'weight_decay': 5e-4}, {'params': no_decay, 'weight_decay': 0.0}], lr=0.1, momentum=0.9)


def main():
    setup(sys.argv[1])
    fmt = torch.channels_last if len(sys.argv) > 2 and sys.argv[2] == 'channels_last' else torch.contiguous_format
    model = run = x = opt = None
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == 'build':
            arch, att, batch = cmd[1], cmd[2], int(cmd[3])
            mode = cmd[4] if len(cmd) > 4 else 'eager'
            with_sgd = len(cmd) > 5 and cmd[5] == '1'
            model = run = x = opt = None
            try:
                model = (MobileFaceNet(att) if arch == 'mobilefacenet' else IR(UNITS[arch], att)).train()
                model = model.to(memory_format=fmt)
                x = torch.randn(batch, 3, 112, 112).contiguous(memory_format=fmt)
                opt = sgd_for(model) if with_sgd else None
                run = torch.compile(model) if mode == 'compile' else model
                reply = 'ok'
            except Exception as e:  # noqa: BLE001 — the reason goes back to the caller
                reply = 'error ' + (str(e).splitlines() or [type(e).__name__])[0]
        elif cmd[0] == 'step':
            try:
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0, c0 = time.perf_counter(), time.process_time()
                run(x).sum().backward()
                if opt is not None:
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                else:
                    model.zero_grad(set_to_none=True)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                reply = f'{wall!r} {cpu!r} {resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0}'
            except Exception as e:  # noqa: BLE001 — torch.compile may fail at its first call
                reply = 'error ' + (str(e).splitlines() or [type(e).__name__])[0]
        elif cmd[0] == 'quit':
            break
        else:
            reply = 'error unknown command ' + cmd[0]
        sys.stdout.write(reply + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
