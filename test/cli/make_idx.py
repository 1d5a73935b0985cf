#!/usr/bin/env python3
"""Writes a synthetic Fashion-MNIST-like folder of gzipped IDX files.

    make_idx.py DIR --train N --test M [--seed S]

N and M images per class, 10 classes, 28x28: class c is a bright horizontal
bar at row 2 + 2c on a noisy dark background, so a small net learns it in a
few epochs. File names are Fashion-MNIST's (train-* and t10k-*).
"""
import argparse
import gzip
import os
import random
import struct

CLASSES, SIZE = 10, 28


def images_and_labels(per_class, rng):
    rows = [(c, i) for c in range(CLASSES) for i in range(per_class)]
    rng.shuffle(rows)
    pixels, labels = bytearray(), bytearray()
    for c, _ in rows:
        img = [rng.randrange(0, 40) for _ in range(SIZE * SIZE)]
        top = 2 + 2 * c
        for y in (top, top + 1):
            for x in range(4, 24):
                img[y * SIZE + x] = rng.randrange(200, 256)
        pixels += bytes(img)
        labels.append(c)
    return len(rows), bytes(pixels), bytes(labels)


def write(path, magic, dims, data):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--train", type=int, required=True)
    ap.add_argument("--test", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    for prefix, per_class in (("train", a.train), ("t10k", a.test)):
        n, pixels, labels = images_and_labels(per_class, rng)
        write(os.path.join(a.dir, prefix + "-images-idx3-ubyte.gz"), 0x803, (n, SIZE, SIZE), pixels)
        write(os.path.join(a.dir, prefix + "-labels-idx1-ubyte.gz"), 0x801, (n,), labels)


if __name__ == "__main__":
    main()
