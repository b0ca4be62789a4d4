#!/bin/sh
# run.sh - run test items, keep their logs, add up their closing lines.
# Usage: tests/run.sh [-l LABEL] ITEM...   (ITEM: an executable, run with no arguments)
# Each item prints PASS:/FAIL:/SKIP: lines and ends with "[label: ]N passed, N failed[, N skipped]".
# An item without a closing line, or exiting non-zero while reporting no failure, counts as
# one failure.  The last line printed is "LABEL: P passed, F failed, S skipped"; exit 1 if F > 0.
# An ITEM written @ITEM starts in the background when its turn comes and is reported after
# the others (make check runs the emulated VM, one core, beside the host's suites).
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
bg_items=

log_of() {
	echo "$logdir/$(echo "$1" | sed 's|^\./||; s|/|_|g').log"
}

# run ITEM: run it, its output to its log, its exit status and time to LOG.rc
run() {
	start=$(date +%s)
	timeout -k 10 "$timeout_s" "$1" >"$2" 2>&1 </dev/null
	echo "$? $(( $(date +%s) - start ))" >"$2.rc"
}

# report ITEM: print its lines from its log and add its closing line to the totals
report() {
	item=$1
	log=$(log_of "$item")
	read -r rc dur <"$log.rc"
	grep -E '^(PASS|FAIL|SKIP)[: ]' "$log" | sed 's/^/  /'
	line=$(grep -E '^([A-Za-z0-9_./@-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  FAIL: $item ended without a closing line (exit $rc)"
		[ "$rc" = 124 ] && echo "  (timed out after ${timeout_s}s)"
		sed 's/^/  | /' "$log" | tail -n 60
		F=$((F + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^(.*: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped$/\1/p')
	s=${s:-0}
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "  FAIL: $item exited $rc but reported no failure"
		f=1
	fi
	if [ "$f" != 0 ]; then
		echo "  --- log of $item (last 80 lines) ---"
		tail -n 80 "$log" | sed 's/^/  | /'
	fi
	echo "  $line  [${dur}s]"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
}

for item in "$@"; do
	case $item in
	@*)
		item=${item#@}
		echo "=== $item (started in the background, reported last)"
		run "$item" "$(log_of "$item")" &
		bg_items="$bg_items $item"
		continue
		;;
	esac
	echo "=== $item"
	run "$item" "$(log_of "$item")"
	report "$item"
done
if [ -n "$bg_items" ]; then
	wait
	for item in $bg_items; do
		echo "=== $item (background)"
		report "$item"
	done
fi
echo "$label: $P passed, $F failed, $S skipped"
[ $F = 0 ]
