#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/docs/policy_table.py: docs/bounce.md's policy table comes from the rig's
results and the bench's JSON, cell by cell; a missing scenario or figure fails instead of leaving
a hole; a hand edit of the table, or a page without the block, is caught. Printed as TAP."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "docs"))
sys.path.insert(0, os.path.join(HERE, ".."))
import policy_table  # noqa: E402
import tap_unittest  # noqa: E402

TOOL = os.path.join(HERE, "..", "..", "tools", "docs", "policy_table.py")


def scenario(name, **kw):
    return {"scenario": name, **kw}


KVM = {"run_id": "20261206-050000", "provenance": {"bounce_commit": "abc1234"}, "scenarios": [
    scenario("ide-copy", rbw_pages=8192, filled_pages=8192, faults_per_filled_page=3.0),
    scenario("ide-zero", rbw_pages=0, filled_pages=8192, faults_per_filled_page=1.0),
    scenario("ide-exact", rbw_pages=0, filled_pages=8192, faults_per_filled_page=1.0),
    scenario("cc-swp-copy-bounce", canary_found=True), scenario("cc-swp-zero-bounce", canary_found=False),
    scenario("cc-swp-exact-bounce", canary_found=False),
    scenario("cc-swp-copy-partial", partial_read={"rest": "as it was"}),
    scenario("cc-swp-zero-partial", partial_read={"rest": "zeros"}),
    scenario("cc-swp-exact-partial", partial_read={"rest": "as it was"}),
]}
BENCH = {"machine": {"cpu": "AMD EPYC"}, "pool_bytes": 64 << 20, "from_device_copy_vs_memcpy_64k": 0.475,
         "from_device_zero_vs_memcpy_64k": 0.542, "from_device_exact_vs_memcpy_64k": 0.945}


def row(text, policy):
    return next(line for line in text.splitlines() if line.startswith(f"| {policy} |"))


class PolicyTable(unittest.TestCase):
    def test_each_cell_comes_from_its_figure(self):
        text = policy_table.render(KVM, BENCH)
        self.assertIn("`20261206-050000`", text)
        self.assertIn("AMD EPYC", text)
        self.assertEqual(row(text, "copy (Linux)"), "| copy (Linux) | yes (8192 of 8192 pages read first) | the original's, "
                         "copied in at map | 2.11 (0.475) | 3 | yes |")
        self.assertEqual(row(text, "zero"), "| zero | never (0 of 8192 pages read first) | zeros | 1.85 (0.542) | 1 | no |")
        self.assertEqual(row(text, "zero + exact completion"), "| zero + exact completion | never (0 of 8192 pages "
                         "read first) | as they were: never touched | 1.06 (0.945) | 1 | no |")

    def test_a_missing_scenario_or_figure_fails(self):
        for mutate in (lambda k, b: k["scenarios"].pop(2), lambda k, b: b.pop("from_device_exact_vs_memcpy_64k"),
                       lambda k, b: k["scenarios"][0].pop("rbw_pages"), lambda k, b: k["scenarios"][8].pop("partial_read"),
                       lambda k, b: k["scenarios"][4].pop("canary_found")):
            k, b = copy.deepcopy(KVM), copy.deepcopy(BENCH)
            mutate(k, b)
            with self.assertRaises(policy_table.Missing):
                policy_table.render(k, b)

    def run_tool(self, *args):
        return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)

    def test_update_then_check_then_a_hand_edit_is_caught(self):
        with tempfile.TemporaryDirectory() as d:
            kvm, bench, page = (os.path.join(d, n) for n in ("kvm.json", "bench.json", "page.md"))
            json.dump(KVM, open(kvm, "w"))
            json.dump(BENCH, open(bench, "w"))
            open(page, "w").write(f"# x\n\n{policy_table.BEGIN}\nold\n{policy_table.END}\n\nafter\n")
            self.assertEqual(self.run_tool(kvm, bench, "--update", page).returncode, 0)
            self.assertEqual(self.run_tool(kvm, bench, "--check", page).returncode, 0)
            text = open(page).read()
            self.assertTrue(text.endswith(policy_table.END + "\n\nafter\n"))
            open(page, "w").write(text.replace("| 1.85 (0.542) |", "| 1.50 (0.542) |"))
            p = self.run_tool(kvm, bench, "--check", page)
            self.assertEqual(p.returncode, 1)
            self.assertIn("not ok 1", p.stdout)
            open(page, "w").write("# no block\n")
            self.assertNotEqual(self.run_tool(kvm, bench, "--check", page).returncode, 0)
            json.dump({"scenarios": []}, open(kvm, "w"))
            p = self.run_tool(kvm, bench)
            self.assertEqual(p.returncode, 2)
            self.assertIn("scenario ide-copy is missing", p.stderr)


if __name__ == "__main__":
    tap_unittest.main(PolicyTable)
