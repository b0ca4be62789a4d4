#!/bin/sh
# run.sh - run test items, keep their logs, add up their closing lines.
# Usage: tests/run.sh [-l LABEL] ITEM...   (ITEM: an executable, run with no arguments)
# Each item prints PASS:/FAIL:/SKIP: lines and ends with "[label: ]N passed, N failed[, N skipped]".
# An item without a closing line, or exiting non-zero while reporting no failure, counts as
# one failure.  The last line printed is "LABEL: P passed, F failed, S skipped"; exit 1 if F > 0.
set -u
label=total
if [ "${1:-}" = -l ]; then
	label=$2
	shift 2
fi
logdir=${TEST_LOGDIR:-${BPFD_BUILD:-build}/test-logs}
mkdir -p "$logdir"
P=0 F=0 S=0
timeout_s=${TEST_TIMEOUT:-1500}
for item in "$@"; do
	name=$(echo "$item" | sed 's|^\./||; s|/|_|g')
	log="$logdir/$name.log"
	start=$(date +%s)
	echo "=== $item"
	timeout -k 10 "$timeout_s" "$item" >"$log" 2>&1 </dev/null
	rc=$?
	dur=$(( $(date +%s) - start ))
	grep -E '^(PASS|FAIL|SKIP)[: ]' "$log" | sed 's/^/  /'
	line=$(grep -E '^([A-Za-z0-9_./@-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  FAIL: $item ended without a closing line (exit $rc)"
		[ $rc = 124 ] && echo "  (timed out after ${timeout_s}s)"
		sed 's/^/  | /' "$log" | tail -n 60
		F=$((F + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/^(.*: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped$/\1/p')
	s=${s:-0}
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		echo "  FAIL: $item exited $rc but reported no failure"
		f=1
	fi
	if [ "$f" != 0 ]; then
		echo "  --- log of $item (last 80 lines) ---"
		tail -n 80 "$log" | sed 's/^/  | /'
	fi
	echo "  $line  [${dur}s]"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
done
echo "$label: $P passed, $F failed, $S skipped"
[ $F = 0 ]
