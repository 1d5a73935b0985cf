#!/usr/bin/env python3
"""Converts an IDX image/label pair (gzipped or not) into an invkit data set
with the standard library only, for benchmarks in a tree where `convert` is
not built. Usage: idx-to-st.py IMAGES.gz LABELS.gz OUT.st"""
import gzip
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


images, labels = read(sys.argv[1]), read(sys.argv[2])
n, h, w = struct.unpack(">III", images[4:16])
pixels = images[16:16 + n * h * w]
label_bytes = labels[8:8 + n]
label_data = struct.pack("<%dq" % n, *label_bytes)
classes = max(label_bytes) + 1
manifest = {"format": "invkit.dataset/1", "class_names": [str(c) for c in range(classes)], "history": []}
header = {
    "images": {"dtype": "U8", "shape": [n, 1, h, w], "data_offsets": [0, len(pixels)]},
    "labels": {"dtype": "I64", "shape": [n], "data_offsets": [len(pixels), len(pixels) + len(label_data)]},
    "__metadata__": {"invkit": json.dumps(manifest)},
}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[3], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + pixels + label_data)
