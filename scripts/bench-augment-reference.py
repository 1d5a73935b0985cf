#!/usr/bin/env python3
"""The paper's per-image Python loops (AllanYangZhou/generative-invariance-transfer),
timed on Fashion-MNIST: PIL bicubic rotation by U(-180,180), numpy background
U[0,100) on zero pixels, OpenCV dilate (p 0.6, k 2-4) or erode (k 1-2).
Prints one JSON line per transform: median images/s of 3 runs after a warm-up.
Usage: bench-augment-reference.py TRAIN-IMAGES-IDX.gz [N] [RUNS] [TRANSFORM...]"""
import gzip
import json
import statistics
import sys
import time

import cv2
import numpy as np
from PIL import Image


def read_idx_images(path, limit):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[4 * i + 4:4 * i + 8], "big") for i in range(3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w)[:limit]


def rotate(images, rng):
    out = []
    for x in images:
        angle = rng.uniform(-180, 180)
        out.append(np.array(Image.fromarray(x).rotate(angle, resample=Image.BICUBIC)))
    return out


def background(images, rng):
    out = []
    for x in images:
        y = x.copy()
        y[y == 0] = rng.integers(0, 100)
        out.append(y)
    return out


def dilate_erode(images, rng):
    out = []
    for x in images:
        if rng.uniform() < 0.6:
            k = rng.integers(2, 5)
            out.append(cv2.dilate(x, np.ones((k, k), np.uint8)))
        else:
            k = rng.integers(1, 3)
            out.append(cv2.erode(x, np.ones((k, k), np.uint8)))
    return out


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    only = sys.argv[4:]
    cv2.setNumThreads(1)  # one image at a time, as the paper's loops
    images = read_idx_images(path, n)
    for name, fn in (("rotate", rotate), ("background", background), ("dilate-erode", dilate_erode)):
        if only and name not in only:
            continue
        rng = np.random.default_rng(0)
        fn(images[:1000], rng)  # warm-up
        rates, cpu_rates = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            fn(images, rng)
            rates.append(len(images) / (time.perf_counter() - t0))
            cpu_rates.append(len(images) / (time.process_time() - c0))
        print(json.dumps({"transform": name, "images": len(images), "images_per_second": statistics.median(rates),
                          "images_per_cpu_second": statistics.median(cpu_rates)}))


if __name__ == "__main__":
    main()
