#!/usr/bin/env python3
"""Writes a tiny invkit data set for the augment tool test, with the standard
library only: N images 1 x H x W (a bright square on black, so background,
rotation and morphology all show), labels i % 3, three named classes.
Usage: make_augment_input.py OUT.st [N] [H] [W]"""
import sys

import invkit_set

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
h = int(sys.argv[3]) if len(sys.argv) > 3 else 12
w = int(sys.argv[4]) if len(sys.argv) > 4 else 12

images = bytearray()
for i in range(n):
    for y in range(h):
        for x in range(w):
            inside = h // 4 <= y < h - h // 4 and w // 4 + i % 3 <= x < w - w // 4
            images.append((60 + 17 * i + 5 * x) % 256 if inside else 0)
invkit_set.write(out, images, [i % 3 for i in range(n)], (1, h, w), ["a", "b", "c"], [])
