#!/usr/bin/env python3
"""Writes a tiny separable invkit data set (safetensors + manifest) with the
standard library only: class c brightens one of four image quadrants
(c mod 4) and, for c >= 4, also a centre square, over uniform noise.

usage: make_classifier_set.py OUT --counts 40,20,10,5 [--shape 1,12,12]
       [--classes K] [--seed S]
"""
import argparse
import json
import random
import struct


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
    n = len(labels)
    label_bytes = struct.pack("<%dq" % n, *labels)
    class_counts = [labels.count(i) for i in range(k)]
    manifest = {"format": "invkit.dataset/1", "num_classes": k, "class_names": ["c%d" % i for i in range(k)],
                "class_counts": class_counts, "size": n, "channels": c, "height": h, "width": w,
                "history": [{"tool": "make_classifier_set.py", "seed": a.seed}]}
    header = {"labels": {"dtype": "I64", "shape": [n], "data_offsets": [0, len(label_bytes)]},
              "images": {"dtype": "U8", "shape": [n, c, h, w],
                         "data_offsets": [len(label_bytes), len(label_bytes) + len(images)]},
              "__metadata__": {"invkit": json.dumps(manifest)}}
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + label_bytes + bytes(images))


if __name__ == "__main__":
    main()
