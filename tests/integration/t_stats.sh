#!/bin/sh
# t_stats.sh - run statistics ([monitor] stats): the kernel's run count and run time of
# a program in `bpfctl get` (text and JSON).  The program is the counter's tracepoint
# program attached to syscalls/sys_enter_sysfs, a syscall nothing else on the machine
# makes (the kernel counts every run of a program, whoever triggers it), so the run
# count must grow by exactly the number of sysfs(2) calls the test makes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"
. "$(dirname "$0")/stats_lib.sh"

# start a daemon of the test's own with [monitor] TOML lines $@
stats_daemon() {
	prog_checks
	need_feature tracepoint
	[ -e "/sys/kernel/tracing/events/$TP" ] || [ -e "/sys/kernel/debug/tracing/events/$TP" ] ||
		skip "the kernel has no tracepoint $TP"
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	printf '[monitor]\n' >"$T_TMP/bpfd.toml"
	for l in "$@"; do
		echo "$l" >>"$T_TMP/bpfd.toml"
	done
	start_daemon --config "$T_TMP/bpfd.toml"
	DAEMON_LOG=$T_TMP/daemon.log
}

load_sysfs_prog() {
	id=$(load_id -n tp_count tracepoint -t "$TP" -p "$COUNTER_OBJ")
	[ -n "$id" ] || fail "no program id"
}

# unload and stop the test's daemon (an "always" daemon left running would make
# the kernel count for test_on_demand)
finish() {
	ctl unload "$id" >"$T_TMP/unload.out" 2>&1 || fail "unload $id: $(cat "$T_TMP/unload.out")"
	stop_daemon
}

# Run Count and Run Time (ns) of program $1 into rc, rt
run_stats() {
	get "$1"
	rc=$(field "$T_TMP/get" "Run Count")
	rt=$(field "$T_TMP/get" "Run Time (ns)")
}

is_num() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

test_always_counts_every_run() {
	stats_daemon 'stats = "always"'
	load_sysfs_prog
	holds_stats "$BPFD_PID" || fail "the daemon holds no stats fd with stats = always"
	run_stats "$id"
	is_num "$rc" || fail "Run Count is '$rc': $(cat "$T_TMP/get")"
	rc0=$rc
	sysfs_calls 100
	run_stats "$id"
	is_num "$rc" && is_num "$rt" || fail "Run Count '$rc', Run Time '$rt': $(cat "$T_TMP/get")"
	[ $((rc - rc0)) = 100 ] || fail "run count grew by $((rc - rc0)) after 100 calls ($rc0 -> $rc)"
	[ "$rt" -gt 0 ] || fail "run time $rt after 100 runs"
	ctl get "$id" -o json >"$T_TMP/json" || fail "get -o json: $(cat "$T_TMP/json")"
	jrc=$(jq -r .kernel_info.run_count "$T_TMP/json")
	jrt=$(jq -r .kernel_info.run_time_ns "$T_TMP/json")
	[ "$jrc" = "$rc" ] || fail "JSON run_count $jrc, text $rc"
	is_num "$jrt" && [ "$jrt" -ge "$rt" ] || fail "JSON run_time_ns '$jrt', text $rt"
	# List carries them too (no cached copy without counts)
	ctl list -o json >"$T_TMP/list" || fail "list -o json"
	lrc=$(jq -r ".[] | select(.kernel_info.id == $id) | .kernel_info.run_count" "$T_TMP/list" 2>/dev/null)
	[ "$lrc" = "$rc" ] || fail "List run_count '$lrc', Get $rc"
	echo "  100 calls: run count $rc0 -> $rc, run time $rt ns"
	finish
}

# A program another daemon loaded is foreign to the daemon under test: its List keeps
# the program's encoded result and reads its run statistics again when they are over
# 100 ms old (rpc.c LC_STATS_MAX_AGE_NS), so each List 300 ms after the calls shows
# exactly the runs made so far.
test_list_refreshes_foreign_counts() {
	stats_daemon 'stats = "always"'
	a_sock=$BPFD_SOCK a_pid=$BPFD_PID a_tmp=$T_TMP
	T_TMP=$a_tmp/owner
	mkdir -p "$T_TMP"
	start_daemon
	b_sock=$BPFD_SOCK b_pid=$BPFD_PID
	load_sysfs_prog
	BPFD_SOCK=$a_sock T_TMP=$a_tmp
	list_rc() {
		ctl list --all -o json >"$T_TMP/list" 2>&1 || fail "list --all: $(cat "$T_TMP/list")"
		jq -r ".[] | select(.kernel_info.id == $id) | .kernel_info.run_count" "$T_TMP/list"
	}
	jq -e ".[] | select(.kernel_info.id == $id) | .info" "$T_TMP/list" >/dev/null 2>&1 &&
		fail "program $id is listed as the daemon's own"
	rc0=$(list_rc)
	is_num "$rc0" || fail "List run_count of the foreign program $id is '$rc0'"
	prev=$rc0
	for n in 100 10 10 10; do
		sysfs_calls $n
		sleep 0.3
		rc=$(list_rc)
		[ "$rc" = $((prev + n)) ] ||
			fail "List run_count $rc after $n more calls, want $((prev + n)) (from $prev)"
		prev=$rc
	done
	echo "  foreign program $id: List run count $rc0 -> $rc over 130 calls"
	BPFD_SOCK=$b_sock BPFD_PID=$b_pid T_TMP=$a_tmp/owner
	finish
	BPFD_PID=$a_pid
	stop_daemon
}

