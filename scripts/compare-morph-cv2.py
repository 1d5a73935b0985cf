#!/usr/bin/env python3
"""Checks augment's dilation/erosion against OpenCV's: reads SOURCE.st and
the output of `augment --transform 'OP(k,k)' SOURCE.st -o OUT.st` and
compares it with cv2.OP(x, np.ones((k,k))) image by image (channel 0).
Needs python3-opencv and python3-numpy.
Usage: compare-morph-cv2.py SOURCE.st OUT.st dilate|erode K"""
import json
import struct
import sys

import cv2
import numpy as np


def images(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    v = json.loads(b[8:8 + n])["images"]
    lo, hi = v["data_offsets"]
    return np.frombuffer(b[8 + n + lo:8 + n + hi], np.uint8).reshape(v["shape"])[:, 0]


src, ours = images(sys.argv[1]), images(sys.argv[2])
op, k = sys.argv[3], int(sys.argv[4])
fn = {"dilate": cv2.dilate, "erode": cv2.erode}[op]
ref = np.stack([fn(x, np.ones((k, k), np.uint8)) for x in src])
print(json.dumps({"op": op, "k": k, "images": len(src), "pixels_different": int((ours != ref).sum())}))
