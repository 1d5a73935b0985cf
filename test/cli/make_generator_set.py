#!/usr/bin/env python3
"""Writes a tiny invkit data set for the generator tests (standard library only).

usage: make_generator_set.py OUT.st [N] [SIZE] [CHANNELS]
N images CHANNELS x SIZE x SIZE (every channel alike): a bright 4x4 square at one of 9 positions on a dark
background; label 0/1 = the square's brightness.
"""
import sys

import invkit_set


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
    invkit_set.write(out, pixels, labels, (channels, size, size), ["dim", "bright"], [])


if __name__ == "__main__":
    main()
