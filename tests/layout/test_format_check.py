#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/format-check.py on small trees with the repository's .clang-format: a clean
tree passes; a C file laid out otherwise, a source file without its SPDX line, trailing
whitespace, a tab and a missing final newline each fail, naming the file. Printed as TAP."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import tap_unittest  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
TOOL = os.path.join(ROOT, "tools", "format-check.py")
GOOD_C = "/* SPDX-License-Identifier: MIT */\n/* x.c - an example. */\nint f(int a) { return a + 1; }\n"
GOOD_SH = "#!/bin/sh\n# SPDX-License-Identifier: MIT\necho ok\n"


class FormatCheck(unittest.TestCase):
    def run_on(self, files):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        shutil.copy(os.path.join(ROOT, ".clang-format"), d.name)
        for path, text in files.items():
            os.makedirs(os.path.join(d.name, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d.name, path), "w") as f:
                f.write(text)
        r = subprocess.run([sys.executable, TOOL, "--root", d.name], capture_output=True, text=True)
        return r.returncode, r.stdout

    def test_clean_tree_passes(self):
        rc, out = self.run_on({"mm/x.c": GOOD_C, "tools/y.sh": GOOD_SH})
        self.assertEqual(rc, 0, out)

    def test_misformatted_c_fails(self):
        rc, out = self.run_on({"mm/x.c": GOOD_C.replace("int f(int a) {", "int f(int a)  {")})
        self.assertNotEqual(rc, 0)
        self.assertIn("not ok 1", out)
        self.assertIn("mm/x.c:3", out)

    def test_missing_spdx_fails(self):
        rc, out = self.run_on({"mm/x.c": GOOD_C, "tools/y.sh": "#!/bin/sh\necho ok\n"})
        self.assertNotEqual(rc, 0)
        self.assertIn("tools/y.sh: no 'SPDX-License-Identifier: MIT'", out)

    def test_whitespace_rules_fail(self):
        for text, what in (("echo ok \n", "tools/y.sh:3: trailing whitespace"), ("\techo ok\n", "tools/y.sh:3: a tab"),
                           ("echo ok", "tools/y.sh: no final newline")):
            rc, out = self.run_on({"mm/x.c": GOOD_C, "tools/y.sh": "#!/bin/sh\n# SPDX-License-Identifier: MIT\n" + text})
            self.assertNotEqual(rc, 0, what)
            self.assertIn(what, out)

    def test_the_repository_passes(self):
        r = subprocess.run([sys.executable, TOOL], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == "__main__":
    tap_unittest.main(FormatCheck)
