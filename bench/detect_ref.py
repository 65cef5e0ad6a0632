#!/usr/bin/python3
"""Reference timing for bench/detect.ts: the same MTCNN cascade written the usual way in Python with PyTorch
ops (Debian's python3-torch, the same libtorch 1.13 as the addon): a loop over the pyramid scales with one
P-Net pass each, torchvision-free NMS in torch ops, R-Net/O-Net crops cut and resized box by box with
F.interpolate (bilinear, antialias), the same weights (weights/mtcnn/mtcnn.safetensors) and thresholds.
Usage: detect_ref.py <weights.safetensors> <photos.rgb> <count> <width> <height> <repeats> <threads>
Prints JSON {seconds: [per repeat], faces: [[box, score, landmarks] of photo 0]}."""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ref_setup import nnpack_off_where_unusable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "tflite"))
import safetensors  # noqa: E402


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.conv4_2 = nn.Conv2d(32, 2, 1), nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return F.softmax(self.conv4_1(x), 1)[:, 1], self.conv4_2(x)


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu4(self.dense4(self.prelu3(self.conv3(x)).flatten(1)))
        return F.softmax(self.dense5_1(x), 1)[:, 1], self.dense5_2(x)


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu5(self.dense5(self.prelu4(self.conv4(x)).flatten(1)))
        return F.softmax(self.dense6_1(x), 1)[:, 1], self.dense6_2(x), self.dense6_3(x)


def load(path):
    tensors, _ = safetensors.load(path)
    nets = {"pnet": PNet(), "rnet": RNet(), "onet": ONet()}
    for name, net in nets.items():
        sd = {k[len(name) + 1:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith(name + ".")}
        net.load_state_dict(sd)
        net.eval()
    return nets


def nms(boxes, scores, thr, mode="union"):
    """Greedy NMS in torch ops (no torchvision): the original's +1 areas."""
    x1, y1, x2, y2 = boxes.unbind(1)
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest]) + 1).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest]) + 1).clamp(min=0)
        inter = w * h
        o = inter / (torch.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter)
        order = rest[o <= thr]
    return torch.tensor(keep, dtype=torch.long)


def rerec(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    l = torch.maximum(w, h)
    b[:, 0] = b[:, 0] + w * 0.5 - l * 0.5
    b[:, 1] = b[:, 1] + h * 0.5 - l * 0.5
    b[:, 2:4] = b[:, 0:2] + l[:, None]
    return b


def bbreg(b, reg, plus=1):
    w, h = b[:, 2] - b[:, 0] + plus, b[:, 3] - b[:, 1] + plus
    return torch.stack([b[:, 0] + reg[:, 0] * w, b[:, 1] + reg[:, 1] * h, b[:, 2] + reg[:, 2] * w, b[:, 3] + reg[:, 3] * h], 1)


def crops(img, boxes, size):
    """img [3, H, W] uint8-valued float; boxes 1-based inclusive ints; zero padding outside."""
    _, H, W = img.shape
    out = []
    for x1, y1, x2, y2 in boxes.long().tolist():
        tmp = torch.zeros(3, y2 - y1 + 1, x2 - x1 + 1)
        sx, sy, ex, ey = max(x1 - 1, 0), max(y1 - 1, 0), min(x2, W), min(y2, H)
        if ex > sx and ey > sy:
            tmp[:, sy - (y1 - 1):ey - (y1 - 1), sx - (x1 - 1):ex - (x1 - 1)] = img[:, sy:ey, sx:ex]
        out.append(F.interpolate(tmp[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True))
    return (torch.cat(out) - 127.5) * 0.0078125


@torch.no_grad()
def detect(nets, img, minsize=20, factor=0.709, t=(0.6, 0.7, 0.7)):
    _, h, w = img.shape
    m = 12.0 / minsize
    minl = min(h, w) * m
    scales = []
    while minl >= 12:
        scales.append(m * factor ** len(scales))
        minl *= factor
    all_boxes = []
    for s in scales:
        hs, ws = int(math.ceil(h * s)), int(math.ceil(w * s))
        x = (F.interpolate(img[None], size=(hs, ws), mode="bilinear", align_corners=False, antialias=True) - 127.5) * 0.0078125
        prob, reg = nets["pnet"](x)
        ys, xs = torch.nonzero(prob[0] >= t[0], as_tuple=True)
        if ys.numel() == 0:
            continue
        b = torch.stack([torch.trunc((2 * xs + 1) / s), torch.trunc((2 * ys + 1) / s), torch.trunc((2 * xs + 12) / s),
                         torch.trunc((2 * ys + 12) / s)], 1).float()
        sc = prob[0, ys, xs]
        r = reg[0, :, ys, xs].t()
        k = nms(b, sc, 0.5)
        all_boxes.append(torch.cat([b[k], sc[k, None], r[k]], 1))
    if not all_boxes:
        return []
    tb = torch.cat(all_boxes)
    tb = tb[nms(tb[:, :4], tb[:, 4], 0.7)]
    b = torch.trunc(rerec(bbreg(tb[:, :4], tb[:, 5:9], plus=0)))
    # R-Net
    prob, reg = nets["rnet"](crops(img, b, 24))
    ok = prob > t[1]
    b, sc, reg = b[ok], prob[ok], reg[ok]
    if b.shape[0] == 0:
        return []
    k = nms(b, sc, 0.7)
    b = torch.trunc(rerec(bbreg(b[k], reg[k])))
    # O-Net
    prob, reg, lm = nets["onet"](crops(img, b, 48))
    ok = prob > t[2]
    b, sc, reg, lm = b[ok], prob[ok], reg[ok], lm[ok]
    if b.shape[0] == 0:
        return []
    bw, bh = b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1
    px = bw[:, None] * lm[:, :5] + b[:, 0:1] - 1
    py = bh[:, None] * lm[:, 5:] + b[:, 1:2] - 1
    b = bbreg(b, reg)
    k = nms(b, sc, 0.7, "min")
    return [[[float(v) for v in (b[i, 0] - 1, b[i, 1] - 1, b[i, 2], b[i, 3])], float(sc[i]),
             [[float(px[i, j]), float(py[i, j])] for j in range(5)]] for i in k.tolist()]


def main(argv):
    weights, path, n, w, h, repeats = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6])
    torch.set_num_threads(int(argv[7]))
    nnpack_off_where_unusable()
    nets = load(weights)
    photos = torch.from_numpy(np.fromfile(path, dtype=np.uint8).reshape(n, h, w, 3).copy()).permute(0, 3, 1, 2).float()
    detect(nets, photos[0])  # warm-up
    seconds, faces = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        found = [detect(nets, p) for p in photos]
        seconds.append(time.perf_counter() - t0)
        faces = found[0]
    print(json.dumps({"seconds": seconds, "faces": faces, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main(sys.argv)
