#!/usr/bin/env python3
"""The house's layering, checked on the #include lines of lib/invkit and tools/.

Each folder of lib/invkit may include its own headers, the top-level headers
(lib/invkit/*.h: error.h, random.h, pch.h) and the folders ALLOWED names;
anything else is an arrow the house forbids and fails this test with the file
and line. docs/architecture.md explains the layers.

usage: include_rules.py SOURCE_ROOT
       include_rules.py --self-test   (the checker catches a forbidden arrow)
"""
import os
import re
import sys

import lint

# Who may include whom (besides itself and the top-level headers).
ALLOWED = {
    "io": set(),                      # file formats: bytes <-> tensors and JSON
    "data": {"io"},                   # data sets, class names, selections
    "transforms": set(),              # nuisance transformations on images
    "models": set(),                  # networks: build and run, never read files
    "metrics": {"models", "transforms"},  # accuracy, eKLD, statistics
    "checkpoint": {"io", "data", "models"},  # the only place a model meets a file
    "train": {"checkpoint", "data", "dist", "io", "metrics", "models", "transforms"},
    "report": {"io", "metrics"},      # results trees -> findings, SVG plots
    "dist": set(),                    # data-parallel training: launch, process group, gradient sums
    "cli": {"checkpoint", "data", "dist", "io", "models"},  # what the tools share
}
TOOLS = set(ALLOWED)  # tools/ may include every layer

# The arrows the house names as forbidden; ALLOWED must not grant any.
FORBIDDEN = [("models", "io"), ("io", "data"), ("transforms", "models"), ("transforms", "io"),
             ("cli", "train"), ("metrics", "train")]

INCLUDE = re.compile(r'^\s*#\s*include\s+"invkit/([^"]+)"')


def layer_of(header):
    parts = header.split("/")
    return parts[0] if len(parts) > 1 else None  # None: a top-level header


def check(root):
    for a, b in FORBIDDEN:
        assert b not in ALLOWED[a], f"include_rules.py: ALLOWED grants the forbidden arrow {a} -> {b}"
    errors = []
    lib = os.path.join(root, "lib", "invkit")
    files = []
    for dirpath, _, names in os.walk(lib):
        for n in names:
            if n.endswith((".h", ".cpp")):
                rel = os.path.relpath(os.path.join(dirpath, n), lib)
                files.append((os.path.join(dirpath, n), layer_of(rel), "lib/invkit/" + rel))
    for n in os.listdir(os.path.join(root, "tools")):
        if n.endswith((".h", ".cpp")):
            files.append((os.path.join(root, "tools", n), "tools", "tools/" + n))
    folders = set(ALLOWED)
    for path, layer, shown in sorted(files, key=lambda f: f[2]):
        if layer is not None and layer != "tools" and layer not in folders:
            errors.append(f"{shown}: folder {layer!r} has no rule in test/lint/include_rules.py")
            continue
        allowed = TOOLS if layer == "tools" else (set() if layer is None else ALLOWED[layer])
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = layer_of(m.group(1))
                if target is None or target == layer or target in allowed:
                    continue
                errors.append(f"{shown}:{number}: {layer or 'lib/invkit'} -> {target} "
                              f"(includes invkit/{m.group(1)}; allowed: {', '.join(sorted(allowed)) or 'none'})")
    return errors, len(files)


def self_test():
    files = [("lib/invkit/models/net.cpp", '#include "invkit/error.h"\n#include "invkit/models/net.h"\n'),
             ("lib/invkit/models/bad.cpp", '#include "invkit/io/safetensors.h"\n'),
             ("lib/invkit/extra/x.h", ""),
             ("tools/t.cpp", '#include "invkit/train/x.h"\n')]
    expected = ["lib/invkit/extra/x.h: folder 'extra' has no rule in test/lint/include_rules.py",
                "lib/invkit/models/bad.cpp:1: models -> io (includes invkit/io/safetensors.h; allowed: none)"]
    return lint.planted("include_rules", check, files, expected, "a forbidden arrow and an unknown folder are caught")


if __name__ == "__main__":
    sys.exit(lint.main("include_rules", check, self_test))
