#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-layers.py - includes point down the layers: no upward edge, no cycle, between folders.

Every source file (.c, .h, .S) belongs to a component: its top folder (kernel/boot/x.c is in
kernel), or its top two under tests/ and tools/ (tests/host, tools/vmm; a file directly in tools/
is in tools). LAYERS below says, bottom to top, what each component may include besides itself;
an `#include "path"` (always from the repository root) into anything else is an offending edge,
printed as file:line, the edge, and what the file's component may include.

Known offending edges being removed (issue 26) are listed in tools/layers-known.txt: each must
still occur (a fixed one is struck from the list, so the list only shrinks), and only they are
let through. Output is TAP; the exit status is non-zero on any failure.

  check-layers.py [--root DIR] [--known FILE]   check (make test)
  check-layers.py --print                       the layer table, bottom to top
"""
import argparse
import os
import re
import sys

# Bottom to top: a component may include only components listed before it, and only those named.
# The guest kernel first, then what runs on the host.
LAYERS = [
    ("lib", [], "pure units and arithmetic every layer uses (page size, alignment, memory ranges)"),
    ("abi", ["lib"], "what the guest and the host tools share: virtio, virtio-blk, hypercalls, test disks"),
    ("kernel", ["lib", "abi"], "basic services: CPU, console, panic, time, traps, options, exit, boot paths"),
    ("hypercall", ["lib", "abi", "kernel"], "the KVM hypercall client"),
    ("dma", ["lib", "abi"], "the DMA layer: pure, compiled for the guest and the host alike"),
    ("mm", ["lib", "abi", "kernel", "hypercall", "dma"], "memory, page tables, page states; the DMA platform"),
    ("drivers", ["lib", "abi", "kernel", "hypercall", "dma", "mm"], "ACPI, PCI, IDE, virtio, block, page cache"),
    ("ktest", ["lib", "abi", "kernel", "mm"], "the in-guest test framework"),
    ("tests/guest", ["lib", "abi", "kernel", "hypercall", "dma", "mm", "drivers", "ktest"], "in-guest suites"),
    ("init", ["lib", "abi", "kernel", "hypercall", "dma", "mm", "drivers", "ktest"],
     "kmain and the end-of-run reports: glue above the layers they drive"),
    ("tools", ["lib", "abi"], "host tools: disk images, kvm-probe"),
    ("tools/vmm", ["lib", "abi"], "the confidential-mode VMM"),
    ("tools/hostlib", ["lib", "abi", "dma"], "host-side platforms for the pure layers (the fake DMA platform)"),
    ("tools/bench", ["lib", "abi", "dma", "tools/hostlib"], "benchmarks of the pure layers"),
]
GUEST_AND_TOOLS = [name for name, _, _ in LAYERS if name not in ("tests/guest", "init")]
LAYERS += [
    ("tests/host", GUEST_AND_TOOLS, "host unit tests (cmocka)"),
    ("tests/fuzz", GUEST_AND_TOOLS + ["tests/host"], "libFuzzer targets"),
]

SOURCE = re.compile(r"\.(c|h|S)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def component(path):
    parts = path.split("/")
    if parts[0] in ("tests", "tools") and len(parts) > 2:
        return parts[0] + "/" + parts[1]
    return parts[0] if len(parts) > 1 else "."


def table_problems():
    """The table itself: every name once, and each component allowed only what lies below it
    (which also makes the allowed graph acyclic)."""
    seen, problems = set(), []
    for name, allowed, _ in LAYERS:
        if name in seen:
            problems.append("%s is listed twice" % name)
        for a in allowed:
            if a not in seen:
                problems.append("%s may include %s, which is not below it" % (name, a))
        seen.add(name)
    return problems


def sources(root):
    skip = {"build", ".git"}
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in skip and not (d == root and x.startswith(".")))
        for f in sorted(files):
            if SOURCE.search(f):
                yield os.path.relpath(os.path.join(d, f), root)


def edges(root):
    """(file, line, included path) for every quoted include between two components."""
    out, total = [], 0
    for path in sources(root):
        with open(os.path.join(root, path), errors="replace") as f:
            for n, text in enumerate(f, 1):
                m = INCLUDE.match(text)
                if not m:
                    continue
                total += 1
                inc = m.group(1)
                if component(inc) != component(path):
                    out.append((path, n, inc))
    return out, total


def unresolved(root, path, inc):
    return not os.path.exists(os.path.join(root, inc))


def load_known(path):
    known = set()
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    src, _, inc = line.partition(" -> ")
                    known.add((src.strip(), inc.strip()))
    return known


def check(root, known_path, shown):
    allowed = {name: set(a) for name, a, _ in LAYERS}
    results = []  # (ok, description, detail lines)
    problems = table_problems()
    results.append((not problems, "the layer table lists each component once, above all it may include", problems))

    found, total = edges(root)
    bad_paths = ["%s:%d: #include \"%s\": no such file from the repository root" % (p, n, i)
                 for p, n, i in found if unresolved(root, p, i)]
    results.append((total > 0 and not bad_paths, "every include names a file from the repository root (%d includes read)"
                    % total, bad_paths if total else ["no include found under %s" % root]))

    unknown = sorted({component(p) for p, _, _ in found} - set(allowed))
    results.append((not unknown, "every source file is in a component of the table", ["not in the table: " + u for u in unknown]))

    known = load_known(known_path)
    offending, seen_known = [], set()
    for p, n, inc in found:
        src, dst = component(p), component(inc)
        if src not in allowed or dst in allowed[src]:
            continue
        if (p, inc) in known:
            seen_known.add((p, inc))
            continue
        may = ", ".join(sorted(allowed[src], key=[x[0] for x in LAYERS].index)) or "nothing"
        offending.append("%s:%d: %s -> %s (#include \"%s\"); %s may include: %s" % (p, n, src, dst, inc, src, may))
    results.append((not offending, "no include goes up a layer or across (%d known, listed in %s)"
                    % (len(known), shown), offending))
    stale = ["%s -> %s: no longer included - strike it from %s" % (s, i, shown) for s, i in sorted(known - seen_known)]
    results.append((not stale, "every listed known edge still exists", stale))

    print("TAP version 13")
    print("1..%d" % len(results))
    for k, (ok, desc, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", k, desc))
        for d in detail:
            print("#   " + d)
    failed = sum(1 for ok, _, _ in results if not ok)
    print("# %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here))
    ap.add_argument("--known", default=None, help="known edges (default: tools/layers-known.txt under the root)")
    ap.add_argument("--print", action="store_true", help="print the layer table")
    a = ap.parse_args()
    if a.print:
        for name, allowed, what in LAYERS:
            print("%-14s %s\n%-14s   may include: %s" % (name, what, "", ", ".join(allowed) or "nothing"))
        return 0
    known = a.known if a.known is not None else os.path.join(a.root, "tools", "layers-known.txt")
    return check(a.root, known, os.path.relpath(known, a.root))


if __name__ == "__main__":
    sys.exit(main())
