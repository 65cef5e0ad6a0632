"""Independent check of ONNX files written by exportOnnx (test/onnx/backbones.test.ts).

Usage: python check_onnx.py manifest.json
The manifest lists {"model": path.onnx, "input": path.f32, "expected": path.f32, "shape": [N, C, H, W]}
entries: raw little-endian float32 files of the input batch and of our eval-mode embeddings.
For each model: onnx.checker.check_model(path, full_check=True) (the path form, so that external
data is checked too), the metadata_props hold the card's embeddingSize, only default-domain
operators are used, and ONNX Runtime's CPU embeddings equal ours to within the tolerance.
Prints one JSON object per model; exits 0 whatever the results (the test reads them).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check(entry):
    out = {"model": entry["model"]}
    try:
        onnx.checker.check_model(entry["model"], full_check=True)
        out["checker"] = "ok"
    except Exception as e:  # the checker's message is the result
        out["checker"] = f"{type(e).__name__}: {e}"
    model = onnx.load(entry["model"], load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    out["embeddingSize"] = meta.get("embeddingSize")
    out["domains"] = sorted({n.domain for n in model.graph.node})
    out["opset"] = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    x = np.fromfile(entry["input"], dtype="<f4").reshape(entry["shape"])
    want = np.fromfile(entry["expected"], dtype="<f4").reshape(x.shape[0], -1)
    sess = ort.InferenceSession(entry["model"], providers=["CPUExecutionProvider"])
    (got,) = sess.run(["embedding"], {"input": x})
    out["maxAbsDiff"] = float(np.max(np.abs(got - want)))
    out["maxAbs"] = float(np.max(np.abs(want)))
    return out


def main():
    with open(sys.argv[1]) as f:
        entries = json.load(f)
    for e in entries:
        try:
            print(json.dumps(check(e)), flush=True)
        except Exception as err:
            print(json.dumps({"model": e["model"], "error": f"{type(err).__name__}: {err}"}), flush=True)


if __name__ == "__main__":
    main()
