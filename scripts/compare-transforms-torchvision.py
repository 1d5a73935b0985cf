#!/usr/bin/env python3
"""How invkit's transforms differ from torchvision's and kornia's (PyTorch
2.x) where they overlap: rotation, an affine map, Gaussian blur, and grey
dilation and erosion (kornia.morphology; PyTorch users also write them as
max pooling). kornia's rows are left out when it is not installed.
Runs `augment` with fixed parameters on the first N Fashion-MNIST test
images, applies the torchvision (or torch) counterpart to the same images,
and prints, per transform, the share of pixels that agree exactly and within
one level, the mean and the largest absolute difference, and the share of
pixels that differ by more than 8 levels, and the share identical at least
4 pixels from the border (where edge handling no longer matters for these
parameters).

Usage: compare-transforms-torchvision.py [N]   (default 2000)
Env: PYTHON's torch and torchvision (a venv with PyPI's torch 2.x), BIN
(default build/bin), FMNIST (default /usr/share/datasets/fashion-mnist).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
import torchvision

try:
    import kornia
except ImportError:
    kornia = None
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build", "bin"))
FMNIST = os.environ.get("FMNIST", "/usr/share/datasets/fashion-mnist")


def images_of(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + n])["images"]
    a, b = h["data_offsets"]
    return torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.uint8).reshape(h["shape"])


def run(*args):
    subprocess.run([os.path.join(BIN, args[0]), *args[1:]], check=True)


def dilate(x, k):  # OpenCV's anchor: for even k the window reaches further up and left
    lo = k // 2
    return F.max_pool2d(F.pad(x.float(), (lo, k - 1 - lo, lo, k - 1 - lo), value=-1), k, 1).to(torch.uint8)


def erode(x, k):
    lo = k // 2
    return (-F.max_pool2d(F.pad(-x.float(), (lo, k - 1 - lo, lo, k - 1 - lo), value=-256), k, 1)).to(torch.uint8)


# (invkit spec, the PyTorch-side counterpart, what the counterpart is)
CASES = [
    ("rotate(30,30,interp=bilinear)", lambda x: TF.rotate(x, 30, InterpolationMode.BILINEAR),
     "torchvision v2 rotate, bilinear"),
    ("rotate(30,30,interp=nearest)", lambda x: TF.rotate(x, 30, InterpolationMode.NEAREST),
     "torchvision v2 rotate, nearest"),
    ("rotate(30,30)", lambda x: TF.rotate(x, 30, InterpolationMode.BILINEAR),
     "invkit's default bicubic (the paper's PIL) against torchvision bilinear (its tensors have no bicubic rotate)"),
    ("rotate(90,90)", lambda x: torch.rot90(x, 1, [2, 3]), "torch.rot90 (a quarter turn)"),
    ("shear(20,20,interp=bilinear)", lambda x: TF.affine(x, angle=0.0, translate=[0, 0], scale=1.0, shear=[-20.0, 0.0],
                                                          interpolation=InterpolationMode.BILINEAR),
     "torchvision v2 affine shear x by -20 degrees, bilinear (its shear turns the other way)"),
    ("scale(1.5,1.5,interp=bilinear)", lambda x: TF.affine(x, angle=0.0, translate=[0, 0], scale=1.5, shear=[0.0, 0.0],
                                                            interpolation=InterpolationMode.BILINEAR),
     "torchvision v2 affine scale 1.5, bilinear"),
    ("blur(1,1)", lambda x: TF.gaussian_blur(x, [7, 7], [1.0, 1.0]),
     "torchvision v2 gaussian_blur 7x7, sigma 1 (reflect padding; invkit replicates the edge)"),
    ("dilate(3,3)", lambda x: dilate(x, 3), "max pooling 3x3 (OpenCV's dilate)"),
    ("dilate(2,2)", lambda x: dilate(x, 2), "max pooling 2x2, OpenCV's anchor"),
    ("erode(2,2)", lambda x: erode(x, 2), "min pooling 2x2, OpenCV's anchor"),
]


def kornia_cases():
    if kornia is None:
        return []
    f = lambda x: x.float()  # noqa: E731
    u8 = lambda y: y.round().clamp(0, 255).to(torch.uint8)  # noqa: E731
    return [
        ("rotate(30,30,interp=bilinear)",
         lambda x: u8(kornia.geometry.transform.rotate(f(x), torch.tensor([30.0]).expand(x.shape[0]), mode="bilinear",
                                                       align_corners=False)),
         f"kornia {kornia.__version__} rotate, bilinear"),
        ("blur(1,1)", lambda x: u8(kornia.filters.gaussian_blur2d(f(x), (7, 7), (1.0, 1.0), border_type="replicate")),
         "kornia gaussian_blur2d 7x7, sigma 1, replicate"),
        ("dilate(3,3)", lambda x: u8(kornia.morphology.dilation(f(x), torch.ones(3, 3))),
         "kornia morphology.dilation 3x3"),
        ("erode(3,3)", lambda x: u8(kornia.morphology.erosion(f(x), torch.ones(3, 3))),
         "kornia morphology.erosion 3x3"),
    ]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        full = os.path.join(tmp, "test.st")
        run("convert", "idx", os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"),
            os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz"), "-o", full)
        x = images_of(full)[:n]
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}"
              f"{', kornia ' + kornia.__version__ if kornia else ''}; {n} Fashion-MNIST test images, "
              f"28x28; invkit's augment --threads 1 on the CPU")
        print("| invkit spec | compared with | identical | within 1 | mean abs diff | max abs diff | > 8 levels "
              "| identical, ≥ 4 px from the border |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for spec, ref, what in CASES + kornia_cases():
            out = os.path.join(tmp, "out.st")
            run("augment", full, "--transform", spec, "--threads", "1", "--device", "cpu", "--quiet", "-o", out)
            ours = images_of(out)[:n].to(torch.int16)
            theirs = ref(x).to(torch.int16)
            d = (ours - theirs).abs().float()
            inner = d[:, :, 4:-4, 4:-4]
            print(f"| `{spec}` | {what} | {100 * (d == 0).float().mean():.2f}% | {100 * (d <= 1).float().mean():.2f}% | "
                  f"{d.mean():.3f} | {int(d.max())} | {100 * (d > 8).float().mean():.2f}% | "
                  f"{100 * (inner == 0).float().mean():.2f}% |")


if __name__ == "__main__":
    main()
