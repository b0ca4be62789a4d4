#!/bin/sh
# run.sh - the libFuzzer targets built in $BPFD_BUILD/fuzz (ASan+UBSan):
#   1. replay every committed crash input tests/fuzz/regress/<target>/* (a regression
#      test each: it must run clean now);
#   2. fuzz each target for $FUZZ_SECONDS seconds from the committed seed corpus
#      tests/fuzz/corpus/<target>/ plus what earlier runs found.
# $FUZZ_TARGETS (names, space separated) limits it to those targets.
# New inputs (new coverage) go to $BPFD_BUILD/fuzz-corpus/<target>/ (kept between runs;
# `make fuzz-merge` adds the useful ones to the committed corpus); a crash, leak or
# timeout input to $BPFD_BUILD/fuzz-crashes/<target>/, the log to $BPFD_BUILD/fuzz-logs/.
# Prints PASS/FAIL per replay and per target, and "fuzz: N passed, N failed".
set -u
B=${BPFD_BUILD:-build}
secs=${FUZZ_SECONDS:-10}
here=$(cd "$(dirname "$0")" && pwd)
P=0 F=0
# -rss_limit_mb: the daemon's own limits keep it far below; -timeout: a single input
# that takes 10 s is a hang (each input is at most a few KiB to a few MiB)
opts="-timeout=10 -rss_limit_mb=2048"
mkdir -p "$B/fuzz-logs"

wanted() {
	[ -z "${FUZZ_TARGETS:-}" ] && return 0
	for t in $FUZZ_TARGETS; do
		[ "$t" = "$1" ] && return 0
	done
	return 1
}

# replay NAME BIN: run the committed crash inputs of NAME once each
replay() {
	dir=$here/regress/$1
	[ -d "$dir" ] || return 0
	set -- "$1" "$2" "$dir"/*
	[ -e "$3" ] || return 0
	name=$1 bin=$2
	shift 2
	log="$B/fuzz-logs/$name-regress.log"
	if "$bin" $opts "$@" >"$log" 2>&1; then
		echo "PASS: $name replays its $# crash input(s) of tests/fuzz/regress/$name"
		P=$((P + 1))
	else
		echo "FAIL: $name: a crash input of tests/fuzz/regress/$name fails again (log: $log)"
		grep -E 'Running:|ERROR|SUMMARY' "$log" | head -n 6 | sed 's/^/  /'
		F=$((F + 1))
	fi
}

found=0
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	wanted "$name" || continue
	found=1
	replay "$name" "$f"
	[ "$secs" -gt 0 ] || continue
	found_dir="$B/fuzz-corpus/$name"
	crashes="$B/fuzz-crashes/$name"
	seeds="$here/corpus/$name"
	mkdir -p "$found_dir" "$crashes"
	[ -d "$seeds" ] || seeds=
	log="$B/fuzz-logs/$name.log"
	mark="$B/fuzz-logs/.$name.start"
	touch "$mark"
	# libFuzzer writes new inputs to the first directory only
	if "$f" -max_total_time="$secs" $opts -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$found_dir" $seeds >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
		nseed=0
		[ -z "$seeds" ] || nseed=$(ls "$seeds" | wc -l)
		echo "PASS: $name (${execs:-?} runs in ${secs}s, ${cov:-cov: ?}, $nseed seeds," \
			"$(ls "$found_dir" | wc -l) found)"
		P=$((P + 1))
	else
		echo "FAIL: $name (log: $log)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/  /'
		find "$crashes" -type f -newer "$mark" | while read -r c; do
			echo "  reproduce: $f $c"
			echo "  when fixed: commit it as tests/fuzz/regress/$name/$(basename "$c")"
		done
		F=$((F + 1))
	fi
done
[ $found = 1 ] || echo "no fuzz targets in $B/fuzz${FUZZ_TARGETS:+ named $FUZZ_TARGETS} (make fuzz-build)"
echo "fuzz: $P passed, $F failed"
[ $F = 0 ]
