#!/usr/bin/env python3
"""Takes the weights of an invkit resnet checkpoint into the paper's resnet
(the CIFAR ResNet of its cifar_resnet.py and LDAM-DRW's resnet_cifar.py,
written here from that description: 3x3 convolutions without bias,
BatchNorm, option-A shortcuts, global average pooling, nn.Linear or LDAM's
NormedLinear named `linear`), and writes what users bring from PyTorch:

  OUT/sd.safetensors   the state dict as safetensors, no invkit manifest
  OUT/ckpt.pth         torch.save({"state_dict": ..., "epoch": ..., "arch": ...}), as LDAM-DRW saves
  OUT/full.pth         the same with an SGD optimizer's state and a best_acc1 tensor beside it
  OUT/namespace.pth    the same with the argparse.Namespace of the run (no weights-only reader takes it)
  OUT/model.pt         torch.jit.script of the model
  OUT/logits.json      PyTorch's own logits of DATA's images: {"logits": [[...]], "accuracy": a}

usage: pytorch_models.py CHECKPOINT.st DATA.st OUT   (needs python3-torch)
"""
import argparse
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import invkit_set  # beside this file


def read_safetensors(path):
    """(tensors by name as torch tensors, metadata) of a safetensors file (invkit_set.py reads it)."""
    header = invkit_set.header(path)
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "U8": torch.uint8}
    out = {}
    for name, raw in invkit_set.raw_tensors(path).items():
        t = header[name]
        out[name] = torch.frombuffer(bytearray(raw), dtype=dtypes[t["dtype"]]).reshape(t["shape"]) if raw else \
            torch.zeros(t["shape"], dtype=dtypes[t["dtype"]])
    return out, meta


def write_safetensors(path, tensors):
    codes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes() if t.dim() else t.reshape(1).numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


class NormedLinear(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(features, classes))

    def forward(self, x):
        return F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))


class Block(nn.Module):
    def __init__(self, inputs, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        self.pad = (planes - inputs) // 2

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x
        if self.stride != 1:
            s = s[:, :, ::2, ::2]
        if self.pad > 0:
            s = F.pad(s, (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(y + s)


class CifarResNet(nn.Module):
    def __init__(self, depth, channels, classes, normed):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, inputs = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(Block(inputs, planes, stride if i == 0 else 1))
                inputs = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = NormedLinear(64, classes) if normed else nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.linear(x.mean((2, 3)))


def main():
    ckpt, data, out = sys.argv[1:4]
    tensors, meta = read_safetensors(ckpt)
    manifest = json.loads(meta["invkit"])
    model = CifarResNet(int(manifest["arch"][len("resnet"):]), manifest["channels"], manifest["num_classes"],
                        manifest.get("normed_linear", False))
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    model.eval()

    write_safetensors(out + "/sd.safetensors", model.state_dict())
    torch.save({"state_dict": model.state_dict(), "epoch": manifest.get("epoch", 0), "arch": manifest["arch"]},
               out + "/ckpt.pth")
    torch.jit.script(model).save(out + "/model.pt")
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    model(torch.zeros(2, manifest["channels"], 8, 8)).sum().backward()
    sgd.step()
    model.load_state_dict(state, strict=True)  # the step changed the weights; restore them
    model.eval()
    full = {"epoch": 2, "arch": manifest["arch"], "state_dict": model.state_dict(), "best_acc1": torch.tensor(0.5),
            "optimizer": sgd.state_dict()}
    torch.save(full, out + "/full.pth")
    torch.save(dict(full, args=argparse.Namespace(lr=0.1)), out + "/namespace.pth")

    images, _ = read_safetensors(data)
    x = images["images"].float() / 255
    norm = manifest["normalization"]
    x = (x - torch.tensor(norm["mean"]).view(1, -1, 1, 1)) / torch.tensor(norm["std"]).view(1, -1, 1, 1)
    with torch.no_grad():
        logits = model(x)
    accuracy = (logits.argmax(1) == images["labels"]).double().mean().item()
    json.dump({"logits": logits.tolist(), "accuracy": accuracy, "torch": torch.__version__},
              open(out + "/logits.json", "w"))


if __name__ == "__main__":
    main()
