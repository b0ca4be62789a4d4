#!/bin/sh
# t_crash.sh - crash safety (issue 14): random load/unload/modify operations of mixed
# kinds with the daemon killed by SIGKILL at random moments (between operations, while
# one is in flight, mid-load, mid-modify) and started again; after every restart
# records, bpfctl list/get, bpffs pins and the kernel agree exactly, every program
# still runs, and each operation's outcome is what was asked (a completed modify shows
# its priority, proceed-on and metadata; one cut off by the kill left the old or the
# new state; a refused one changed nothing) (stress.py crash).  Host: tracepoint,
# uprobe, TCX and one XDP program per interface; VM: XDP and TC dispatcher chains
# besides.  BPFD_CRASH_OPS operations (default 60; `make stress`: 500); the seed is
# printed, STRESS_SEED=N replays it.
# Then the faults: bpffs unmounted under the daemon, an interface deleted while it
# carries programs.  (The full state file system and damaged records: t_records.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# crash_setup N: stress_setup with N veths and the kinds of the crash test.
crash_setup() {
	stress_setup cr "$1"
	have_feature tcx && KINDS="$KINDS tcx"
	have_feature xdp && KINDS="$KINDS xdp"
	# twice as likely: the chains are the point in the VM
	[ "$CHAINS" = 1 ] && KINDS="$KINDS tc xdp"
	export KINDS
}

test_random_kills() {
	crash_setup 2
	/usr/bin/python3 "$(dirname "$0")/stress.py" crash "${BPFD_CRASH_OPS:-60}" ||
		fail "$(tail -n 30 "$T_TMP/daemon.log")"
}

# The daemon's bpffs unmounted under it (umount -l: the pins go, and with them the
# programs only a pin held): the next load mounts it again, with a warning naming what
# happened, and works; programs the hook holds (XDP) stay listed and attached; a
# restart then finds records, list and pins in agreement.
test_bpffs_unmounted() {
	crash_setup 1
	IF=${IFACES# }
	BPFD_RUNDIR=$T_TMP/run
	start_daemon
	tp=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	xdp=
	have_feature xdp && xdp=$(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10)
	umount -l "$BPFD_RUNDIR/fs" || fail "umount"
	prog_gone "$tp" || fail "program $tp outlived its pin"
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/out" 2>&1 ||
		fail "load after the bpffs was unmounted: $(cat "$T_TMP/out")"
	id=$(field "$T_TMP/out" ID)
	grep -q "bpffs at $BPFD_RUNDIR/fs was unmounted" "$T_TMP/daemon.log" ||
		fail "the log does not say the bpffs was unmounted: $(tail -n 5 "$T_TMP/daemon.log")"
	grep -q " $BPFD_RUNDIR/fs bpf " /proc/mounts || fail "the bpffs was not mounted again"
	echo "$id tracepoint" >"$T_TMP/progs"
	progs_run
	ctl list >"$T_TMP/list" || fail "list"
	grep -q "^ $tp " "$T_TMP/list" && fail "program $tp is gone but listed: $(cat "$T_TMP/list")"
	# attached directly, the hook holds the XDP program; in a dispatcher chain (VM)
	# the pins held the chain: whether the member is still in the kernel, a restart
	# must show it exactly when it is
	if [ -n "$xdp" ] && ! have_feature freplace; then
		grep -q "^ $xdp " "$T_TMP/list" || fail "XDP program $xdp not listed: $(cat "$T_TMP/list")"
		ip link show "$IF" | grep -q "prog/xdp id $xdp" || fail "XDP program $xdp detached"
	fi
	restart_daemon
	ctl list >"$T_TMP/list2" || fail "list"
	if [ -n "$xdp" ] && have_feature freplace; then
		if grep -q "^ $xdp " "$T_TMP/list2"; then
			bpftool prog show id "$xdp" >/dev/null 2>&1 || fail "gone XDP $xdp listed"
		else
			prog_gone "$xdp" || fail "XDP member $xdp not listed but in the kernel"
			echo "  the XDP chain went with the pins"
			xdp=
			grep -v "xdp_count" "$T_TMP/list" >"$T_TMP/list.tmp"
			mv "$T_TMP/list.tmp" "$T_TMP/list"
		fi
	fi
	cmp -s "$T_TMP/list" "$T_TMP/list2" ||
		fail "list changed over a restart: $(diff "$T_TMP/list" "$T_TMP/list2")"
	[ "$(ls "$BPFD_RUNDIR/programs" | sort | tr '\n' ' ')" = \
		"$(printf '%s\n' $id $xdp | sort | tr '\n' ' ')" ] ||
		fail "records: $(ls "$BPFD_RUNDIR/programs")"
	progs_run
	for p in $id $xdp; do ctl unload "$p" || fail "unload $p"; done
}

# An interface deleted while it carries programs (TCX, XDP and TC; chains in the VM):
# the kernel detaches them; after a restart bpfd holds no record, pin or map pin of
# them and none of them is left in the kernel, while a program on another interface
# keeps its record and runs.
test_interface_deleted() {
	crash_setup 2
	set -- $IFACES
	gone=$1 IF=$2
	BPFD_RUNDIR=$T_TMP/run
	start_daemon
	po=
	have_feature freplace && po="--proceed-on ok,pipe,dispatcher_return"
	ids=
	have_feature tcx && ids="$ids $(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$gone" -d ingress -p 10)"
	if have_feature xdp; then
		ids="$ids $(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$gone" -p 10)"
		have_feature freplace &&
			ids="$ids $(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$gone" -p 20)"
	fi
	# shellcheck disable=SC2086
	ids="$ids $(load_id -p "$COUNTER_OBJ" -n tc_count tc -i "$gone" -d ingress -p 10 $po)"
	[ -n "$ids" ] || skip "the kernel has neither TCX nor XDP nor TC"
	kind=tracepoint
	if have_feature tcx; then
		kind=tcx
		keep=$(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$IF" -d ingress -p 10)
	else
		keep=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	fi
	ip link del "$gone" || fail "cannot delete $gone"
	restart_daemon
	ctl list >"$T_TMP/list" || fail "list"
	for id in $ids; do
		grep -q "^ $id " "$T_TMP/list" && fail "program $id of deleted $gone listed: $(cat "$T_TMP/list")"
		[ ! -e "$BPFD_RUNDIR/programs/$id" ] || fail "record of $id (on deleted $gone) kept"
		[ ! -e "$BPFD_RUNDIR/fs/maps/$id" ] || fail "map pins of $id (on deleted $gone) kept"
		[ -z "$(find "$BPFD_RUNDIR/fs" -name "*$id*")" ] ||
			fail "pins of $id left: $(find "$BPFD_RUNDIR/fs" -name "*$id*")"
		prog_gone "$id" || fail "program $id of deleted $gone still in the kernel"
	done
	grep -q "^ $keep " "$T_TMP/list" || fail "program $keep on $IF not listed: $(cat "$T_TMP/list")"
	[ "$(ls "$BPFD_RUNDIR/programs")" = "$keep" ] || fail "records: $(ls "$BPFD_RUNDIR/programs")"
	echo "$keep $kind" >"$T_TMP/progs"
	IFACES=$IF
	progs_run
	ctl unload "$keep" || fail "unload $keep"
}

