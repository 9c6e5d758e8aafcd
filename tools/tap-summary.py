#!/usr/bin/env python3
"""Sum up the TAP logs of a `make test` run.

Usage: tap-summary.py STEPS.tsv SUMMARY.json

STEPS.tsv has one line per step: name, log file, exit status, seconds (tab-separated). Each log
is TAP: "ok N ...", "not ok N ...", with "# SKIP" directives (cmocka writes "not ok N # SKIP").
A step whose exit status is not 0 but whose log shows no failed test (a panic, a timeout, a
crash, a build error) counts as one failure of its own, as does a log with fewer results than
its plan announced. Prints a table, then - as the very last line - "N passed, N failed".
"""
import json
import re
import sys

RESULT = re.compile(r"^(not ok|ok)\b")
PLAN = re.compile(r"^1\.\.(\d+)")
EXPECTED_RC = {"0", "77"}  # pass, or all skipped


def count(log):
    passed = failed = skipped = 0
    plan = None
    failures = []
    try:
        lines = open(log, errors="replace").read().splitlines()
    except OSError:
        return 0, 0, 0, None, ["log missing"]
    for line in lines:
        m = PLAN.match(line)
        if m and plan is None:
            plan = int(m.group(1))
        m = RESULT.match(line)
        if not m:
            continue
        if re.search(r"#\s*skip", line, re.I):
            skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
            failures.append(line)
    return passed, failed, skipped, plan, failures


def main():
    steps_file, json_file = sys.argv[1:3]
    rows, total_p, total_f, total_s = [], 0, 0, 0
    for raw in open(steps_file):
        name, log, rc, secs = raw.rstrip("\n").split("\t")
        p, f, s, plan, failures = count(log)
        results, notes = p + f + s, []
        if plan is not None and results < plan:
            f += 1
            notes.append(f"only {results} of {plan} planned results")
        if rc not in EXPECTED_RC and f == 0:
            f += 1
            notes.append(f"step failed with exit status {rc}")
        total_p, total_f, total_s = total_p + p, total_f + f, total_s + s
        rows.append({"step": name, "passed": p, "failed": f, "skipped": s, "exit": int(rc) if rc.lstrip("-").isdigit() else rc,
                     "seconds": float(secs), "log": log, "notes": notes, "failures": failures[:20]})
    print("\n==== make test summary ====")
    print(f"{'step':34} {'passed':>6} {'failed':>6} {'skipped':>7} {'exit':>4} {'time':>7}")
    for r in rows:
        flag = "" if r["failed"] == 0 else "   <-- FAILED: " + "; ".join(r["notes"] or ["see " + r["log"]])
        print(f"{r['step']:34} {r['passed']:6} {r['failed']:6} {r['skipped']:7} {r['exit']:>4} {r['seconds']:6.1f}s{flag}")
        for line in r["failures"][:5]:
            print(f"{'':36}{line}")
    with open(json_file, "w") as f:
        json.dump({"passed": total_p, "failed": total_f, "skipped": total_s, "steps": rows}, f, indent=1)
    print(f"({total_s} skipped; details in {json_file})")
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
