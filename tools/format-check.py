#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""format-check.py - the layout rules every source file keeps (make format-check, make test).

  1. C files (.c, .h) are laid out as .clang-format says (clang-format --dry-run --Werror;
     `make format` applies it).
  2. Every source file carries an SPDX licence line (LICENSE) in its first two lines.
  3. What .editorconfig says for all text files: LF line ends, a final newline, no trailing
     whitespace, no tabs (but in Makefiles).

Prints TAP, one test per rule, with file:line for each finding; non-zero exit on any.
  format-check.py [--root DIR] [--clang-format BINARY]
"""
import argparse
import os
import subprocess
import sys

SPDX = "SPDX-License-Identifier: MIT"
C_FILES = (".c", ".h")
SOURCE = (".c", ".h", ".S", ".lds", ".py", ".sh", ".conf")
TEXT = SOURCE + (".md", ".txt", ".config", ".yaml")  # not .json: generated data
SKIP_DIRS = {"build", ".git"}


def files(root):
    for d, dirs, names in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        for n in sorted(names):
            yield os.path.relpath(os.path.join(d, n), root)


def is_source(path, head):
    name = os.path.basename(path)
    return path.endswith(SOURCE) or name == "Makefile" or head.startswith("#!")


def check(root, clang_format):
    all_files = list(files(root))
    results = []

    c_files = [p for p in all_files if p.endswith(C_FILES)]
    bad = []
    if c_files:
        r = subprocess.run([clang_format, "--dry-run", "--Werror", "--style=file"] + c_files, cwd=root,
                           capture_output=True, text=True)
        bad = sorted({line.split(":")[0] + ":" + line.split(":")[1] for line in r.stderr.splitlines()
                      if ": error:" in line})
        if r.returncode != 0 and not bad:
            bad = [r.stderr.strip() or "clang-format failed (exit %d)" % r.returncode]
    results.append((bool(c_files) and not bad, "C files as .clang-format lays them out (%d files; `make format` fixes)"
                    % len(c_files), bad if c_files else ["no C file under " + root]))

    no_spdx, layout, sources = [], [], 0
    for p in all_files:
        if not (p.endswith(TEXT) or os.path.basename(p) in ("Makefile", ".editorconfig", ".clang-format", ".gitignore")
                or p.startswith(("tools/run", ".ci/"))):
            continue
        with open(os.path.join(root, p), "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            layout.append("%s: not UTF-8" % p)
            continue
        if is_source(p, text[:2]):
            sources += 1
            if SPDX not in "\n".join(text.split("\n", 2)[:2]):
                no_spdx.append("%s: no '%s' in its first two lines" % (p, SPDX))
        if "\r" in text:
            layout.append("%s: CR line ends" % p)
        if text and not text.endswith("\n"):
            layout.append("%s: no final newline" % p)
        for n, line in enumerate(text.split("\n"), 1):
            if line != line.rstrip() and not p.endswith(".md"):
                layout.append("%s:%d: trailing whitespace" % (p, n))
            if "\t" in line and os.path.basename(p) != "Makefile":
                layout.append("%s:%d: a tab" % (p, n))
    results.append((sources > 0 and not no_spdx, "every source file names its licence (%d files)" % sources, no_spdx))
    results.append((not layout, "LF line ends, final newline, no trailing whitespace, no tabs (.editorconfig)", layout))

    print("TAP version 13")
    print("1..%d" % len(results))
    for k, (ok, desc, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", k, desc))
        for d in detail[:50]:
            print("#   " + d)
        if len(detail) > 50:
            print("#   ... and %d more" % (len(detail) - 50))
    failed = sum(1 for ok, _, _ in results if not ok)
    print("# %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--clang-format", default="clang-format")
    a = ap.parse_args()
    return check(a.root, a.clang_format)


if __name__ == "__main__":
    sys.exit(main())
