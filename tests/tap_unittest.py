# SPDX-License-Identifier: MIT
"""Python unittest cases printed as TAP, one line per test, for make test's summary
(tests/rig/test_analyze.py, tests/runner/test_tap_summary.py)."""
import sys
import unittest


class Tap(unittest.TextTestResult):
    """Minimal TAP on top of unittest: one line per test."""
    n = 0

    def _line(self, ok, test, extra=""):
        Tap.n += 1
        self.stream.write(f"{'ok' if ok else 'not ok'} {Tap.n} - {test.id().split('.')[-1]}{extra}\n")

    def addSuccess(self, test):
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, "\n# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, "\n# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))


def main(*cases):
    """Run the TestCase classes, print TAP and exit 0 only if every test passed."""
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in cases)
    print("TAP version 13")
    print(f"1..{suite.countTestCases()}")
    result = unittest.TextTestRunner(stream=sys.stdout, resultclass=Tap, verbosity=0).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
