#!/usr/bin/python3
"""Python reference for `scripts/bench classifier`: the CIFAR ResNet of the
LDAM-DRW code (3 stages 16/32/64, BasicBlock, option-A shortcuts, global
average pooling), written from its description, timed the way the paper's
code trains: SGD momentum 0.9, wd 2e-4, cross-entropy, batch 128, 1x28x28.

usage: bench_classifier.py ARCH [--threads 2] [--steps 20] [--repeats 3] [--compile]
Prints one JSON object: train and eval images/s (median of repeats).
--compile runs the model through torch.compile (PyTorch 2.x; its default
inductor backend); the warm-up steps compile it for training and for eval.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.subsample = stride != 1
        self.pad = (planes - in_planes) // 2

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        s = x[:, :, ::2, ::2] if self.subsample else x
        if self.pad:
            s = F.pad(s, (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + s)


class ResNet(nn.Module):
    def __init__(self, depth, channels=1, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.in_planes = 16
        self.layer1 = self._stage(16, n, 1)
        self.layer2 = self._stage(32, n, 2)
        self.layer3 = self._stage(64, n, 2)
        self.linear = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def _stage(self, planes, n, stride):
        blocks = []
        for i in range(n):
            blocks.append(BasicBlock(self.in_planes, planes, stride if i == 0 else 1))
            self.in_planes = planes
        return nn.Sequential(*blocks)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch", choices=["resnet20", "resnet32", "resnet44", "resnet56"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ResNet(int(a.arch[6:]))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    net = torch.compile(model) if a.compile else model
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def train_steps(k):
        model.train()
        for _ in range(k):
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def eval_steps(k):
        model.eval()
        with torch.no_grad():
            for _ in range(k):
                net(x)

    train_steps(2)  # warm-up
    eval_steps(2)
    train, evals, train_cpu, eval_cpu = [], [], [], []
    images = a.steps * a.batch
    for _ in range(a.repeats):
        t, c = time.perf_counter(), time.process_time()
        train_steps(a.steps)
        train.append(images / (time.perf_counter() - t))
        train_cpu.append(images / (time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        eval_steps(a.steps)
        evals.append(images / (time.perf_counter() - t))
        eval_cpu.append(images / (time.process_time() - c))
    print(json.dumps({"arch": a.arch, "torch": torch.__version__, "compile": a.compile, "threads": a.threads, "batch": a.batch,
                      "train_images_per_second": statistics.median(train),
                      "eval_images_per_second": statistics.median(evals),
                      "train_images_per_cpu_second": statistics.median(train_cpu),
                      "eval_images_per_cpu_second": statistics.median(eval_cpu),
                      "train_runs": train, "eval_runs": evals}))


if __name__ == "__main__":
    main()
