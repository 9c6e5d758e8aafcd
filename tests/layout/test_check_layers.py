#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/check-layers.py on small trees built here: a downward include passes; an
upward one, one across, one into tests/, one into a folder outside the table, an unresolvable
one, and a known edge that no longer exists each fail, naming the file and line. Printed as TAP."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import tap_unittest  # noqa: E402

TOOL = os.path.join(HERE, "..", "..", "tools", "check-layers.py")


class CheckLayers(unittest.TestCase):
    def tree(self, files, known=""):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        for path, text in files.items():
            os.makedirs(os.path.join(d.name, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d.name, path), "w") as f:
                f.write(text)
        kp = os.path.join(d.name, "known.txt")
        with open(kp, "w") as f:
            f.write(known)
        r = subprocess.run([sys.executable, TOOL, "--root", d.name, "--known", kp], capture_output=True, text=True)
        return r.returncode, r.stdout

    BASE = {"lib/units.h": "#define PAGE 4096\n", "kernel/panic.h": '#include "lib/units.h"\n',
            "mm/mm.c": '#include "kernel/panic.h"\n#include "lib/units.h"\n'}

    def test_downward_includes_pass(self):
        rc, out = self.tree(self.BASE)
        self.assertEqual(rc, 0, out)
        self.assertIn("# 5 passed, 0 failed", out)

    def test_upward_include_fails_with_file_and_line(self):
        rc, out = self.tree({**self.BASE, "kernel/acpi.c": '/* x */\n#include "mm/mm.h"\n', "mm/mm.h": ""})
        self.assertNotEqual(rc, 0)
        self.assertIn("kernel/acpi.c:2: kernel -> mm", out)
        self.assertIn("kernel may include: lib, abi", out)

    def test_across_include_fails(self):
        # dma and hypercall are side by side: neither may include the other
        rc, out = self.tree({**self.BASE, "dma/swiotlb.c": '#include "hypercall/hc.h"\n', "hypercall/hc.h": ""})
        self.assertNotEqual(rc, 0)
        self.assertIn("dma/swiotlb.c:1: dma -> hypercall", out)

    def test_include_into_tests_fails(self):
        rc, out = self.tree({**self.BASE, "tools/bench/b.c": '#include "tests/host/fake.h"\n', "tests/host/fake.h": ""})
        self.assertNotEqual(rc, 0)
        self.assertIn("tools/bench -> tests/host", out)

    def test_folder_outside_the_table_fails(self):
        rc, out = self.tree({**self.BASE, "extra/x.c": '#include "lib/units.h"\n'})
        self.assertNotEqual(rc, 0)
        self.assertIn("not in the table: extra", out)

    def test_unresolvable_include_fails(self):
        rc, out = self.tree({**self.BASE, "mm/heap.c": '#include "heap.h"\n'})
        self.assertNotEqual(rc, 0)
        self.assertIn('mm/heap.c:1: #include "heap.h": no such file', out)

    def test_known_edge_passes_and_gone_known_edge_fails(self):
        files = {**self.BASE, "kernel/acpi.c": '#include "mm/mm.h"\n', "mm/mm.h": ""}
        rc, out = self.tree(files, "# comment\nkernel/acpi.c -> mm/mm.h\n")
        self.assertEqual(rc, 0, out)
        rc, out = self.tree(self.BASE, "kernel/acpi.c -> mm/mm.h\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("kernel/acpi.c -> mm/mm.h: no longer included", out)

    def test_no_include_at_all_fails(self):
        rc, out = self.tree({"lib/units.h": "#define PAGE 4096\n"})
        self.assertNotEqual(rc, 0)
        self.assertIn("no include found", out)

    def test_the_repository_passes(self):
        r = subprocess.run([sys.executable, TOOL], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == "__main__":
    tap_unittest.main(CheckLayers)
