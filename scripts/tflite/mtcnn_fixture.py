#!/usr/bin/env python3
"""Makes test/fixtures/detect/mtcnn_ref.safetensors: inputs cut from the astronaut photo and the outputs
of the original TFLite MTCNN graphs on them, run by the numpy interpreter (interpret.py) in TFLite's own
layout (the image transposed, NHWC, OHWI weights). Our converted nets must reproduce them (test/detect).

    node --input-type=module -e "import {decode} from './dist/lib/data/codec.js'; import {readFileSync, writeFileSync} from 'node:fs';
      const d = decode(readFileSync('test/fixtures/detect/astronaut.jpg')); writeFileSync('/tmp/astronaut.rgb', d.data)"
    python3 scripts/tflite/mtcnn_fixture.py <assets folder with pnet/rnet/onet.tflite> /tmp/astronaut.rgb 512 512 \
        test/fixtures/detect/mtcnn_ref.safetensors

Inputs are stored as the uint8 RGB pixels [N, H, W, 3] (natural orientation) the nets see after
(v − 127.5)/128 and NHWC → NCHW.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interpret  # noqa: E402
import reader  # noqa: E402
import safetensors  # noqa: E402


def crop(img, x0, y0, side, size):
    """Nearest-pixel square crop (any deterministic resampling will do: these are only inputs)."""
    idx = (np.arange(size) + 0.5) * side / size
    ys = np.clip((y0 + idx).astype(int), 0, img.shape[0] - 1)
    xs = np.clip((x0 + idx).astype(int), 0, img.shape[1] - 1)
    return img[ys][:, xs]


def to_input(hwc_list):
    """uint8 pixels [N, H, W, 3] (stored) and the network input (v − 127.5)/128, NCHW (exact in float32)."""
    px = np.stack(hwc_list).astype(np.uint8)
    return px, ((px.astype(np.float64) - 127.5) / 128.0).astype(np.float32).transpose(0, 3, 1, 2)


def tflite(model, x_nchw):
    # TFLite input: the image transposed, NHWC with H = image x → [N, W, H, C]
    return interpret.run(model, [x_nchw.astype(np.float64).transpose(0, 3, 2, 1)])


def main(argv):
    assets, rgb, w, h, dst = argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5]
    img = np.fromfile(rgb, dtype=np.uint8).reshape(h, w, 3)
    out = {}

    # P-Net: the photo box-averaged 4× (128×128), cut to an odd size so ceil pooling is exercised
    small = np.round(img.reshape(128, 4, 128, 4, 3).mean((1, 3)))
    pix, px = to_input([small[0:125, 3:120]])
    r = tflite(reader.read_model(os.path.join(assets, "pnet.tflite")), px)
    out["pnet.pixels"] = pix
    out["pnet.prob"] = r["pnet/prob1"][..., 1].transpose(0, 2, 1).astype(np.float32)          # [N, y, x]
    out["pnet.reg"] = r["pnet/conv4-2/BiasAdd"].transpose(0, 3, 2, 1).astype(np.float32)     # [N, 4, y, x]

    # R-Net / O-Net: the face, a shifted and a larger box, and background (the flag)
    boxes = [(168, 58, 116), (180, 70, 100), (150, 40, 160), (0, 200, 90)]
    for net, size, outs in (("rnet", 24, ("rnet/prob1", "rnet/conv5-2/conv5-2", None)),
                            ("onet", 48, ("onet/prob1", "onet/conv6-2/conv6-2", "onet/conv6-3/conv6-3"))):
        pix, x = to_input([crop(img, bx, by, s, size) for bx, by, s in boxes])
        r = tflite(reader.read_model(os.path.join(assets, net + ".tflite")), x)
        out[net + ".pixels"] = pix
        out[net + ".prob"] = r[outs[0]][:, 1].astype(np.float32)
        out[net + ".reg"] = r[outs[1]].astype(np.float32)
        if outs[2]:
            out[net + ".landmarks"] = r[outs[2]].astype(np.float32)
    safetensors.save(dst, out, {"source": "scripts/tflite/mtcnn_fixture.py on test/fixtures/detect/astronaut.jpg"})
    for k in sorted(out):
        v = out[k]
        print(k, list(v.shape), "" if k.endswith("pixels") else np.round(v.reshape(-1)[:6], 4))


if __name__ == "__main__":
    main(sys.argv)
