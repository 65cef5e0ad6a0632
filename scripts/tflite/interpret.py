"""A small numpy interpreter of float TFLite graphs (the reference the converted MTCNN is tested against).

Runs subgraph 0 of a model read by reader.py in TFLite's own semantics: NHWC activations, OHWI conv
weights, SAME/VALID padding as TensorFlow defines it, FULLY_CONNECTED over the row-major flattening of
its input, in float64. Only the operators the MTCNN graphs use are implemented; any other raises.
"""

import numpy as np


def _pad_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def conv2d(x, w, b, o):
    # x [N, H, W, C], w [O, kh, kw, C] (OHWI), b [O]
    assert o["dilation_w"] == 1 and o["dilation_h"] == 1
    n, h, wd, c = x.shape
    oc, kh, kw, _ = w.shape
    sh, sw = o["stride_h"], o["stride_w"]
    if o["padding"] == "SAME":
        oh, pt, pb = _pad_same(h, kh, sh)
        ow, pl, pr = _pad_same(wd, kw, sw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, oh, ow, oc))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
            out += np.einsum("nhwc,oc->nhwo", patch, w[:, i, j, :])
    return _act(out + b, o.get("activation"))


def max_pool(x, o):
    n, h, wd, c = x.shape
    kh, kw, sh, sw = o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"]
    if o["padding"] == "SAME":
        oh, pt, pb = _pad_same(h, kh, sh)
        ow, pl, pr = _pad_same(wd, kw, sw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    else:
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.full((n, oh, ow, c), -np.inf)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :])
    return _act(out, o.get("activation"))


def _act(x, a):
    if a is None:
        return x
    if a == "RELU":
        return np.maximum(x, 0)
    if a == "RELU6":
        return np.clip(x, 0, 6)
    raise NotImplementedError("activation " + a)


def _axes(t, rank):
    return tuple(int(a) % rank for a in np.atleast_1d(t))


def run(model, inputs):
    """inputs: list of numpy arrays (NHWC) for the graph inputs; returns {output name: float64 array}."""
    vals = {}
    for i, t in enumerate(model["tensors"]):
        if t["data"] is not None:
            vals[i] = t["data"].astype(np.float64) if t["dtype"] == np.float32 else t["data"]
    for i, x in zip(model["inputs"], inputs):
        vals[i] = np.asarray(x, dtype=np.float64)
    for op in model["operators"]:
        a = [vals[i] if i >= 0 else None for i in op["inputs"]]
        o, name = op["options"], op["op"]
        if name == "CONV_2D":
            y = conv2d(a[0], a[1], a[2] if len(a) > 2 and a[2] is not None else 0.0, o)
        elif name == "MAX_POOL_2D":
            y = max_pool(a[0], o)
        elif name == "FULLY_CONNECTED":
            assert o["weights_format"] == 0 and not o["keep_num_dims"]
            x = a[0].reshape(-1, a[1].shape[1])
            y = _act(x @ a[1].T + (a[2] if len(a) > 2 and a[2] is not None else 0.0), o["activation"])
        elif name == "RELU":
            y = np.maximum(a[0], 0)
        elif name == "NEG":
            y = -a[0]
        elif name == "PRELU":
            y = np.where(a[0] >= 0, a[0], a[0] * a[1])
        elif name in ("ADD", "SUB", "MUL", "DIV"):
            f = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": np.divide}[name]
            y = _act(f(a[0], a[1]), o.get("activation"))
        elif name == "EXP":
            y = np.exp(a[0])
        elif name in ("SUM", "REDUCE_MAX"):
            f = np.sum if name == "SUM" else np.max
            y = f(a[0], axis=_axes(a[1], a[0].ndim), keepdims=o["keep_dims"])
        elif name == "SOFTMAX":
            z = np.exp(o["beta"] * (a[0] - a[0].max(-1, keepdims=True)))
            y = z / z.sum(-1, keepdims=True)
        elif name == "RESHAPE":
            y = a[0].reshape(a[1] if len(a) > 1 and a[1] is not None else o["new_shape"])
        else:
            raise NotImplementedError("operator " + name)
        vals[op["outputs"][0]] = y
    return {model["tensors"][i]["name"]: vals[i] for i in model["outputs"]}
