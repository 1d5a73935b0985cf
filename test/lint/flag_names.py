#!/usr/bin/env python3
"""The library never spells a tool's flag: a string literal in lib/invkit
that contains --NAME fails this test with the file and line.

Messages name a parameter with param("name") (invkit/error.h); cli::Tool
shows it as the tool's option, --name. Exempt: cli/ (the tools' own layer)
and report/ (its prose tells how the results were made, e.g. train-classifier
`--test`).

usage: flag_names.py SOURCE_ROOT
       flag_names.py --self-test   (the checker catches a flag)
"""
import os
import re
import sys

import lint

EXEMPT = {"cli", "report"}
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def check(root):
    lib = os.path.join(root, "lib", "invkit")
    errors, count = [], 0
    for dirpath, _, names in os.walk(lib):
        rel = os.path.relpath(dirpath, lib)
        if rel.split(os.sep)[0] in EXEMPT:
            continue
        for n in sorted(names):
            if not n.endswith((".h", ".cpp")):
                continue
            count += 1
            path = os.path.join(dirpath, n)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if line.lstrip().startswith("//"):
                        continue
                    if any(FLAG.search(m.group(1)) for m in LITERAL.finditer(line)):
                        shown = os.path.relpath(path, root)
                        errors.append(f"{shown}:{number}: a flag in a message; name the parameter with param()")
    return sorted(errors), count


def self_test():
    files = [("lib/invkit/data/bad.cpp", 'throw UsageError("--max must be positive");\n'),
             ("lib/invkit/data/good.cpp", 'throw UsageError(param("max") + " must be -- positive");\n'
                                          '// a comment may say --max\n'),
             ("lib/invkit/cli/tool.cpp", 'report("--device cuda");\n')]
    expected = ["lib/invkit/data/bad.cpp:1: a flag in a message; name the parameter with param()"]
    return lint.planted("flag_names", check, files, expected, "a flag in a library message is caught")


if __name__ == "__main__":
    sys.exit(lint.main("flag_names", check, self_test))
