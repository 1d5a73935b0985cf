#!/usr/bin/env python3
"""Writes a tiny separable invkit data set (safetensors + manifest) with the
standard library only: class c brightens one of four image quadrants
(c mod 4) and, for c >= 4, also a centre square, over uniform noise.

usage: make_classifier_set.py OUT --counts 40,20,10,5 [--shape 1,12,12]
       [--classes K] [--seed S]
"""
import argparse
import random

import invkit_set


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--counts", required=True, help="examples per class, e.g. 40,20,0,5")
    ap.add_argument("--shape", default="1,12,12", help="C,H,W")
    ap.add_argument("--classes", type=int, help="number of classes (default: len(counts))")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    counts = [int(x) for x in a.counts.split(",")]
    c, h, w = (int(x) for x in a.shape.split(","))
    k = a.classes or len(counts)
    rnd = random.Random(a.seed)
    images = bytearray()
    labels = []
    for cls, n in enumerate(counts):
        qy, qx = (cls % 4) // 2, (cls % 4) % 2
        for _ in range(n):
            img = bytearray(rnd.randbytes(c * h * w))
            for i in range(len(img)):
                img[i] //= 3  # noise in [0, 85)
            for ch in range(c):
                for y in range(qy * h // 2, (qy + 1) * h // 2):
                    for x in range(qx * w // 2, (qx + 1) * w // 2):
                        img[(ch * h + y) * w + x] += 150
                if cls >= 4:
                    for y in range(h // 3, 2 * h // 3):
                        for x in range(w // 3, 2 * w // 3):
                            img[(ch * h + y) * w + x] = min(255, img[(ch * h + y) * w + x] + 100)
            images += img
            labels.append(cls)
    invkit_set.write(a.out, images, labels, (c, h, w), ["c%d" % i for i in range(k)],
                     [{"tool": "make_classifier_set.py", "seed": a.seed}])


if __name__ == "__main__":
    main()
