#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the rig's scenarios on a KVM host (the L1 under TCG, or a real one) and collect, per
# scenario, the kvm tracepoints (kvm_page_fault, kvm_exit, kvm_hypercall), the guest's serial
# log and the QEMU status. POSIX sh: busybox in L1, dash on a native host.
#
#   scenarios.sh WORKDIR OUTDIR
# WORKDIR holds bounce.elf, data.img and scenarios.txt, one scenario per line:
#   name|thp|machine|kernel command line|disk
# with thp = always|never, machine = pc|q35, disk = ide|virtio; or disk = vmm: the guest runs
# under tools/vmm (WORKDIR/vmm) instead of QEMU, with machine = its --mode (sw-protected|fallback),
# the data disk attached read-only; disk = vmm-scratch: the same with a fresh copy of
# WORKDIR/scratch.img attached read-write instead, for the guest's write tests; disk = vmm-bad:
# the data disk with the sector the command line's expect_eio= names unreadable (--bad-sector).
# With SCENARIO_SAVE set, `sh $SCENARIO_SAVE OUTDIR/NAME` runs after each scenario (the L1 saves it).
# On a KVM developer's host it must leave nothing behind: it traces through a private tracefs
# instance (instances/bounce-PID, its buffer bounded), only its own children (set_event_pid with
# event-fork: the guests' QEMU and VMM and their vCPU threads, not the host's other VMs), and on
# every exit - the end, an error, SIGINT/SIGTERM/SIGHUP - restores THP and removes the instance.
set -u
work=$1 out=$2
T=${TRACEFS:-/sys/kernel/tracing}
[ -d $T/events/kvm ] || T=/sys/kernel/debug/tracing
THP=/sys/kernel/mm/transparent_hugepage/enabled
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${SCENARIO_TIMEOUT:-120} # a scenario takes 2-10 s under nested KVM
EVENTS="kvm_page_fault kvm_exit kvm_hypercall"
say() { echo "rig-l1: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
run_guest() { "$@" & child=$!; wait $child; status=$?; child=; }

[ -d $T/events/kvm/kvm_page_fault ] || { say "no kvm tracepoints under $T"; exit 1; }
thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $THP 2>/dev/null)
I=$T/instances/bounce-$$
child=
restore() {
    # The guest's QEMU or VMM first (through timeout, which passes the signal on), then the host.
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
    [ -d "$I" ] && { echo 0 > "$I"/tracing_on; rmdir "$I" || say "cannot remove the trace instance $I"; }
    if [ -n "$thp_was" ]; then echo "$thp_was" > $THP || say "cannot restore THP to $thp_was"; fi
}
# A signal interrupts `wait` at once (not a foreground command): run_guest waits that way.
trap restore EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$I" || { say "cannot create the trace instance $I"; exit 1; }
# Per CPU: a scenario logs some 100 000 events of ~60 bytes (6 MB), on whichever CPUs its vCPU
# threads ran, so each CPU gets 256 MiB / CPUs, at least 16 MiB and at most 128: 256 MiB in all up
# to 16 CPUs, 16 MiB a CPU beyond (1 GiB on 64 CPUs).
ncpu=$(grep -c ^processor /proc/cpuinfo)
kb=$((262144 / ncpu)); [ $kb -lt 16384 ] && kb=16384; [ $kb -gt 131072 ] && kb=131072
echo $kb > "$I"/buffer_size_kb
echo $$ > "$I"/set_event_pid
echo 1 > "$I"/options/event-fork
rc=0
while IFS='|' read -r name thp machine cmdline disk; do
    case "$name" in ''|'#'*) continue ;; esac
    d=$out/$name
    mkdir -p "$d"
    echo "$thp" > $THP || say "$name: cannot set THP to $thp"
    case "$disk" in
    ide) disks="-drive file=$work/data.img,format=raw,if=ide,index=1,snapshot=on" ;;
    virtio) disks="-drive if=none,id=data,file=$work/data.img,format=raw,readonly=on -device virtio-blk-pci,drive=data" ;;
    vmm) vmm_disk="--disk $work/data.img --disk-readonly" ;;
    vmm-scratch) cp "$work"/scratch.img "$d"/scratch.img && vmm_disk="--disk $d/scratch.img" ;;
    vmm-bad)
        bad=$(echo "$cmdline" | sed -n 's/.*expect_eio=\([0-9][0-9]*\).*/\1/p')
        [ -n "$bad" ] || { say "$name: disk vmm-bad needs expect_eio= on the command line"; rc=1; continue; }
        vmm_disk="--disk $work/data.img --disk-readonly --bad-sector $bad" ;;
    *) say "$name: unknown disk '$disk'"; rc=1; continue ;;
    esac
    echo 0 > "$I"/tracing_on
    echo > "$I"/trace
    for e in $EVENTS; do echo 1 > "$I"/events/kvm/$e/enable; done
    echo 1 > "$I"/tracing_on
    t0=$(uptime_s)
    if [ "${disk#vmm}" != "$disk" ]; then
        # The VMM prints the guest's serial output on stdout and writes its own report to a
        # file of its own (--report), out of the guest's reach.
        # shellcheck disable=SC2086 # $vmm_disk is a list of arguments
        run_guest timeout -k 10 $TIMEOUT "$work"/vmm --mode "$machine" --memory 512M $vmm_disk --cmdline "$cmdline" \
            --timeout $TIMEOUT --report "$d"/vmm-report.json "$work"/bounce.elf >"$d"/guest.log 2>"$d"/vmm.log
        rm -f "$d"/scratch.img
    else
        # shellcheck disable=SC2086 # $disks is a list of arguments
        run_guest timeout -k 10 $TIMEOUT $QEMU -machine "$machine,accel=kvm" -cpu host -m 6G -smp 1 -nodefaults \
            -display none -monitor none -serial "file:$d/guest.log" -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$work"/bounce.elf -append "$cmdline" $disks \
            >"$d"/qemu.log 2>&1
    fi
    t1=$(uptime_s)
    echo 0 > "$I"/tracing_on
    for e in $EVENTS; do echo 0 > "$I"/events/kvm/$e/enable; done
    gzip -1 < "$I"/trace > "$d"/trace.gz
    cat "$I"/per_cpu/cpu*/stats > "$d"/trace-stats.txt
    printf 'name=%s\nthp=%s\nmachine=%s\ndisk=%s\ncmdline=%s\nqemu_status=%s\nstart=%s\nend=%s\n' \
        "$name" "$thp" "$machine" "$disk" "$cmdline" "$status" "$t0" "$t1" > "$d"/meta.txt
    say "scenario $name: QEMU status $status, $(awk "BEGIN {print $t1 - $t0}") s, $(grep -h '^entries' "$d"/trace-stats.txt | awk '{s += $2} END {print s}') trace events"
    # isa-debug-exit status 1 = the guest passed; anything else is reported by the analysis.
    # In the L1, each finished scenario is saved to the results disk at once (save-scenario.sh),
    # so that an L1 that hangs later loses only the scenario it was running.
    if [ -n "${SCENARIO_SAVE:-}" ]; then sh "$SCENARIO_SAVE" "$d" || rc=1; fi
done < $work/scenarios.txt
exit $rc # restore() runs on the way out
