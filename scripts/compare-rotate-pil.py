#!/usr/bin/env python3
"""How close augment's rotation is to PIL's (the paper's): reads a data set
written by `augment --transform 'rotate(...)' --record-params` from an input
whose rows are the first N images of an IDX file, rotates each of those
images with PIL at the recorded angle (resample=BICUBIC, or the interp
given), and prints the share of pixels that agree exactly and within one
level, and the largest difference. Needs python3-pil and python3-numpy.
Usage: compare-rotate-pil.py IMAGES-IDX.gz AUGMENTED.st [bicubic|bilinear|nearest]"""
import gzip
import json
import struct
import sys

import numpy as np
from PIL import Image


def load_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        dtype = {"U8": np.uint8, "I64": np.int64, "F32": np.float32}[v["dtype"]]
        lo, hi = v["data_offsets"]
        out[k] = np.frombuffer(data[lo:hi], dtype).reshape(v["shape"])
    return out


idx = gzip.open(sys.argv[1]).read()
count, h, w = (int.from_bytes(idx[4 * i + 4:4 * i + 8], "big") for i in range(3))
source = np.frombuffer(idx, np.uint8, offset=16).reshape(count, h, w)
st = load_st(sys.argv[2])
resample = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "nearest": Image.NEAREST}[
    sys.argv[3] if len(sys.argv) > 3 else "bicubic"]
ours = st["images"][:, 0]
angles = st["params"][:, 0]
rows = st["index"] if "index" in st else np.arange(len(ours))
pil = np.stack([np.array(Image.fromarray(source[r]).rotate(float(a), resample=resample)) for r, a in zip(rows, angles)])
diff = np.abs(ours.astype(int) - pil.astype(int))
print(json.dumps({"images": len(ours), "pixels_equal": float((diff == 0).mean()),
                  "pixels_within_1": float((diff <= 1).mean()), "max_difference": int(diff.max()),
                  "mean_signed_difference": float((ours.astype(float) - pil).mean())}))
