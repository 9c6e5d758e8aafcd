#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sum up the TAP logs of a `make test` run.

Usage: tap-summary.py STEPS.tsv SUMMARY.json [JUNIT.xml]

STEPS.tsv has one line per step (tools/test-steps.sh): name, log file, exit status, seconds,
verdict (must-pass or may-skip), time limit and whether the limit killed it (tab-separated; the
last three may be absent). Each log is TAP: "ok N ...", "not ok N ...", with "# SKIP" directives
(cmocka writes "not ok N # SKIP"). A step counts as one failure of its own when:
  - its time limit killed it;
  - its exit status is not 0 but its log shows no failed test (a panic, a timeout, a crash, a
    build error), or it is 77 (every case skipped) and the step is not declared may-skip;
  - its log has fewer results than its plan announced;
  - it reported no result at all, or only skips, and is not declared may-skip: a step whose
    device was not found or whose cases all skipped has not passed.
Prints a table, then - as the very last line - "N passed, N failed". With JUNIT.xml it also
writes JUnit XML, the format GitLab's, Jenkins' and GitHub's test reporters read: a testsuite per
step, a testcase per TAP result (failures with their diagnostics, skips with their reasons), and
one testcase per failure of a step's own (named "(step) ..."), so its counts equal the summary's.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
SKIP = re.compile(r"#\s*skip\b\s*(.*)$", re.I)
PLAN = re.compile(r"^1\.\.(\d+)")
EXIT_ALL_SKIPPED = "77"


def parse(log):
    """-> (cases, plan). A case: {"status": pass|fail|skip, "name", "line", "reason", "details"};
    "details" are the "#" lines that follow a failed case."""
    cases, plan = [], None
    try:
        lines = open(log, errors="replace").read().splitlines()
    except OSError:
        return [], None
    for line in lines:
        m = PLAN.match(line)
        if m and plan is None:
            plan = int(m.group(1))
        m = RESULT.match(line)
        if not m:
            if line.startswith("#") and cases and cases[-1]["status"] == "fail":
                cases[-1]["details"].append(line.lstrip("# "))
            continue
        skip = SKIP.search(line)
        name = (SKIP.sub("", m.group(3)) if skip else m.group(3)).strip() or f"case {m.group(2) or len(cases) + 1}"
        status = "skip" if skip else "pass" if m.group(1) == "ok" else "fail"
        cases.append({"status": status, "name": name, "line": line, "reason": skip.group(1).strip() if skip else "",
                      "details": []})
    return cases, plan


def write_junit(rows, path):
    """JUnit XML: a testsuite per step; the step's own failures (notes) as testcases of their own."""
    total = {k: sum(r[k] for r in rows) for k in ("passed", "failed", "skipped")}
    root = ET.Element("testsuites", name="make test", tests=str(sum(total.values())), failures=str(total["failed"]),
                      skipped=str(total["skipped"]), errors="0", time=f"{sum(r['seconds'] for r in rows):.1f}")
    for r in rows:
        suite = ET.SubElement(root, "testsuite", name=r["step"], tests=str(r["passed"] + r["failed"] + r["skipped"]),
                              failures=str(r["failed"]), skipped=str(r["skipped"]), errors="0",
                              time=f"{r['seconds']:.1f}")
        for c in r["cases"]:
            tc = ET.SubElement(suite, "testcase", classname=r["step"], name=c["name"])
            if c["status"] == "fail":
                ET.SubElement(tc, "failure", message=c["line"]).text = "\n".join(c["details"]) or c["line"]
            elif c["status"] == "skip":
                ET.SubElement(tc, "skipped", message=c["reason"] or "skipped")
        for note in r["notes"]:
            tc = ET.SubElement(suite, "testcase", classname=r["step"], name=f"(step) {note}")
            ET.SubElement(tc, "failure", message=note).text = f"{note}; the step's log: {r['log']}"
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def main():
    steps_file, json_file = sys.argv[1:3]
    junit_file = sys.argv[3] if len(sys.argv) > 3 else None
    rows, total_p, total_f, total_s = [], 0, 0, 0
    for raw in open(steps_file):
        name, log, rc, secs, *rest = raw.rstrip("\n").split("\t")
        may_skip = rest[:1] == ["may-skip"]
        limit, killed = (rest[1], rest[2] == "1") if len(rest) >= 3 else (None, False)
        cases, plan = parse(log)
        p, f, s = (sum(c["status"] == k for c in cases) for k in ("pass", "fail", "skip"))
        failures = [c["line"] for c in cases if c["status"] == "fail"]
        results, notes = p + f + s, []
        if killed:  # its missing results are this one failure
            f += 1
            notes.append(f"killed by its time limit of {limit} s")
        else:
            if plan is not None and results < plan:
                f += 1
                notes.append(f"only {results} of {plan} planned results")
            if rc == EXIT_ALL_SKIPPED and not may_skip:
                f += 1
                notes.append("every case skipped (exit 77), and the step is not declared --may-skip")
            elif rc not in ("0", EXIT_ALL_SKIPPED) and f == 0:
                f += 1
                notes.append(f"step failed with exit status {rc}")
            elif p == 0 and f == 0 and not may_skip:
                f += 1
                notes.append("no case passed (" + (f"all {s} skipped" if s else "no test results") + ")")
        total_p, total_f, total_s = total_p + p, total_f + f, total_s + s
        rows.append({"step": name, "may_skip": may_skip, "limit_s": int(limit) if limit else None, "timed_out": killed,
                     "passed": p, "failed": f, "skipped": s, "exit": int(rc) if rc.lstrip("-").isdigit() else rc,
                     "seconds": float(secs), "log": log, "notes": notes, "failures": failures[:20], "cases": cases})
    print("\n==== make test summary ====")
    print(f"{'step':34} {'passed':>6} {'failed':>6} {'skipped':>7} {'exit':>4} {'time':>7}")
    for r in rows:
        flag = "" if r["failed"] == 0 else "   <-- FAILED: " + "; ".join(r["notes"] or ["see " + r["log"]])
        print(f"{r['step']:34} {r['passed']:6} {r['failed']:6} {r['skipped']:7} {r['exit']:>4} {r['seconds']:6.1f}s{flag}")
        for line in r["failures"][:5]:
            print(f"{'':36}{line}")
    with open(json_file, "w") as f:
        json.dump({"passed": total_p, "failed": total_f, "skipped": total_s,
                   "steps": [{k: v for k, v in r.items() if k != "cases"} for r in rows]}, f, indent=1)
    if junit_file:
        write_junit(rows, junit_file)
    print(f"({total_s} skipped; details in {json_file})")
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
