#!/bin/sh
# SPDX-License-Identifier: MIT
# l1-run.sh OUTDIR - the rig's work inside the L1 (init.sh runs /work/run.sh, which is this):
# the scenarios of /work/scenarios.txt, each saved to the results disk as it ends; then, if
# /work/selftest names scenarios, the rig's own native mode on them (rig.py --mode native: the
# path a KVM developer's `sudo make kvm-test` takes), its results.json, TAP and log saved as the
# pseudo-scenario native-selftest. The host compares those with its nested figures (checks.py).
set -u
out=$1
say() { echo "rig-l1: $*"; }
SCENARIO_SAVE=/work/save-scenario.sh sh /work/scenarios.sh /work "$out"
rc=$?
if [ -s /work/selftest ]; then
    only=$(cat /work/selftest)
    say "native-mode self-test: rig.py --mode native --only $only"
    # rig.py's ROOT: tools/rig/ came on the work disk; build/ links to the guest and its disks.
    b=/work/bounce
    mkdir -p $b/build/disks $b/build/tools
    ln -sf /work/bounce.elf $b/build/bounce.elf
    ln -sf /work/data.img $b/build/disks/data.img
    ln -sf /work/scratch.img $b/build/disks/scratch.img
    [ -e /work/vmm ] && ln -sf /work/vmm $b/build/tools/vmm
    d=$out/native-selftest
    mkdir -p $d
    # Native mode must leave the host as it found it. THP is set to a value no scenario uses, so
    # that a restore shows; host-state.txt records THP, the trace instances and QEMUs left over
    # after the run, and after a second run stopped by SIGTERM in the middle of a scenario.
    thp=/sys/kernel/mm/transparent_hugepage/enabled
    echo madvise > $thp
    qemus() { # guest processes by name: QEMU or the VMM (busybox has no pgrep; the name, not the
              # command line, which busybox timeout's own watcher process shares)
        c=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^qemu-system\|^vmm$')
        echo $((c))
    }
    state() {
        echo "$1 thp=$(sed 's/.*\[\(.*\)\].*/\1/' $thp) instances=$(ls /sys/kernel/tracing/instances | tr '\n' ' ')" \
            "qemu=$(qemus)"
    }
    state before > $d/host-state.txt
    python3 -S $b/tools/rig/rig.py --mode native --tap --only "$only" > $d/tap.txt 2> $d/rig.log
    echo $? > $d/rc
    cp $b/build/kvm/results.json $d/ 2>/dev/null
    for g in $b/build/kvm/raw/*/; do # the guests' own logs, for a failure's sake (not the traces)
        mkdir -p $d/raw/$(basename $g) && cp $g/*.log $g/meta.txt $d/raw/$(basename $g)/ 2>/dev/null
    done
    state after-run >> $d/host-state.txt
    say "native-mode self-test: rig.py exit $(cat $d/rc), $(tail -n 1 $d/tap.txt)"
    python3 -S $b/tools/rig/rig.py --mode native --only ide-zero > /dev/null 2> $d/sigterm.log &
    pid=$!
    # Wait for its scenario's QEMU (60 s at most), then stop the rig in the middle of it.
    until=$(($(cut -d. -f1 /proc/uptime) + 60))
    while [ "$(qemus)" = 0 ] && [ "$(cut -d. -f1 /proc/uptime)" -lt $until ]; do sleep 0.2; done
    sleep 1
    kill -TERM $pid
    wait $pid
    echo "sigterm rc=$?" >> $d/host-state.txt
    state after-sigterm >> $d/host-state.txt
    say "native-mode self-test: $(tail -n 1 $d/host-state.txt)"
    sh /work/save-scenario.sh $d || rc=1
fi
exit $rc
