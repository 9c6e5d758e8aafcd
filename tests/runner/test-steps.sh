#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tests of make test's own machinery: a step that hangs is killed at its limit and named
# (tools/test-steps.sh, tools/tap-summary.py), with its children; and .ci/run ends with an
# "N passed, N failed" line even when make test stops before its summary. Output: TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
echo "TAP version 13"
echo "1..3"
report() { # report OK DESCRIPTION [WHY]
    n=$((n + 1))
    if [ "$1" = 1 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; echo "#   $3"; fi
}

# 1. A hanging step (and the child it started) is killed at its limit, and the summary names it.
steps=$tmp/steps.tsv start=$SECONDS
: >"$steps"
# shellcheck source=tools/test-steps.sh
. tools/test-steps.sh
marker="bounce-hang-$$"
t0=$SECONDS
step --limit 2 "selftest/hang" "$tmp/hang.tap" bash -c "echo 1..1; (exec -a $marker sleep 300) & exec -a $marker sleep 300" >/dev/null
took=$((SECONDS - t0))
sleep 1
left=$(pgrep -f "$marker" || true)
ok=1 why=""
[ "$(cut -f7 "$steps")" = 1 ] || { ok=0; why="not recorded as killed: $(cat "$steps")"; }
grep -q '^# STEP TIMEOUT: selftest/hang killed after its limit of 2 s$' "$tmp/hang.tap" || { ok=0; why="no STEP TIMEOUT line"; }
[ "$took" -lt 20 ] || { ok=0; why="took $took s"; }
[ -z "$left" ] || { ok=0; why="its process is still there: $left"; }
report $ok "a hanging step is killed at its limit (2 s, took $took s), with its children, and says so" "$why"

python3 tools/tap-summary.py "$steps" "$tmp/summary.json" >"$tmp/summary.txt"
rc=$?
if [ $rc -ne 0 ] && grep -q 'selftest/hang.*FAILED: killed by its time limit of 2 s' "$tmp/summary.txt" && \
   [ "$(tail -n1 "$tmp/summary.txt")" = "0 passed, 1 failed" ]; then
    report 1 "the summary fails the killed step, naming it and its limit"
else
    report 0 "the summary fails the killed step, naming it and its limit" "exit $rc: $(tr '\n' '|' <"$tmp/summary.txt")"
fi

# 3. .ci/run when make test dies before its summary (a failing `make deps`, a build error).
mkdir -p "$tmp/ci/.ci"
cp .ci/run "$tmp/ci/.ci/run"
printf 'test:\n\t@echo "deps: apt-get failed"; exit 2\n' >"$tmp/ci/Makefile"
out=$("$tmp/ci/.ci/run" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | tail -n1)" = "0 passed, 1 failed" ]; then
    report 1 ".ci/run ends with '0 passed, 1 failed' and a non-zero exit when make test stops early"
else
    report 0 ".ci/run ends with '0 passed, 1 failed' and a non-zero exit when make test stops early" \
        "exit $rc, output: $(printf '%s' "$out" | tr '\n' '|')"
fi
cd "$root" || exit 1
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
