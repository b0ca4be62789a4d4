#!/bin/sh
# t_stats.sh - run statistics ([monitor] stats): the kernel's run count and run time of
# a program in `bpfctl get` (text and JSON).  The program is the counter's tracepoint
# program attached to syscalls/sys_enter_sysfs, a syscall nothing else on the machine
# makes (the kernel counts every run of a program, whoever triggers it), so the run
# count must grow by exactly the number of sysfs(2) calls the test makes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

TP=syscalls/sys_enter_sysfs
SYSFS=$PROG_TOP/sysfs_calls

# sysfs_calls N: N sysfs(2) calls (option 3: the number of filesystem types)
sysfs_calls() {
	if [ ! -x "$SYSFS" ]; then
		cat >"$PROG_TOP/sysfs_calls.c" <<'C'
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 1;

#ifdef SYS_sysfs
	for (i = 0; i < n; i++)
		syscall(SYS_sysfs, 3);
	return 0;
#else
	(void)i;
	(void)n;
	return 77;
#endif
}
C
		cc -O1 -o "$SYSFS.tmp" "$PROG_TOP/sysfs_calls.c" || fail "cannot build the sysfs caller"
		mv "$SYSFS.tmp" "$SYSFS"
	fi
	"$SYSFS" "$1"
	[ $? = 77 ] && skip "this architecture has no sysfs(2) syscall"
	return 0
}

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

# Does process $1 hold a BPF_ENABLE_STATS fd?  (The sysctl bpf_stats_enabled shows
# only what was written to it, not the fds.)
holds_stats() {
	for _f in /proc/$1/fd/*; do
		[ "$(readlink "$_f" 2>/dev/null)" = "anon_inode:bpf-stats" ] && return 0
	done
	return 1
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

run_tests stats test_on_demand test_always_counts_every_run test_off_says_so test_config_refused
