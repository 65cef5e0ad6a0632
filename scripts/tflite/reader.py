"""Minimal TFLite flatbuffer reader (float32 models only), numpy + stdlib.

Reads the tables of the public TFLite schema (tensorflow/lite/schema/schema.fbs) that a plain float graph
uses: Model.operator_codes/subgraphs/buffers, SubGraph.tensors/inputs/outputs/operators, Tensor
shape/type/buffer/name, Operator opcode_index/inputs/outputs/builtin_options, and the option tables of the
operators listed in OPTIONS. Field numbers are the schema's (vtable slot = 4 + 2 * field).
"""

import struct

import numpy as np

BUILTIN = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 21: "RELU6",
    22: "RESHAPE", 25: "SOFTMAX", 28: "TANH", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB",
    42: "DIV", 43: "SQUEEZE", 47: "EXP", 74: "SUM", 82: "REDUCE_MAX", 54: "PRELU", 59: "NEG", 11: "L2_NORMALIZATION", 55: "MAXIMUM",
}
TENSOR_TYPES = {0: np.float32, 2: np.int32, 4: np.int64, 3: np.uint8, 9: np.int8}
PADDING = {0: "SAME", 1: "VALID"}
ACTIVATION = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}


class Table:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt = vt
        self.vt_len = struct.unpack_from("<H", buf, vt)[0]

    def _off(self, field):
        slot = 4 + 2 * field
        if slot >= self.vt_len:
            return 0
        return struct.unpack_from("<H", self.buf, self.vt + slot)[0]

    def scalar(self, field, fmt, default=0):
        o = self._off(field)
        return default if o == 0 else struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0]

    def _indirect(self, field):
        o = self._off(field)
        if o == 0:
            return None
        p = self.pos + o
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, field):
        p = self._indirect(field)
        return None if p is None else Table(self.buf, p)

    def vector(self, field, fmt):
        p = self._indirect(field)
        if p is None:
            return []
        n = struct.unpack_from("<I", self.buf, p)[0]
        return list(struct.unpack_from("<%d%s" % (n, fmt), self.buf, p + 4))

    def bytes(self, field):
        p = self._indirect(field)
        if p is None:
            return b""
        n = struct.unpack_from("<I", self.buf, p)[0]
        return self.buf[p + 4:p + 4 + n]

    def string(self, field):
        return self.bytes(field).decode("utf-8")

    def tables(self, field):
        p = self._indirect(field)
        if p is None:
            return []
        n = struct.unpack_from("<I", self.buf, p)[0]
        out = []
        for i in range(n):
            q = p + 4 + 4 * i
            out.append(Table(self.buf, q + struct.unpack_from("<I", self.buf, q)[0]))
        return out


def _options(name, t):
    if t is None:
        return {}
    if name == "CONV_2D" or name == "DEPTHWISE_CONV_2D":
        dw = name == "DEPTHWISE_CONV_2D"
        o = {"padding": PADDING[t.scalar(0, "b")], "stride_w": t.scalar(1, "i"), "stride_h": t.scalar(2, "i")}
        base = 3
        if dw:
            o["depth_multiplier"] = t.scalar(3, "i")
            base = 4
        o["activation"] = ACTIVATION[t.scalar(base, "b")]
        o["dilation_w"] = t.scalar(base + 1, "i", 1)
        o["dilation_h"] = t.scalar(base + 2, "i", 1)
        return o
    if name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        return {"padding": PADDING[t.scalar(0, "b")], "stride_w": t.scalar(1, "i"), "stride_h": t.scalar(2, "i"),
                "filter_w": t.scalar(3, "i"), "filter_h": t.scalar(4, "i"), "activation": ACTIVATION[t.scalar(5, "b")]}
    if name == "FULLY_CONNECTED":
        return {"activation": ACTIVATION[t.scalar(0, "b")], "weights_format": t.scalar(1, "b"),
                "keep_num_dims": bool(t.scalar(2, "B"))}
    if name == "SOFTMAX":
        return {"beta": t.scalar(0, "f", 0.0)}
    if name == "RESHAPE":
        return {"new_shape": t.vector(0, "i")}
    if name in ("ADD", "SUB", "MUL", "DIV"):
        return {"activation": ACTIVATION[t.scalar(0, "b")]}
    if name == "CONCATENATION":
        return {"axis": t.scalar(0, "i"), "activation": ACTIVATION[t.scalar(1, "b")]}
    if name in ("SUM", "REDUCE_MAX", "MEAN"):
        return {"keep_dims": bool(t.scalar(0, "B"))}
    if name == "L2_NORMALIZATION":
        return {"activation": ACTIVATION[t.scalar(0, "b")]}
    return {}


def read_model(path):
    """Returns {"tensors": [...], "operators": [...], "inputs": [...], "outputs": [...]} for subgraph 0.

    Each tensor: {"name", "shape", "dtype", "data" (numpy array or None)}; each operator: {"op", "inputs",
    "outputs", "options"}."""
    with open(path, "rb") as f:
        buf = f.read()
    root = Table(buf, struct.unpack_from("<I", buf, 0)[0])
    codes = []
    for c in root.tables(1):
        code = max(c.scalar(0, "b"), c.scalar(3, "i"))
        if code not in BUILTIN:
            raise ValueError("%s: unsupported builtin operator code %d" % (path, code))
        codes.append(BUILTIN[code])
    buffers = [b.bytes(0) for b in root.tables(4)]
    subgraphs = root.tables(2)
    if len(subgraphs) != 1:
        raise ValueError("%s: expected one subgraph, found %d" % (path, len(subgraphs)))
    sg = subgraphs[0]
    tensors = []
    for t in sg.tables(0):
        shape = t.vector(0, "i")
        ttype = t.scalar(1, "b")
        if ttype not in TENSOR_TYPES:
            raise ValueError("%s: tensor %s has unsupported type %d" % (path, t.string(3), ttype))
        dtype = TENSOR_TYPES[ttype]
        raw = buffers[t.scalar(2, "I")]
        data = np.frombuffer(raw, dtype=dtype).reshape(shape).copy() if len(raw) else None
        tensors.append({"name": t.string(3), "shape": shape, "dtype": dtype, "data": data})
    operators = []
    for op in sg.tables(3):
        name = codes[op.scalar(0, "I")]
        operators.append({"op": name, "inputs": op.vector(1, "i"), "outputs": op.vector(2, "i"),
                          "options": _options(name, op.table(4))})
    return {"tensors": tensors, "operators": operators, "inputs": sg.vector(1, "i"), "outputs": sg.vector(2, "i")}


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        m = read_model(p)
        print("==", p)
        for i in m["inputs"]:
            print("input", m["tensors"][i]["name"], m["tensors"][i]["shape"])
        for op in m["operators"]:
            ins = ["%s%s%s" % (m["tensors"][i]["name"], m["tensors"][i]["shape"],
                               "*" if m["tensors"][i]["data"] is not None else "") for i in op["inputs"] if i >= 0]
            outs = ["%s%s" % (m["tensors"][i]["name"], m["tensors"][i]["shape"]) for i in op["outputs"]]
            print(op["op"], op["options"], ins, "->", outs)
        for i in m["outputs"]:
            print("output", m["tensors"][i]["name"], m["tensors"][i]["shape"])
