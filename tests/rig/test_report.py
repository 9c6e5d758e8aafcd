#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/rig/report.py: the README's rig tables come from a results.json, and a
hand edit of them, or a README without the generated block, is caught. Printed as TAP."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "rig"))
sys.path.insert(0, os.path.join(HERE, ".."))
import report  # noqa: E402
import tap_unittest  # noqa: E402

REPORT = os.path.join(HERE, "..", "..", "tools", "rig", "report.py")
DOC = {
    "mode": "nested (no /dev/kvm)", "run_id": "20261205-233822",
    "provenance": {"bounce_commit": "f7b3ccf", "qemu": "QEMU emulator version 10.0.2",
                   "kernels": {"stock": {"release": "6.12.118+deb12-amd64", "origin": "Debian package"}}},
    "scenarios": [
        {"scenario": "ide-copy", "device": "ide-dma", "policy": "copy", "thp": "never", "workload": True,
         "filled_pages": 8192, "rbw_pages": 8192, "write_first_pages": 0, "read_only_pages": 0,
         "faults_per_filled_page": 3.0, "block_requests": 35, "device_exits_per_request": 64.5,
         "exits_by_cause_per_request": {"device_pio": 64, "device_mmio": 0.5, "conversions": 0}},
        {"scenario": "cc-swp-zero-convert", "vm_type": "sw-protected", "policy": "zero", "io_strategy": "convert",
         "canary_found": False, "requests": 67, "hypercalls_per_request": 244.58, "exits_per_request": 356.69,
         "bytes_copied_per_request": 1502480.5, "faults_per_filled_page": 3.0, "device_exits_per_request": 1.66},
        {"scenario": "ide-zero", "error": "trace line 3: cannot parse this kvm_page_fault event"},
    ],
    "skipped": [{"scenario": "cc-swp-zero-bounce", "reason": "this host has no KVM_X86_SW_PROTECTED_VM"}],
}


class Report(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.results = os.path.join(self.tmp.name, "results.json")
        json.dump(DOC, open(self.results, "w"))
        self.readme = os.path.join(self.tmp.name, "README.md")
        open(self.readme, "w").write(f"# x\n\nbefore\n\n{report.BEGIN}\nold table\n{report.END}\n\nafter\n")

    def tearDown(self):
        self.tmp.cleanup()

    def tool(self, *args):
        return subprocess.run([sys.executable, REPORT, self.results, *args], capture_output=True, text=True)

    def test_tables_carry_the_figures_and_where_they_come_from(self):
        text = report.render(DOC)
        self.assertIn("Run `20261205-233822`, bounce `f7b3ccf`, QEMU emulator version 10.0.2", text)
        self.assertIn("stock: 6.12.118+deb12-amd64 (Debian package)", text)
        self.assertIn("| ide-copy | ide-dma | copy | never | 8192 | 8192 | 0 | 0 | 3 | 35 | 64.5 |", text)
        self.assertIn("| cc-swp-zero-convert | sw-protected | zero | convert | no | 67 | 244.58 | 356.69 | 1.66 | 1,502,480 | 3 |",
                      text)
        self.assertIn("| ide-copy | 64 | 0.5 | 0 |", text)
        self.assertIn("ide-zero: not analyzed: trace line 3", text)
        self.assertIn("cc-swp-zero-bounce: not run: this host has no KVM_X86_SW_PROTECTED_VM", text)

    def test_a_stale_block_fails_the_check_until_updated(self):
        self.assertEqual(self.tool("--check", self.readme).returncode, 1)
        self.assertEqual(self.tool("--update", self.readme).returncode, 0)
        self.assertEqual(self.tool("--check", self.readme).returncode, 0)
        text = open(self.readme).read()
        self.assertTrue(text.startswith("# x\n\nbefore\n\n" + report.BEGIN))
        self.assertTrue(text.endswith(report.END + "\n\nafter\n"))

    def test_a_hand_edit_is_caught(self):
        self.tool("--update", self.readme)
        text = open(self.readme).read().replace("| 244.58 |", "| 245 |")
        open(self.readme, "w").write(text)
        p = self.tool("--check", self.readme)
        self.assertEqual(p.returncode, 1)
        self.assertIn("make kvm-report", p.stderr)

    def test_a_readme_without_the_block_fails(self):
        open(self.readme, "w").write("# no tables\n")
        self.assertNotEqual(self.tool("--check", self.readme).returncode, 0)
        self.assertNotEqual(self.tool("--update", self.readme).returncode, 0)

    def test_unreadable_results_fail(self):
        open(self.results, "w").write("{not json")
        self.assertNotEqual(self.tool().returncode, 0)


if __name__ == "__main__":
    tap_unittest.main(Report)
