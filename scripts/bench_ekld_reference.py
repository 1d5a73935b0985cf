#!/usr/bin/python3
"""Python reference for `scripts/bench ekld`: the paper's eKLD protocol as
its code runs it (AllanYangZhou/generative-invariance-transfer,
core/datasets/kdatasets.py make_inv_data + calc_outputs_inv + the KL of
torch.distributions): for each class, 40 test images, each transformed 100
times one at a time by torchvision (ToPILImage, RandomRotation(180, BICUBIC),
ToTensor), then resnet20 on the originals and the transformed stacks, then
KL(P(.|x) || P(.|x')). Written from that description; the model is the one of
bench_classifier.py (untrained: speed does not depend on the weights).

usage: bench_ekld_reference.py TEST-IMAGES.gz TEST-LABELS.gz [--threads 2] [--per-class 40] [--samples 100] [--compile]
--compile runs the model through torch.compile (PyTorch 2.x), compiled on one
class's shapes before the clock starts.
Prints one JSON object: seconds for the whole protocol, and of them the
seconds spent transforming images (the rest is the model and the KL).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch.distributions import Categorical
from torch.distributions.kl import kl_divergence
from torchvision.transforms import Compose, InterpolationMode, RandomRotation, ToPILImage, ToTensor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_classifier import ResNet  # noqa: E402


def read_idx(path, offset):
    return np.frombuffer(gzip.open(path).read(), dtype=np.uint8, offset=offset)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("labels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    images = read_idx(a.images, 16).reshape(-1, 28, 28)
    labels = read_idx(a.labels, 8)
    model = ResNet(20).eval()
    if a.compile:
        model = torch.compile(model)
        with torch.no_grad():  # compile for both shapes the protocol uses
            model(torch.zeros(a.per_class, 1, 28, 28))
            model(torch.zeros(a.per_class * a.samples, 1, 28, 28))
    tfm = Compose([ToPILImage(), RandomRotation(180, InterpolationMode.BICUBIC), ToTensor()])
    orig_tfm = Compose([ToPILImage(), ToTensor()])
    mean, std = 0.2860, 0.3530

    start = time.perf_counter()
    transform_seconds = 0.0  # the per-image torchvision/PIL part alone
    klds = []
    with torch.no_grad():
        for c in range(10):
            class_images = images[labels == c]
            idcs = np.random.choice(len(class_images), len(class_images), replace=False)
            orig, tfmd = [], []
            t = time.perf_counter()
            for i in range(a.per_class):
                x = class_images[idcs[i]]
                tfmd.append(torch.stack([tfm(x) for _ in range(a.samples)]))
                orig.append(orig_tfm(x))
            orig, tfmd = torch.stack(orig), torch.stack(tfmd)
            transform_seconds += time.perf_counter() - t
            b, s, ch, h, w = tfmd.shape
            orig_logits = model((orig - mean) / std)
            tfmd_logits = model((tfmd.reshape(b * s, ch, h, w) - mean) / std).reshape(b, s, -1)
            p = Categorical(logits=orig_logits[:, None, :].repeat(1, s, 1))
            q = Categorical(logits=tfmd_logits)
            klds.append(kl_divergence(p, q).mean().item())
    seconds = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "compile": a.compile, "seconds": seconds, "transform_seconds": transform_seconds, "classes": 10, "per_class": a.per_class, "samples": a.samples}))


if __name__ == "__main__":
    main()