test_off_says_so() {
	stats_daemon 'stats = "off"'
	load_sysfs_prog
	sysfs_calls 10
	run_stats "$id"
	holds_stats "$BPFD_PID" && fail "the daemon holds a stats fd with stats = off"
	[ "$rc" = "n/a (stats off)" ] || fail "Run Count is '$rc', want 'n/a (stats off)'"
	[ "$rt" = "n/a (stats off)" ] || fail "Run Time is '$rt', want 'n/a (stats off)'"
	ctl get "$id" -o json >"$T_TMP/json" || fail "get -o json"
	[ "$(jq -r .kernel_info.run_count "$T_TMP/json")" = null ] ||
		fail "JSON run_count is not null: $(cat "$T_TMP/json")"
	[ "$(jq -r .kernel_info.run_time_ns "$T_TMP/json")" = null ] || fail "JSON run_time_ns is not null"
	finish
}

# Someone other than the daemon under test has the kernel count.
others_count() {
	[ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)" = 1 ] && return 0
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" = "$BPFD_PID" ] && continue
		holds_stats "${_p#/proc/}" && return 0
	done
	return 1
}

# on-demand with a grace of 1 s: a Get turns the stats on, runs after it count, and
# 1 s after the last Get they are off again (runs then are not counted).  Only
# meaningful when nothing else on the machine holds the kernel's stats enabled.
test_on_demand() {
	stats_daemon 'stats = "on-demand"' 'stats_grace = 1'
	load_sysfs_prog
	sleep 1.5		# the Load's reply turned them on: past its grace
	others_count && skip "another process keeps the kernel's BPF stats enabled"
	holds_stats "$BPFD_PID" && fail "the daemon holds the stats fd after the grace period"
	sysfs_calls 10		# stats off: not counted
	run_stats "$id"		# turns them on
	is_num "$rc" || fail "Run Count is '$rc' after a Get: $(cat "$T_TMP/get")"
	holds_stats "$BPFD_PID" || fail "the daemon holds no stats fd after a Get"
	rc0=$rc
	sysfs_calls 25
	run_stats "$id"
	[ $((rc - rc0)) = 25 ] || fail "run count grew by $((rc - rc0)) after 25 calls ($rc0 -> $rc)"
	rc1=$rc
	sleep 1.5		# past the grace: the executor turned them off without a job
	holds_stats "$BPFD_PID" && fail "the daemon still holds the stats fd after the grace period"
	sysfs_calls 25
	run_stats "$id"
	# the kernel counts for everyone: another daemon (a test beside this one) may
	# have turned the stats on since the start
	[ "$rc" = "$rc1" ] || ! others_count ||
		skip "another process enabled the kernel's BPF stats during the test"
	[ "$rc" = "$rc1" ] || fail "run count grew from $rc1 to $rc while stats were off"
	echo "  not counted before the first Get: $rc0; counted 25 after it; none after the grace"
	finish
}

test_config_refused() {
	prog_checks
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	printf '[monitor]\nstats = "sometimes"\n' >"$T_TMP/bad.toml"
	"$BPFD" --config "$T_TMP/bad.toml" --check-config >"$T_TMP/out" 2>&1 && fail "accepted stats = sometimes"
	grep -q 'on-demand, always, off' "$T_TMP/out" || fail "unclear error: $(cat "$T_TMP/out")"
}

# the second sample of a program of $@ in top's batch output $T_TMP/top: its ids in
# the order shown, one per line
top_second_order() {
	awk -v want=" $* " '/^bpfctl top - /{n++} n == 2 && $1 ~ /^[0-9]+$/ && index(want, " " $1 " ") {print $1}' \
		"$T_TMP/top"
}

