#!/bin/sh
# t_load.sh - the daemon under load (issue 14): 16 concurrent clients x
# BPFD_LOAD_OPS mixed operations each (default 8; `make stress`: 200) - load and
# unload on shared interfaces (TCX on the host, XDP and TC chains in the VM),
# tracepoints, uprobes, list, get - with no error and the order invariant (positions
# follow priorities) checked after every step, while 1,000 idle connections (HTTP/2
# preface sent) stay open; the daemon's fd count is the same before and after; its
# RSS, taken after a warm-up round and after a second round of the same work (no idle
# connections: with them the heap's high-water mark moves; that round reports it), grows by
# at most STRESS_RSS_TOLERANCE_KB (default 1024 kB).  Seeded: STRESS_SEED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

test_sixteen_clients() {
	prog_checks
	need_feature tracepoint
	build_trig
	ulimit -n 8192 || skip "cannot raise the fd limit for 1,000 connections"
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir -p "$T_TMP/run" || fail "mkdir"
	on_exit "umount -l $T_TMP/run/fs"
	n=2
	have_feature freplace && n=4
	IFACES=
	for i in $(seq $n); do
		f=$(echo "ld$T_ID" | cut -c1-11)$i
		frames_veth "$f"
		IFACES="$IFACES $f"
	done
	KINDS="tracepoint uprobe"
	have_feature tcx && KINDS="$KINDS tcx tcx"
	have_feature freplace && KINDS="$KINDS xdp tc"
	CHAINS=0
	have_feature freplace && CHAINS=1
	export T_TMP TRIG IFACES KINDS CHAINS BPFD BPFD_TESTBPF
	/usr/bin/python3 "$(dirname "$0")/stress.py" load "${BPFD_LOAD_CLIENTS:-16}" \
		"${BPFD_LOAD_OPS:-8}" "${BPFD_LOAD_IDLE:-1000}" ||
		fail "$(tail -n 30 "$T_TMP/daemon.log")"
}

run_tests load test_sixteen_clients
