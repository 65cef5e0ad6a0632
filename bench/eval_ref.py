#!/usr/bin/python3
"""Reference timing for bench/eval.ts: insightface's verification algorithm (one scan of all pairs
per threshold and fold, float32 embeddings, numpy) on the embeddings written by the TS side.
Usage: eval_ref.py <embeddings.f32> <issame.u8> <D> <flipped.f32>   → prints JSON {seconds, printed}"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import verification_ref  # noqa: E402

emb = np.fromfile(sys.argv[1], dtype="<f4").reshape(-1, int(sys.argv[3]))
issame = np.fromfile(sys.argv[2], dtype=np.uint8).astype(bool)
flip = np.fromfile(sys.argv[4], dtype="<f4").reshape(emb.shape)
t0 = time.perf_counter()
r = verification_ref.protocol(emb, issame, flip, 10, dtype=np.float32)
print(json.dumps({"seconds": time.perf_counter() - t0, "printed": r["printed"]}))
