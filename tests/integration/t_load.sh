#!/bin/sh
# t_load.sh - the daemon under load (issue 14): 16 concurrent clients x
# BPFD_LOAD_OPS mixed operations each (default 8; `make stress`: 200) - load and
# unload on shared interfaces (TCX on the host, XDP and TC chains in the VM),
# tracepoints, uprobes, modify (priority, proceed-on, metadata), list, get - with no
# error and the order invariant (positions follow priorities) checked after every step,
# while an events reader follows the stream (every completed load, unload and modify
# on it, no gap in the sequence numbers) and 1,000 idle connections (HTTP/2 preface
# sent) stay open; the daemon's fd count is the same before and after; its RSS, taken
# after a warm-up round and after two more rounds of the same work (no idle
# connections: with them the heap's high-water mark moves; that round reports it, and
# what the idle connections cost each), may not grow by more than
# STRESS_RSS_TOLERANCE_KB (default 1024 kB) in both of those rounds (a leak grows every
# round; the allocator may settle once).  Seeded: STRESS_SEED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

test_sixteen_clients() {
	ulimit -n 8192 || skip "cannot raise the fd limit for 1,000 connections"
	n=2
	have_feature freplace && n=4
	stress_setup ld $n
	have_feature tcx && KINDS="$KINDS tcx tcx"
	[ "$CHAINS" = 1 ] && KINDS="$KINDS xdp tc"
	export KINDS
	/usr/bin/python3 "$(dirname "$0")/stress.py" load "${BPFD_LOAD_CLIENTS:-16}" \
		"${BPFD_LOAD_OPS:-8}" "${BPFD_LOAD_IDLE:-1000}" ||
		fail "$(tail -n 30 "$T_TMP/daemon.log")"
}

# A connection the daemon accepted while it ran other calls for longer than
# handshake_timeout is read before it is judged: its List is answered (it was cut off
# with "Connection reset by peer" 3 times under the 16 clients).
test_busy_daemon_reads_new_connection() {
	stress_setup lb 0
	/usr/bin/python3 "$(dirname "$0")/stress.py" busy ||
		fail "$(tail -n 30 "$T_TMP/daemon.log")"
}

run_tests load ${T_ONLY:-test_sixteen_clients test_busy_daemon_reads_new_connection}
