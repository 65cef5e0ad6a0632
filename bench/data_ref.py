#!/usr/bin/python3
"""Python reference loader for bench/data.ts: what insightface's MXFaceDataset + a torch
DataLoader worker do per image, without mxnet/torch: read the record at the idx offset, unpack
the IRHeader, PIL-decode the JPEG to RGB, random horizontal flip (p = 0.5), (x/255 - 0.5)/0.5,
HWC -> CHW float32, then stack whole batches. Single process (one core).

Usage: /usr/bin/python3 bench/data_ref.py <rec-dir> <batch-size> <max-images>
Prints one JSON line: {"images", "wall_s", "cpu_s"}.
"""
import io, json, os, struct, sys, time
import numpy as np
from PIL import Image

MAGIC = 0xCED7230A

def read_record(f, off):
    out = b''
    while True:
        f.seek(off)
        magic, lrec = struct.unpack('<II', f.read(8))
        assert magic == MAGIC
        cflag, length = lrec >> 29, lrec & ((1 << 29) - 1)
        out += f.read(length)
        off += 8 + ((length + 3) & ~3)
        if cflag in (0, 3):
            return out
        out += struct.pack('<I', MAGIC)

def main():
    d, bs, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    idx = {}
    with open(os.path.join(d, 'train.idx')) as fi:
        for line in fi:
            k, o = line.strip().split('\t')
            idx[int(k)] = int(o)
    f = open(os.path.join(d, 'train.rec'), 'rb')
    flag, _, _, _ = struct.unpack('<IfQQ', read_record(f, idx[0])[:24])
    h = read_record(f, idx[0])
    n = int(struct.unpack('<f', h[24:28])[0]) - 1
    keys = list(range(1, min(n, limit) + 1))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(keys))
    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    for s in range(0, len(order) - bs + 1, bs):
        imgs, labels = [], []
        for j in order[s:s + bs]:
            rec = read_record(f, idx[keys[j]])
            flag, label, _, _ = struct.unpack('<IfQQ', rec[:24])
            start = 24 + 4 * flag
            if flag > 0:
                label = struct.unpack('<f', rec[24:28])[0]
            img = np.asarray(Image.open(io.BytesIO(rec[start:])).convert('RGB'))
            if rng.random() < 0.5:
                img = img[:, ::-1]
            x = (img.astype(np.float32) / 255.0 - 0.5) / 0.5
            imgs.append(x.transpose(2, 0, 1))
            labels.append(int(label))
        batch = np.ascontiguousarray(np.stack(imgs))
        lab = np.asarray(labels, dtype=np.int64)
        done += batch.shape[0]
    print(json.dumps({'images': done, 'wall_s': time.perf_counter() - t0, 'cpu_s': time.process_time() - c0}))

main()
