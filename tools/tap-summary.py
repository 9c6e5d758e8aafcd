#!/usr/bin/env python3
"""Sum up the TAP logs of a `make test` run.

Usage: tap-summary.py STEPS.tsv SUMMARY.json

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
Prints a table, then - as the very last line - "N passed, N failed".
"""
import json
import re
import sys

RESULT = re.compile(r"^(not ok|ok)\b")
PLAN = re.compile(r"^1\.\.(\d+)")
EXIT_ALL_SKIPPED = "77"


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
        name, log, rc, secs, *rest = raw.rstrip("\n").split("\t")
        may_skip = rest[:1] == ["may-skip"]
        limit, killed = (rest[1], rest[2] == "1") if len(rest) >= 3 else (None, False)
        p, f, s, plan, failures = count(log)
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
