#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/tap-summary.py, the verdict of make test: a step that cannot pass must
fail - all cases skipped, no results, fewer results than planned, a crash - unless the step list
declares it may skip. Printed as TAP."""
import json
import os
import xml.etree.ElementTree as ET
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import tap_unittest  # noqa: E402

SUMMARY = os.path.join(HERE, "..", "..", "tools", "tap-summary.py")


class Verdict(unittest.TestCase):
    def summarize(self, *steps):
        """steps: (tap text, exit status, verdict or None[, limit, killed]). Returns (exit status, summary)."""
        with tempfile.TemporaryDirectory() as d:
            tsv = os.path.join(d, "steps.tsv")
            with open(tsv, "w") as f:
                for i, (tap, rc, verdict, *limit) in enumerate(steps):
                    log = os.path.join(d, f"{i}.tap")
                    with open(log, "w") as lf:
                        lf.write(tap)
                    f.write("\t".join([f"step{i}", log, str(rc), "1"] + ([verdict] if verdict else [])
                                       + [str(x) for x in limit]) + "\n")
            p = subprocess.run([sys.executable, SUMMARY, tsv, os.path.join(d, "s.json"), os.path.join(d, "junit.xml")],
                               capture_output=True, text=True)
            self.assertTrue(p.stdout.rstrip().splitlines()[-1].endswith(" failed"), p.stdout)
            summary = json.load(open(os.path.join(d, "s.json")))
            self.junit = ET.parse(os.path.join(d, "junit.xml")).getroot()
            self.assertJunitMatches(summary)
            return p.returncode, summary

    def assertJunitMatches(self, summary):
        """junit.xml parses, and its counts - totals, per step, and testcases - equal the summary's."""
        j = self.junit
        self.assertEqual(j.tag, "testsuites")
        self.assertEqual([int(j.get(k)) for k in ("failures", "skipped")], [summary["failed"], summary["skipped"]])
        self.assertEqual(int(j.get("tests")), summary["passed"] + summary["failed"] + summary["skipped"])
        suites = j.findall("testsuite")
        self.assertEqual([s.get("name") for s in suites], [r["step"] for r in summary["steps"]])
        for suite, r in zip(suites, summary["steps"]):
            cases = suite.findall("testcase")
            self.assertEqual(len(cases), r["passed"] + r["failed"] + r["skipped"])
            self.assertEqual(sum(c.find("failure") is not None for c in cases), r["failed"])
            self.assertEqual(sum(c.find("skipped") is not None for c in cases), r["skipped"])

    def test_passing_step_passes(self):
        rc, s = self.summarize(("1..2\nok 1 - a\nok 2 - b # SKIP no disk\n", 0, "must-pass"))
        self.assertEqual((rc, s["passed"], s["failed"], s["skipped"]), (0, 1, 0, 1))
        cases = self.junit.find("testsuite").findall("testcase")
        self.assertEqual([c.get("name") for c in cases], ["a", "b"])
        self.assertEqual(cases[1].find("skipped").get("message"), "no disk")

    def test_junit_carries_failures_with_their_diagnostics_and_step_failures(self):
        tap = "1..3\nok 1 - blk.a\nnot ok 2 - blk.b\n#   suite_blk.c:40: expected 1 == 2\nok 3 - blk.c # SKIP not attached\n"
        rc, s = self.summarize((tap, 1, "must-pass"), ("1..1\nok 1 - x\n", 63, "must-pass"))
        first, second = self.junit.findall("testsuite")
        failure = first.findall("testcase")[1].find("failure")
        self.assertEqual(failure.get("message"), "not ok 2 - blk.b")
        self.assertIn("suite_blk.c:40: expected 1 == 2", failure.text)
        step_case = second.findall("testcase")[-1]
        self.assertEqual(step_case.get("name"), "(step) step failed with exit status 63")

    def test_all_skipped_fails_unless_may_skip(self):
        tap = "1..2\nok 1 - a # SKIP not attached\nok 2 - b # SKIP not attached\n"
        rc, s = self.summarize((tap, 77, "must-pass"))
        self.assertEqual((rc, s["failed"]), (1, 1))
        self.assertIn("every case skipped", s["steps"][0]["notes"][0])
        rc, s = self.summarize((tap, 77, "may-skip"))
        self.assertEqual((rc, s["failed"], s["skipped"]), (0, 0, 2))

    def test_only_skips_with_status_0_fails(self):
        rc, s = self.summarize(("1..1\nnot ok 1 - a # SKIP cmocka style\n", 0, "must-pass"))
        self.assertEqual((rc, s["failed"]), (1, 1))

    def test_no_results_fails(self):
        rc, s = self.summarize(("no tests selected\n0 passed, 0 failed\n", 0, "must-pass"))
        self.assertEqual((rc, s["failed"]), (1, 1))
        self.assertIn("no test results", s["steps"][0]["notes"][0])

    def test_fewer_results_than_planned_fails(self):
        rc, s = self.summarize(("1..3\nok 1 - a\n", 0, None))
        self.assertEqual((rc, s["failed"]), (1, 1))

    def test_crash_without_a_failed_case_fails(self):
        rc, s = self.summarize(("1..1\nok 1 - a\n", 63, None))
        self.assertEqual((rc, s["failed"]), (1, 1))

    def test_a_step_killed_by_its_limit_fails_naming_the_limit(self):
        tap = "1..3\nok 1 - a\nok 2 - b\n# STEP TIMEOUT: x killed after its limit of 60 s\n"
        rc, s = self.summarize((tap, 124, "must-pass", 60, 1))
        self.assertEqual((rc, s["passed"], s["failed"]), (1, 2, 1))
        self.assertEqual(s["steps"][0]["notes"][0], "killed by its time limit of 60 s")
        self.assertTrue(s["steps"][0]["timed_out"])
        # the same status from the command itself (the QEMU runner's own timeout) is not the limit
        rc, s = self.summarize(("1..1\nnot ok 1 - guest timed out\n", 124, "must-pass", 60, 0))
        self.assertEqual((rc, s["failed"]), (1, 1))
        self.assertFalse(s["steps"][0]["timed_out"])

    def test_failed_case_counts_once(self):
        rc, s = self.summarize(("1..2\nok 1 - a\nnot ok 2 - b\n", 1, None))
        self.assertEqual((rc, s["passed"], s["failed"]), (1, 1, 1))

    def test_missing_log_fails(self):
        with tempfile.TemporaryDirectory() as d:
            tsv = os.path.join(d, "steps.tsv")
            open(tsv, "w").write(f"gone\t{d}/nothing.tap\t0\t1\tmust-pass\n")
            p = subprocess.run([sys.executable, SUMMARY, tsv, os.path.join(d, "s.json")], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1, p.stdout)


if __name__ == "__main__":
    tap_unittest.main(Verdict)
