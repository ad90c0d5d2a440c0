#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every function a header under src/ declares is defined somewhere in src/.

A header that promises a function nobody wrote misleads the reader and links
only until the first caller. For each non-static prototype in src/*/*.h (and
include/aidc/*.h for functions, not function-pointer members) this looks for a
definition "NAME(...) {" in src/**/*.c or plugins/**/*.c; inline functions
defined in the header count as defined. Prints the missing ones, exits 1.
Usage: check_decls.py [SOURCE_DIR]
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")


TOKEN = re.compile(r"""/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""", re.S)


def strip(text):
    """Comments, string and character literals and preprocessor lines blanked."""
    text = TOKEN.sub(lambda m: '""' if m.group(0)[0] in "\"'" else " ", text)
    return re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)


def top_level(text):
    """Text outside braces (struct bodies, inline function bodies)."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
            out.append(";")
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def declared(path):
    text = top_level(strip(open(path, encoding="utf-8").read()))
    names = set()
    for stmt in text.split(";"):
        s = " ".join(stmt.split())
        if not s or s.startswith(("typedef", "static", "struct ", "enum ", "union ")) and "(" not in s:
            continue
        if s.startswith(("typedef", "static", "extern const", "_Static_assert")):
            continue
        m = re.match(r"^[A-Za-z_][\w\s\*]*?[\s\*]([a-z_]\w*)\s*\((.*)\)(\s*__attribute__.*)?$", s)
        if m and "(*" not in s.split(m.group(1))[0]:
            names.add(m.group(1))
    return names


def defined(roots):
    names = set()
    for base in roots:
        for dirpath, _, files in os.walk(base):
            for f in files:
                if f.endswith((".c", ".h")):
                    text = strip(open(os.path.join(dirpath, f), encoding="utf-8").read())
                    for m in re.finditer(r"\b([a-z_]\w*)\s*\(([^;{}()]|\([^;{}]*?\))*\)\s*(__attribute__\s*\(\(.*?\)\)\s*)?\{", text):
                        names.add(m.group(1))
    return names


def main():
    src = os.path.join(root, "src")
    have = defined([src, os.path.join(root, "plugins")])
    missing = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(".h"):
                p = os.path.join(dirpath, f)
                for name in sorted(declared(p) - have):
                    missing.append(f"{os.path.relpath(p, root)}: {name} is declared but never defined")
    for line in missing:
        print(line)
    if missing:
        return 1
    print("ok: every function declared in src/*/*.h is defined")
    return 0


sys.exit(main())
