#!/usr/bin/env python3
"""Writes a tiny invkit data set for the generator tests (struct only, no numpy).

usage: make_generator_set.py OUT.st [N] [SIZE] [CHANNELS]
N images CHANNELS x SIZE x SIZE (every channel alike): a bright 4x4 square at one of 9 positions on a dark
background; label 0/1 = the square's brightness.
"""
import json
import struct
import sys


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    channels = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    pixels = bytearray()
    labels = []
    for i in range(n):
        img = bytearray([20] * (size * size))
        y, x, label = 2 + 3 * (i % 3), 2 + 3 * ((i // 3) % 3), i % 2
        for r in range(y, min(y + 4, size)):
            for c in range(x, min(x + 4, size)):
                img[r * size + c] = 250 if label else 160
        pixels += img * channels
        labels.append(label)
    label_bytes = struct.pack("<%dq" % n, *labels)
    counts = [labels.count(0), labels.count(1)]
    manifest = {"format": "invkit.dataset/1", "num_classes": 2, "class_names": ["dim", "bright"],
                "class_counts": counts, "channels": channels, "height": size, "width": size, "history": []}
    header = {
        "__metadata__": {"invkit": json.dumps(manifest)},
        "labels": {"dtype": "I64", "shape": [n], "data_offsets": [0, len(label_bytes)]},
        "images": {"dtype": "U8", "shape": [n, channels, size, size],
                   "data_offsets": [len(label_bytes), len(label_bytes) + len(pixels)]},
    }
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + label_bytes + bytes(pixels))


if __name__ == "__main__":
    main()
