#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-units.py - the page and the bounce slot have names: no bare 4096, 4095 or 2048 in C code.

A page is PAGE_SIZE (lib/units.h), a bounce slot SWIOTLB_SLOT_SIZE (dma/swiotlb.h); any other
quantity that happens to be 4096 or 2048 (a table size, a sector count) gets its own named
constant. So the literal may appear only as the value of a `#define NAME ...` line - where a name
is given to it - and in comments and strings, which are read by people, not compiled.

Checks every .c and .h of the repository (build/ aside) and prints file:line and the line for
each bare literal, as TAP; non-zero exit on any. `--root DIR` checks another tree (the tests).
"""
import argparse
import os
import re
import sys

LITERAL = re.compile(r"(?<![\w.])(4096|4095|2048)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU]?)(?![\w.])")
DEFINE = re.compile(r"^\s*#\s*define\s+\w+(\([^)]*\))?\s")


def strip_comments_and_strings(text):
    """The text with comments, string and character literals blanked (newlines kept), so line
    numbers stay right."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + (c if j - 1 > i else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def bare_literals(path, text):
    code = strip_comments_and_strings(text).split("\n")
    lines = text.split("\n")
    found = []
    for n, line in enumerate(code, 1):
        if DEFINE.match(line):
            continue
        for m in LITERAL.finditer(line):
            found.append("%s:%d: %s  (%s)" % (path, n, m.group(0), lines[n - 1].strip()))
    return found


def sources(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in ("build", ".git") and not (d == root and x.startswith(".")))
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), root)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    found, files = [], 0
    for path in sources(a.root):
        files += 1
        with open(os.path.join(a.root, path), errors="replace") as f:
            found += bare_literals(path, f.read())
    print("TAP version 13\n1..2")
    print("%s 1 - C files found (%d)" % ("ok" if files else "not ok", files))
    print("%s 2 - no bare 4096, 4095 or 2048 outside a #define (%d found)" % ("not ok" if found else "ok", len(found)))
    for f in found:
        print("#   " + f)
    failed = (files == 0) + bool(found)
    print("# %d passed, %d failed" % (2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
