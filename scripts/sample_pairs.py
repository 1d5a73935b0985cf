#!/usr/bin/env python3
"""Mean L1 distance (pixel levels 0..255, per pixel) between the two samples
of each image in a data set made by `augment --samples 2` (rows 2i and 2i+1
are the two samples of input i). Standard library only.

Usage: scripts/sample_pairs.py PAIRS.st"""
import json
import struct
import sys


def read_images(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    info = header["images"]
    if info["dtype"] != "U8" or len(info["shape"]) != 4:
        raise SystemExit(f"{path}: images must be U8 [N, C, H, W], got {info['dtype']} {info['shape']}")
    begin, end = info["data_offsets"]
    return info["shape"], memoryview(data)[8 + n + begin: 8 + n + end]


def mean_pair_l1(path):
    shape, pixels = read_images(path)
    rows, size = shape[0], shape[1] * shape[2] * shape[3]
    if rows % 2:
        raise SystemExit(f"{path}: {rows} rows, not pairs")
    total = 0
    for i in range(0, rows, 2):
        a = pixels[i * size:(i + 1) * size]
        b = pixels[(i + 1) * size:(i + 2) * size]
        total += sum(abs(x - y) for x, y in zip(a, b))
    return total / (rows // 2 * size)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"{mean_pair_l1(sys.argv[1]):.4f}")
