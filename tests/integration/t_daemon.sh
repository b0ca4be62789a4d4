#!/bin/sh
# t_daemon.sh - one daemon per runtime directory: a second bpfd on the same --rundir
# (with another socket) is refused at once, exit status 1, naming the first one's PID,
# and changes nothing; a lock left by a daemon killed with SIGKILL does not block the
# next start.  The start-up kernel probe is cached in the run dir for the same boot and
# binary: the second start does not probe again, a cache of another boot is not used.
# vm: no (the run directory lock is bpfd logic, the kernel version does not change it)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# Everything the daemon keeps: records, pins, map pins (names, sizes, times, bytes).
state() {
	ls -lAR --time-style=full-iso "$BPFD_RUNDIR/programs" "$BPFD_RUNDIR/fs" 2>&1
	for f in "$BPFD_RUNDIR/programs"/*; do
		[ -f "$f" ] && od -An -tx1 "$f"
	done
}

test_second_daemon_refused() {
	prog_setup_private
	need_feature tracepoint
	id=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	ctl list >"$T_TMP/list.before" || fail "list"
	state >"$T_TMP/state.before"
	grep -qx "$BPFD_PID" "$BPFD_RUNDIR/bpfd.lock" ||
		fail "the lock file does not hold the daemon's PID $BPFD_PID: $(cat "$BPFD_RUNDIR/bpfd.lock")"
	sock2=$T_TMP/second.sock
	timeout 10 "$BPFD" --rundir "$BPFD_RUNDIR" --socket "$sock2" \
		>"$T_TMP/second.out" 2>&1 </dev/null
	rc=$?
	[ $rc = 1 ] || fail "second daemon: exit status $rc, want 1: $(cat "$T_TMP/second.out")"
	grep -q "Another bpfd (pid $BPFD_PID) is running on the run directory '$BPFD_RUNDIR'.*stop it first, or give this daemon another --rundir" \
		"$T_TMP/second.out" || fail "message does not name pid $BPFD_PID: $(cat "$T_TMP/second.out")"
	! grep -q "restored\|Mounted\|Ready\|removing\|dropping" "$T_TMP/second.out" ||
		fail "the second daemon went on: $(cat "$T_TMP/second.out")"
	[ ! -e "$sock2" ] || fail "the second daemon made its socket"
	echo "  refused: $(grep -o 'Another bpfd.*' "$T_TMP/second.out")"
	kill -0 "$BPFD_PID" || fail "the first daemon died"
	ctl list >"$T_TMP/list.after" || fail "the first daemon does not serve any more"
	cmp -s "$T_TMP/list.before" "$T_TMP/list.after" ||
		fail "list changed: $(diff "$T_TMP/list.before" "$T_TMP/list.after")"
	state >"$T_TMP/state.after"
	cmp -s "$T_TMP/state.before" "$T_TMP/state.after" ||
		fail "state changed: $(diff "$T_TMP/state.before" "$T_TMP/state.after")"
	c0=$(counter "$BPFD_RUNDIR/fs/maps/$id/counter")
	trig getppid 5
	c1=$(counter "$BPFD_RUNDIR/fs/maps/$id/counter")
	[ "$c1" -gt "$c0" ] || fail "program $id stopped counting: $c0 -> $c1"

	# SIGKILL leaves the lock file with a dead PID in it: the next start takes it over
	kill -9 "$BPFD_PID"
	wait "$BPFD_PID" 2>/dev/null
	grep -qx "$BPFD_PID" "$BPFD_RUNDIR/bpfd.lock" || fail "the lock file changed"
	old=$BPFD_PID
	rm -f "$BPFD_SOCK"
	start_daemon
	[ "$BPFD_PID" != "$old" ] || fail "same pid"
	grep -qx "$BPFD_PID" "$BPFD_RUNDIR/bpfd.lock" ||
		fail "the lock file does not hold the new PID $BPFD_PID: $(cat "$BPFD_RUNDIR/bpfd.lock")"
	ctl list >"$T_TMP/list.restart" || fail "list after the restart"
	cmp -s "$T_TMP/list.before" "$T_TMP/list.restart" ||
		fail "list changed over the restart: $(diff "$T_TMP/list.before" "$T_TMP/list.restart")"
	ctl unload "$id" || fail "unload $id"
}

test_probe_cached() {
	begin probe_cached
	start_daemon
	grep -q 'Kernel features: kernel ' "$T_TMP/daemon.log" ||
		fail "the first start did not probe: $(cat "$T_TMP/daemon.log")"
	grep -q "^boot $(cat /proc/sys/kernel/random/boot_id) bpfd " "$BPFD_RUNDIR/probe.cache" ||
		fail "no cache for this boot: $(cat "$BPFD_RUNDIR/probe.cache" 2>&1)"
	line=$(sed -n 's/.*Kernel features: //p' "$T_TMP/daemon.log")
	stop_daemon
	: >"$T_TMP/daemon.log"
	start_daemon
	grep -qF "Kernel features (probed earlier in this boot): $line" "$T_TMP/daemon.log" ||
		fail "the second start did not use the cache: $(cat "$T_TMP/daemon.log")"
	stop_daemon
	# a cache written in another boot (or by another binary) is not used
	sed -i '1s/^boot [^ ]*/boot 00000000-0000-0000-0000-000000000000/' "$BPFD_RUNDIR/probe.cache"
	: >"$T_TMP/daemon.log"
	start_daemon
	grep -q 'Kernel features: kernel ' "$T_TMP/daemon.log" ||
		fail "a stale cache was used: $(cat "$T_TMP/daemon.log")"
	grep -q "^boot $(cat /proc/sys/kernel/random/boot_id) bpfd " "$BPFD_RUNDIR/probe.cache" ||
		fail "the stale cache was not replaced"
	stop_daemon
}

run_tests daemon test_second_daemon_refused test_probe_cached
