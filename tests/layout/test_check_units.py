#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/check-units.py on small trees: a bare 4096, 4095 or 2048 in code fails,
naming file and line; the same number in a comment, a string or as a #define's value passes, and
so do numbers that merely contain it. Printed as TAP."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import tap_unittest  # noqa: E402

TOOL = os.path.join(HERE, "..", "..", "tools", "check-units.py")


class CheckUnits(unittest.TestCase):
    def run_on(self, text):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        os.makedirs(os.path.join(d.name, "mm"))
        with open(os.path.join(d.name, "mm", "x.c"), "w") as f:
            f.write(text)
        r = subprocess.run([sys.executable, TOOL, "--root", d.name], capture_output=True, text=True)
        return r.returncode, r.stdout

    def test_bare_literal_in_code_fails(self):
        for lit in ("4096", "4095", "2048", "4096ull", "4096u", "2048UL"):
            rc, out = self.run_on("int a;\nint b = x %% %s;\n" % lit)
            self.assertNotEqual(rc, 0, lit)
            self.assertIn("mm/x.c:2: " + lit, out)

    def test_comments_strings_and_defines_pass(self):
        rc, out = self.run_on('/* a 4096-byte page */\n// 2048 per slot\n#define PAGE 4096u\n'
                              '#define HALF(x) ((x) / 2048)\nconst char *s = "4096, 64K";\nchar c = \'4\';\n')
        self.assertEqual(rc, 0, out)

    def test_numbers_containing_it_pass(self):
        rc, out = self.run_on("int a = 40960, b = 14096, c = 0x4096, d = 2048.5e0 > 1, e = x4096;\n")
        self.assertEqual(rc, 0, out)

    def test_no_c_file_fails(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        r = subprocess.run([sys.executable, TOOL, "--root", d.name], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not ok 1 - C files found (0)", r.stdout)

    def test_the_repository_passes(self):
        r = subprocess.run([sys.executable, TOOL], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == "__main__":
    tap_unittest.main(CheckUnits)
