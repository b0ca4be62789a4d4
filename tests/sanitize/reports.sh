#!/bin/sh
# reports.sh - the last item of a sanitizer run (make check SANITIZE=1): every process
# the tests started wrote its ASan/LSan/UBSan report, if any, to $SAN_REPORTS/{asan,ubsan}.PID
# (ASAN_OPTIONS/UBSAN_OPTIONS log_path, set by the Makefile), or on its stderr when it
# could not open that file (then the item's log holds it). No report is allowed: one
# FAIL per report file or log, with its first lines; PASS when there is none.
set -u
dir=${SAN_REPORTS:-${BPFD_BUILD:-build-san}/san-reports}
P=0 F=0
if [ ! -d "$dir" ]; then
	echo "FAIL: no report directory $dir (run through make check SANITIZE=1)"
	echo "sanitizers: 0 passed, 1 failed"
	exit 1
fi
for r in "$dir"/*; do
	[ -f "$r" ] || continue
	what=$(grep -m1 -E 'ERROR: |runtime error:|SUMMARY:' "$r" | sed 's/^==[0-9]*==//')
	echo "FAIL: sanitizer report $r: $what"
	grep -E '^ *#[0-9]+ ' "$r" | head -n 8 | sed 's/^/  /'
	F=$((F + 1))
done
# A process that could not open its log_path (a sandboxed bpfd-agent) reports on
# stderr: the logs of this run's items (newer than the report directory) show it.
logdir=${TEST_LOGDIR:-${BPFD_BUILD:-build-san}/test-logs}
if [ -d "$logdir" ]; then
	for l in $(find "$logdir" -name '*.log' ! -name '*reports.sh.log' -newer "$dir" 2>/dev/null); do
		what=$(grep -m1 -E 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$l") || continue
		echo "FAIL: sanitizer report on the stderr of a process in $l: $what"
		F=$((F + 1))
	done
fi
[ $F != 0 ] || { echo "PASS: no ASan, LSan or UBSan report from any process of the run"; P=1; }
echo "sanitizers: $P passed, $F failed"
[ $F = 0 ]
