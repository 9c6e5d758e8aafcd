# SPDX-License-Identifier: MIT
# test-steps.sh - the step runner of `make test` (sourced by tools/test-all.sh; tested by
# tests/runner/test-steps.sh). Needs $steps (the steps.tsv to append to) and $start (SECONDS at
# the start of the run).
#
# step [--may-skip] [--limit SECONDS] NAME LOGFILE COMMAND...
#   Run COMMAND - its output shown and kept in LOGFILE - under its own time limit (default
#   STEP_LIMIT_S), and record it in $steps for tools/tap-summary.py: name, log, exit status,
#   seconds, verdict (must-pass or may-skip), limit, and whether the limit killed it. A step
#   whose every case skipped (exit 77), or that reported no result at all, fails unless it is
#   declared --may-skip in the step list. A step past its limit gets SIGTERM (to its whole
#   process group, via timeout(1)), SIGKILL 15 s later, and fails with a line naming it and
#   its limit.

STEP_LIMIT_S=${STEP_LIMIT_S:-600}

stage() { printf '\n[%4ds] ==== %s ====\n' $((SECONDS - start)) "$*"; }

step() {
    local verdict=must-pass limit=$STEP_LIMIT_S
    while [ $# -gt 0 ]; do
        case $1 in
        --may-skip) verdict=may-skip; shift ;;
        --limit) limit=$2; shift 2 ;;
        *) break ;;
        esac
    done
    local name=$1 log=$2 t0=$SECONDS rc killed=0
    shift 2
    timeout --kill-after=15 "$limit" "$@" > >(tee "$log") 2>&1
    rc=$?
    wait
    # timeout(1) exits 124 after its TERM, 137 after its KILL; a command may exit 124 itself (the
    # QEMU runner's own timeout), so the elapsed time decides.
    if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ $((SECONDS - t0)) -ge "$limit" ]; then
        killed=1
        printf '# STEP TIMEOUT: %s killed after its limit of %s s\n' "$name" "$limit" | tee -a "$log"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$log" "$rc" $((SECONDS - t0)) "$verdict" "$limit" "$killed" >>"$steps"
}