# bpfctl top -b -n 2: a program run thousands of times a second is shown above one
# run a hundred times less often, sorted by CPU (the default) and by events/s; -o json
# gives the same order with rates.
test_top_busiest_first() {
	stats_daemon 'stats = "always"'
	need_feature uprobe
	build_trig
	load_sysfs_prog
	busy=$id
	quiet=$(load_id -n up_count -p "$COUNTER_OBJ" uprobe -t "$TRIG" -f bpfd_test_func)
	[ -n "$quiet" ] || fail "no id for the uprobe program"
	sysfs_calls 1		# builds the caller (and skips without sysfs(2)) before the loop
	rm -f "$T_TMP/stop"
	( while [ ! -e "$T_TMP/stop" ]; do "$SYSFS" 10000; "$TRIG" call 100; done ) &
	load=$!
	ctl top -b -n 2 -d 1 >"$T_TMP/top" 2>&1 || fail "top -b: $(cat "$T_TMP/top")"
	ctl top -b -n 2 -d 0.5 -s events >"$T_TMP/top-events" 2>&1 || fail "top -s events"
	ctl top -o json -n 2 -d 1 >"$T_TMP/top.json" 2>&1 || fail "top -o json: $(cat "$T_TMP/top.json")"
	touch "$T_TMP/stop"
	wait "$load"
	order=$(top_second_order "$busy" "$quiet" | tr '\n' ' ')
	[ "$order" = "$busy $quiet " ] || fail "second sample shows '$order', want '$busy $quiet ': $(cat "$T_TMP/top")"
	# the quiet one ran too: the order is not the tie-break by id
	qeps=$(awk -v q="$quiet" '/^bpfctl top - /{n++} n == 2 && $1 == q {print $(NF - 2)}' "$T_TMP/top")
	awk -v e="$qeps" 'BEGIN { exit !(e > 0) }' || fail "events/s of the quiet program: '$qeps': $(cat "$T_TMP/top")"
	cp "$T_TMP/top-events" "$T_TMP/top"
	order=$(top_second_order "$busy" "$quiet" | tr '\n' ' ')
	[ "$order" = "$busy $quiet " ] || fail "sorted by events: '$order': $(cat "$T_TMP/top")"
	[ "$(wc -l <"$T_TMP/top.json")" = 2 ] || fail "top -o json -n 2 printed $(wc -l <"$T_TMP/top.json") lines"
	order=$(tail -n 1 "$T_TMP/top.json" | jq -r --argjson a "$busy" --argjson b "$quiet" \
		'[.programs[] | select(.id == $a or .id == $b) | .id] | map(tostring) | join(" ")')
	[ "$order" = "$busy $quiet" ] || fail "JSON order '$order'"
	eps=$(tail -n 1 "$T_TMP/top.json" | jq -r --argjson a "$busy" '.programs[] | select(.id == $a) | .events_per_sec')
	awk -v e="$eps" 'BEGIN { exit !(e > 1000) }' || fail "events/s of the busy program: $eps"
	qeps=$(tail -n 1 "$T_TMP/top.json" | jq -r --argjson b "$quiet" '.programs[] | select(.id == $b) | .events_per_sec')
	awk -v e="$qeps" 'BEGIN { exit !(e > 0) }' || fail "events/s of the quiet program: $qeps"
	owner=$(tail -n 1 "$T_TMP/top.json" | jq -r --argjson a "$busy" '.programs[] | select(.id == $a) | .owner')
	[ "$owner" = bpfd ] || fail "owner '$owner', want bpfd"
	echo "  busy $busy: $eps events/s; quiet $quiet: $qeps events/s"
	ctl unload "$quiet" >/dev/null 2>&1 || fail "unload $quiet"
	finish
}

test_top_usage() {
	prog_checks
	"$BPFD" bpfctl top -s nope >"$PROG_TOP/usage.out" 2>&1
	[ $? = 2 ] || fail "top -s nope did not exit 2"
	grep -q "id, name, kind, attach, owner, events, avg or cpu" "$PROG_TOP/usage.out" ||
		fail "unclear: $(cat "$PROG_TOP/usage.out")"
	"$BPFD" bpfctl top -n 0 >"$PROG_TOP/usage.out" 2>&1
	[ $? = 2 ] || fail "top -n 0 did not exit 2"
	"$BPFD" bpfctl top -d 0.01 >"$PROG_TOP/usage.out" 2>&1
	[ $? = 2 ] || fail "top -d 0.01 did not exit 2"
}

run_tests stats test_top_busiest_first test_on_demand test_always_counts_every_run test_list_refreshes_foreign_counts test_off_says_so test_config_refused \
	test_top_usage
