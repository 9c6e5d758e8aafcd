#!/usr/bin/env python3
"""make kvm-soak N=10: run the KVM host rig N times and say, per scenario, in how many runs every
check about it held - the rig's reliability as a figure, not an impression.

Each run's results.json, TAP and log are kept under build/kvm/soak/<run>/ (a failing run's
scenario logs are also kept by the rig itself, under build/kvm/failed/). The L1 hangs that the rig
recovered from (a lost wakeup under TCG: it boots the L1 again) are counted per run. Prints a
table, then one JSON line; the exit status is 0 only if every scenario was green in every run.
"""
import argparse
import collections
import json
import os
import shutil
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
    results = []
    if os.path.exists(src):
        shutil.copy(src, d)
        results = json.load(open(src)).get("scenarios", [])
    cs = checks.checks(results, [name for _, name, *_ in rig.SCENARIOS])
    green = {name: all(c.ok for c in cs if name in c.scenarios) for _, name, *_ in rig.SCENARIOS}
    retries = text.count("booting it again")
    print(f"[soak] run {i}: rig exit {rc}, {sum(green.values())} of {len(green)} scenarios green, "
          f"{retries} L1 reboots, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    return green, retries, rc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10, help="how many rig runs (default 10)")
    ap.add_argument("rig_args", nargs="*", help="passed to rig.py (after --)")
    args = ap.parse_args()
    if args.n < 1:
        sys.exit("soak: -n must be at least 1")
    tally, reboots, rcs = collections.Counter(), [], []
    for i in range(1, args.n + 1):
        green, retries, rc = one_run(i, args.n, args.rig_args)
        tally.update(name for name, ok in green.items() if ok)
        reboots.append(retries)
        rcs.append(rc)
    names = [name for _, name, *_ in rig.SCENARIOS]
    print(f"\n{'scenario':28} green runs (of {args.n})")
    for name in names:
        print(f"{name:28} {tally[name]:3d}{'' if tally[name] == args.n else '   <-- not every run'}")
    print(f"L1 reboots after a hang, per run: {reboots}")
    print(json.dumps({"runs": args.n, "green_runs": {n: tally[n] for n in names}, "l1_reboots": reboots,
                      "rig_exit": rcs}))
    return 0 if all(tally[n] == args.n for n in names) else 1


if __name__ == "__main__":
    sys.exit(main())
