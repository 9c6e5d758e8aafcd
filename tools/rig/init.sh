#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the rig's L1 host (busybox). Loads KVM, takes its work from the first virtio disk (a
# tar archive: run.sh and what it needs) and runs it; run.sh saves its results, scenario by
# scenario, to the second virtio disk (save-scenario.sh). Progress goes to the console as "rig-l1: ..." lines; the last line is
# "rig-l1: done rc=N" so the host knows the work finished (and how).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=90% tmpfs /tmp
mkdir -p /var/tmp && export TMPDIR=/tmp
# The nested guest gets more RAM than L1 has; KVM backs only what it touches.
echo 1 > /proc/sys/vm/overcommit_memory
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
say() { echo "rig-l1: $*"; }
t0=$(cut -d. -f1 /proc/uptime)
say "up after ${t0} s, kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu, $(awk '/MemTotal/ {print $2 / 1024 " MiB"}' /proc/meminfo)"
rc=0
# Debian's kernel has KVM and virtio_blk as modules; the rig's own build has them built in.
if [ -e /dev/kvm ]; then
    how="built in"
else
    how="modules"
    for m in irqbypass kvm ccp kvm-amd virtio_blk; do
        insmod /lib/modules/$m.ko || { say "insmod $m failed"; rc=1; }
    done
fi
[ -e /dev/kvm ] && say "/dev/kvm is up (kvm-amd, $how, nested under TCG)" || { say "no /dev/kvm"; rc=1; }
mdev -s 2>/dev/null
n=0
while [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; do
    n=$((n + 1)); [ $n -gt 50 ] && { say "no /dev/vda and /dev/vdb"; rc=1; break; }
    sleep 0.1
done
if [ $rc -eq 0 ]; then
    mkdir -p /work /out
    tar -xf /dev/vda -C /work && say "work unpacked: $(ls /work | tr '\n' ' ')"
    # run.sh saves each scenario's results to /dev/vdb as it finishes (save-scenario.sh).
    (cd /work && sh ./run.sh /out); rc=$?
    say "run.sh ended with $rc ($(du -sk /out | cut -f1) KiB of results)"
    sync
fi
say "done rc=$rc"
poweroff -f