# SIGKILL in the middle of an unload (BPFD_TEST_PAUSE_UNLOAD holds it after its first
# step): after the restart the program is gone everywhere - no record, list entry,
# pin or attachment - as the unload was asked, for every kind.
test_sigkill_mid_unload() {
	crash_setup 1
	IF=${IFACES# }
	BPFD_RUNDIR=$T_TMP/run
	start_daemon
	set -- "tp $(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)" \
		"up $(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" -f bpfd_test_func)"
	have_feature tcx &&
		set -- "$@" "tcx $(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$IF" -d ingress -p 10)"
	have_feature xdp &&
		set -- "$@" "xdp $(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10)"
	for kid in "$@"; do
		id=${kid#* }
		stop_daemon
		rm -f "$BPFD_SOCK"
		export BPFD_TEST_PAUSE_UNLOAD=60
		start_daemon
		unset BPFD_TEST_PAUSE_UNLOAD
		skip_lines=$(wc -l <"$T_TMP/daemon.log")
		ctl unload "$id" >"$T_TMP/unload.out" 2>&1 &
		cpid=$!
		i=0
		until tail -n +"$((skip_lines + 1))" "$T_TMP/daemon.log" |
			grep -q "BPFD_TEST_PAUSE_UNLOAD: program $id "; do
			i=$((i + 1))
			[ $i -gt 300 ] && fail "the unload of $id did not reach the pause"
			sleep 0.05
		done
		kill -9 "$BPFD_PID"
		wait "$BPFD_PID" 2>/dev/null
		wait "$cpid"
		rm -f "$BPFD_SOCK"
		start_daemon
		ctl list >"$T_TMP/list" || fail "list"
		grep -q "^ $id " "$T_TMP/list" && fail "$kid listed after a kill mid-unload"
		[ ! -e "$BPFD_RUNDIR/programs/$id" ] || fail "record of $kid kept"
		[ -z "$(find "$BPFD_RUNDIR/fs" -name "*$id*")" ] ||
			fail "pins of $kid left: $(find "$BPFD_RUNDIR/fs" -name "*$id*")"
		prog_gone "$id" || fail "$kid still in the kernel after a kill mid-unload and a restart"
		echo "  $kid: gone after a kill mid-unload"
	done
	! ip link show "$IF" | grep -q 'prog/xdp' || fail "XDP left on $IF"
}

run_tests crash ${T_ONLY:-test_random_kills test_bpffs_unmounted test_interface_deleted test_sigkill_mid_unload}
