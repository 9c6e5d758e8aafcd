#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench-blk: block read throughput per driver and DMA policy, under QEMU.

Boots the guest once per {IDE PIO, IDE DMA, virtio-blk} x {zero, copy} with the data disk and
-m 6G (page cache above 4 GiB, so IDE DMA bounces every page), runs the in-guest blkbench suite
(sequential read of the whole disk through the page cache; 4 KiB random reads, each page once),
and prints a table, then - as the last line - one JSON object with every figure.

Under TCG the figures are the emulator's, not hardware's: compare rows with each other (the same
run, the same machine), not with real disks. The DMA columns are exact counts per MiB read.
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "build", "disks", "data.img")
CONFIGS = [
    ("ide-pio", "pc", "ide=pio"),
    ("ide-dma", "pc", "ide=dma"),
    ("virtio-blk", "q35", ""),
]
REPORT = re.compile(r"^BOUNCE-REPORT blkbench (\{.*\})\s*$")


def run(driver, machine, extra, policy):
    disk = (["--drive", f"file={DATA},format=raw,if=ide,index=1,snapshot=on"] if driver.startswith("ide") else
            ["--drive", f"if=none,id=data,file={DATA},format=raw,readonly=on", "--device", "virtio-blk-pci,drive=data"])
    cmd = [sys.executable, os.path.join(ROOT, "tools", "run"), "--boot", "pvh", "--machine", machine, "--memory", "6G",
           "--timeout", "600", "--cmdline", f"tests=blkbench bounce_policy={policy} {extra}".strip()] + disk
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    results = [json.loads(m.group(1)) for line in (out.stdout + out.stderr).splitlines() if (m := REPORT.match(line))]
    if out.returncode != 0 or len(results) != 2:
        sys.exit(f"bench-blk: {driver}/{policy} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    print(f"  [{time.monotonic() - t0:5.1f} s] {driver:10} {policy}", file=sys.stderr, flush=True)
    return results


def main():
    rows = []
    print("bench-blk: running the guest per driver and policy (under TCG: compare rows, not disks)", file=sys.stderr)
    for driver, machine, extra in CONFIGS:
        for policy in ("zero", "copy"):
            rows += run(driver, machine, extra, policy)
    print(f"\n{'driver':11} {'policy':6} {'phase':10} {'MB/s':>8} {'IOPS':>8} | per MiB read (KiB): "
          f"{'bounced':>8} {'zeroed':>8} {'copy-in':>8} {'copy-out':>8} {'orig-read':>9}")
    for r in rows:
        p = r["per_mib"]
        iops = f"{r['iops']:8.0f}" if r["phase"] == "random4k" else f"{'-':>8}"
        print(f"{r['driver']:11} {r['policy']:6} {r['phase']:10} {r['mb_per_s']:8.1f} {iops} | "
              f"{'':19}{p['bounced'] / 1024:8.0f} {p['zeroed'] / 1024:8.0f} {p['copied_in'] / 1024:8.0f} "
              f"{p['copied_out'] / 1024:8.0f} {p['orig_read'] / 1024:9.0f}")
    print("\nzero never reads the original (orig-read 0); copy reads every bounced byte first. virtio-blk and")
    print("IDE PIO do not bounce (64-bit DMA, and no DMA at all).")
    print(json.dumps({"bench": "bench_blk", "accel": "see runner output", "results": rows}, separators=(",", ":")))


if __name__ == "__main__":
    main()
