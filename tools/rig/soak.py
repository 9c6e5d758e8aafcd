#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make kvm-soak N=10: run the KVM host rig N times and say, per scenario, in how many runs every
check about it held - the rig's reliability as a figure, not an impression.

Each run's results.json, TAP and log are kept under build/kvm/soak/<run>/ (a failing run's
scenario logs are also kept by the rig itself, under build/kvm/failed/). The L1 hangs that the rig
recovered from (a lost wakeup under TCG: an NMI, or booting the L1 again) are counted. Prints a
table, then one JSON line; the exit status is 0 only if every scenario was green in every run.
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checks  # noqa: E402
import rig  # noqa: E402

SOAK = os.path.join(rig.OUT, "soak")


def one_run(i, n, extra):
    d = os.path.join(SOAK, f"{i:02d}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    t0 = time.monotonic()
    src = os.path.join(rig.OUT, "results.json")
    if os.path.exists(src):
        os.remove(src)  # so a run that dies early is not credited with the last one's results
    print(f"[soak] run {i} of {n} ...", file=sys.stderr, flush=True)
    with open(os.path.join(d, "rig.log"), "w") as log:
        rc = subprocess.run([sys.executable, os.path.join(HERE, "rig.py"), "--tap", *extra], stdout=log,
                            stderr=subprocess.STDOUT).returncode
    text = open(os.path.join(d, "rig.log"), errors="replace").read()
    results, events, doc = [], [], {}
    if os.path.exists(src):
        shutil.copy(src, d)
        doc = json.load(open(src))
        results, events = doc.get("scenarios", []), doc.get("l1_events", [])
    names = [name for _, name, *_ in rig.SCENARIOS]
    cs = checks.checks(results, names)
    if "native_selftest" in doc:
        cs += checks.native_selftest_checks(doc["native_selftest"], results)
        names.append(rig.SELFTEST_DIR)
    green = {name: all(c.ok for c in cs if name in c.scenarios) for name in names}
    # A run that died before writing results.json still shows its reboots in its log.
    l1 = collections.Counter(e["event"] for e in events)
    l1["booted again"] = max(l1["booted again"], text.count("booting it again"))
    print(f"[soak] run {i}: rig exit {rc}, {sum(green.values())} of {len(green)} scenarios green, "
          f"L1 silent {l1['silent']}, revived by an NMI {l1['revived by an NMI']}, booted again "
          f"{l1['booted again']}, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    resets = [us for r in results for us in (r.get("ide_reset_us") or {}).values()]
    return green, l1, rc, resets, round(time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10, help="how many rig runs (default 10)")
    ap.add_argument("rig_args", nargs="*", help="passed to rig.py (after --)")
    args = ap.parse_args()
    if args.n < 1:
        sys.exit("soak: -n must be at least 1")
    tally, l1, rcs, resets, secs, names = collections.Counter(), collections.Counter(), [], [], [], []
    for i in range(1, args.n + 1):
        green, run_l1, rc, run_resets, run_secs = one_run(i, args.n, args.rig_args)
        tally.update(name for name, ok in green.items() if ok)
        names += [name for name in green if name not in names]
        l1.update(run_l1)
        rcs.append(rc)
        resets += run_resets
        secs.append(run_secs)
    print(f"\n{'scenario':28} green runs (of {args.n})")
    for name in names:
        print(f"{name:28} {tally[name]:3d}{'' if tally[name] == args.n else '   <-- not every run'}")
    print(f"L1 went silent {l1['silent']} times: revived by an NMI {l1['revived by an NMI']}, "
          f"booted again {l1['booted again']}; run wall time {min(secs)}-{max(secs)} s")
    # QEMU finishes an IDE software reset on its main loop: how long that took under KVM (issue 22).
    reset = {"count": len(resets), "median_us": statistics.median(resets) if resets else None,
             "max_us": max(resets, default=None)}
    print(f"IDE software resets as the guests timed them: {reset['count']}, median {reset['median_us']} us, "
          f"max {reset['max_us']} us")
    print(json.dumps({"runs": args.n, "green_runs": {n: tally[n] for n in names}, "l1_events": dict(l1),
                      "rig_exit": rcs, "run_s": secs, "ide_reset": reset}))
    return 0 if all(tally[n] == args.n for n in names) else 1


if __name__ == "__main__":
    sys.exit(main())
