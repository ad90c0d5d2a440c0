#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lists the longest C functions under src/ (or the given directories).

A function is a definition whose opening brace is alone in column 0 and whose
closing brace is the next '}' in column 0 (the house style, see .clang-format);
its length counts the lines from its signature's first line to the closing brace.
Usage: long_functions.py [-n N] [--max L] [DIR...]
  -n N     print the N longest (default 10)
  --max L  name every function longer than L lines and exit 1 if there is one
           (test long_functions: src/ and plugins/ at 80, issue 10)
"""
import argparse
import os
import re
import sys

SIG = re.compile(r"^[A-Za-z_][^;{}()]*\b([A-Za-z_]\w*)\s*\(")


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if line != "{":
            continue
        j = i - 1  # the signature may span lines; its first line starts in column 0
        while j >= 0 and (lines[j].startswith(("\t", " ")) or lines[j].startswith(")")):
            j -= 1
        m = SIG.match(lines[j]) if j >= 0 else None
        if not m or lines[j].startswith(("struct ", "enum ", "union ", "typedef")) and "(" not in lines[j]:
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        out.append((end - j + 1, m.group(1), path, j + 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--max", type=int)
    ap.add_argument("dirs", nargs="*")
    a = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    dirs = a.dirs or [os.path.join(root, "src")]
    found = []
    for d in dirs:
        for dp, _, files in os.walk(d):
            for f in files:
                if f.endswith(".c"):
                    found += functions(os.path.join(dp, f))
    found.sort(key=lambda x: (-x[0], x[2], x[3]))
    for n, name, path, line in found[: a.n]:
        print("%4d  %s  %s:%d" % (n, name, os.path.relpath(path, root), line))
    if a.max is None:
        return 0
    over = [f for f in found if f[0] > a.max]
    for n, name, path, line in over:
        print("FAIL: %s (%s:%d) has %d lines, more than %d: split it into steps with names"
              % (name, os.path.relpath(path, root), line, n, a.max))
    if not over:
        print("ok: no function longer than %d lines" % a.max)
    return 1 if over else 0


sys.exit(main())
