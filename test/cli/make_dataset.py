#!/usr/bin/env python3
"""Writes a small deterministic invkit data set (safetensors, standard library only).

usage: make_dataset.py OUT [--classes C] [--per-class N|N1,N2,...] [--size S] [--channels K]

Rows cycle through the classes (row 0 class 0, row 1 class 1, ...; a class whose
count is used up drops out), labels are I64 [N], images U8 [N,K,S,S] with pixel
(row r, channel k, y, x) = (r * 7 + k * 31 + y * S + x) % 256. OUT may be - for stdout.
"""
import argparse
import sys

import invkit_set


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--per-class", default="50", help="N, or one N per class separated by commas")
    ap.add_argument("--size", type=int, default=8)
    ap.add_argument("--channels", type=int, default=1)
    a = ap.parse_args()
    counts = [int(x) for x in a.per_class.split(",")]
    if len(counts) == 1:
        counts = counts * a.classes
    if len(counts) != a.classes:
        sys.exit("make_dataset.py: --per-class needs 1 or %d numbers" % a.classes)

    labels, left = [], list(counts)
    while any(left):
        for c in range(a.classes):
            if left[c]:
                labels.append(c)
                left[c] -= 1
    n, k, s = len(labels), a.channels, a.size
    plane = [y * s + x for y in range(s) for x in range(s)]
    images = bytearray()
    for r in range(n):
        for ch in range(k):
            base = r * 7 + ch * 31
            images += bytes((base + p) % 256 for p in plane)
    invkit_set.write(a.out, images, labels, (k, s, s), ["c%d" % c for c in range(a.classes)],
                     [{"tool": "make_dataset.py", "arguments": sys.argv[1:]}])


if __name__ == "__main__":
    main()
