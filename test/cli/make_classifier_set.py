#!/usr/bin/env python3
"""Writes a tiny separable invkit data set (safetensors + manifest) with the
standard library only: class c brightens one of four image quadrants
(c mod 4) and, for c >= 4, also a centre square, over uniform noise.

usage: make_classifier_set.py OUT --counts 40,20,10,5 [--shape 1,12,12]
       [--classes K] [--seed S] [--keep 2,0,...]
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
    ap.add_argument("--keep", help="the classes to write, in this order, e.g. 2,0 (default: all in order)")
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
    names = ["c%d" % i for i in range(k)]
    if a.keep:  # a permutation or subset of the classes: same images, labels by the new order
        keep = [int(x) for x in a.keep.split(",")]
        size = c * h * w
        rows = [r for r in range(len(labels)) if labels[r] in keep]
        images = b"".join(images[r * size:(r + 1) * size] for r in rows)
        labels = [keep.index(labels[r]) for r in rows]
        names = [names[i] for i in keep]
    invkit_set.write(a.out, images, labels, (c, h, w), names,
                     [{"tool": "make_classifier_set.py", "seed": a.seed}])


if __name__ == "__main__":
    main()
