#!/bin/sh
# SPDX-License-Identifier: MIT
# save-scenario.sh DIR - in the rig's L1: save one finished scenario's folder to the results disk
# (/dev/vdb), in the next free slot: slot k is a tar archive at k * SLOT_MIB MiB. The host reads
# the slots back (rig.py, read_slots) after the L1 ends - or after it hangs, and then boots it
# again with only the scenarios no slot holds: a hang costs the scenario it interrupted, not the
# group. "rig-l1: saved NAME in slot K" tells the host the slot is on the disk (dd fsyncs it).
set -u
d=$1
SLOT_MIB=16
SLOTS=32 # rig.py: RESULT_SLOTS, and the results disk is SLOTS * SLOT_MIB MiB
dev=${RESULTS_DEV:-/dev/vdb}                # tests point these at files
next=${RESULTS_NEXT_SLOT:-/tmp/rig-next-slot}
n=$(cat "$next" 2>/dev/null || echo 0)
name=$(basename "$d")
[ "$n" -lt $SLOTS ] || { echo "rig-l1: $name: no free result slot (all $SLOTS used)"; exit 1; }
tar -cf "$next.tar" -C "$(dirname "$d")" "$name" || { echo "rig-l1: $name: cannot pack it"; exit 1; }
size=$(wc -c < "$next.tar")
if [ "$size" -gt $((SLOT_MIB * 1024 * 1024)) ]; then
    echo "rig-l1: $name: its results ($size bytes) do not fit a ${SLOT_MIB} MiB slot"
    exit 1
fi
dd if="$next.tar" of="$dev" bs=1M seek=$((n * SLOT_MIB)) conv=notrunc,fsync 2>/dev/null ||
    { echo "rig-l1: $name: cannot write slot $n"; exit 1; }
rm -f "$next.tar"
echo $((n + 1)) > "$next"
echo "rig-l1: saved $name in slot $n"
