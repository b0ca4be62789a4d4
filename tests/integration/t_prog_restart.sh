#!/bin/sh
# t_prog_restart.sh - state survives the daemon: 20 programs of mixed kinds are loaded,
# the daemon is stopped with SIGTERM and started again; bpfctl shows the same 20 with
# the same details and they still run.  Then the daemon is killed with SIGKILL in the
# middle of a load (BPFD_TEST_PAUSE_LOAD holds it between the kernel load and the
# record write): after a restart no program, pin or record of that load is left.
# vm: no (restart and crash recovery are bpfd logic; the VM time budget goes to the kinds the host refuses)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# Load 20 programs: XDP, TC and TCX programs on a veth when the kernel has them, then
# link-attached kinds in turn (tracepoint, uprobe, uretprobe, kprobe, kretprobe,
# fentry, fexit as available).  Writes "ID KIND" lines to $T_TMP/progs.
load_twenty() {
	build_trig
	: >"$T_TMP/progs"
	n=0
	if have_feature xdp; then
		echo "$(load_id -p "$COUNTER_OBJ" -n xdp_count -g "step=$(step_hex 2)" \
			xdp -i "$IF" -p 10) xdp" >>"$T_TMP/progs"
		n=$((n + 1))
	fi
	if have_feature tc; then
		echo "$(load_id -p "$COUNTER_OBJ" -n tc_count -g "step=$(step_hex 3)" \
			tc -i "$IF" -d ingress -p 10) tc" >>"$T_TMP/progs"
		n=$((n + 1))
	fi
	if have_feature tcx; then
		echo "$(load_id -p "$COUNTER_OBJ" -n tcx_count -g "step=$(step_hex 4)" \
			tcx -i "$IF" -d ingress -p 10) tcx" >>"$T_TMP/progs"
		n=$((n + 1))
	fi
	kinds="tracepoint uprobe uretprobe"
	have_feature kprobe && kinds="$kinds kprobe kretprobe"
	have_feature fentry && kinds="$kinds fentry fexit"
	set -- $kinds
	while [ $n -lt 20 ]; do
		k=$1
		shift
		set -- "$@" "$k"
		step=$(step_hex $((n + 1)))
		case $k in
		tracepoint) id=$(load_id -p "$COUNTER_OBJ" -n tp_count -g "step=$step" \
				-m "n=$n" tracepoint -t syscalls/sys_enter_getppid) ;;
		uprobe) id=$(load_id -p "$COUNTER_OBJ" -n up_count -g "step=$step" -m "n=$n" \
				uprobe -t "$TRIG" -f bpfd_test_func) ;;
		uretprobe) id=$(load_id -p "$COUNTER_OBJ" -n urp_count -g "step=$step" -m "n=$n" \
				uprobe -t "$TRIG" -f bpfd_test_func -r) ;;
		kprobe) id=$(load_id -p "$COUNTER_OBJ" -n kp_count -g "step=$step" -m "n=$n" \
				kprobe -f "$KFN") ;;
		kretprobe) id=$(load_id -p "$COUNTER_OBJ" -n krp_count -g "step=$step" -m "n=$n" \
				kprobe -f "$KFN" -r) ;;
		fentry) id=$(load_id -p "$COUNTER_OBJ" -n fe_count -g "step=$step" -m "n=$n" \
				fentry -f "$KFN") ;;
		fexit) id=$(load_id -p "$COUNTER_OBJ" -n fx_count -g "step=$step" -m "n=$n" \
				fexit -f "$KFN") ;;
		esac
		echo "$id $k" >>"$T_TMP/progs"
		n=$((n + 1))
	done
	[ "$(wc -l <"$T_TMP/progs")" = 20 ] || fail "loaded $(wc -l <"$T_TMP/progs") programs"
}

# Programs bpfctl list shows (rows starting with an id).
list_count() {
	ctl list >"$T_TMP/list" || fail "list"
	_n=0
	while read -r _id _rest; do
		case $_id in [0-9]*) _n=$((_n + 1)) ;; esac
	done <"$T_TMP/list"
	echo $_n
}

# bpfctl's view of every program: list and get into $1.
# (without the run statistics: live counters, not what bpfd holds)
views() {
	ctl list >"$1" || fail "list"
	while read -r id kind; do
		ctl get "$id" >"$T_TMP/get.out" || fail "get $id"
		grep -v '^ *Run \(Count\|Time (ns)\):' "$T_TMP/get.out" >>"$1"
	done <"$T_TMP/progs"
}

test_sigterm_restart_keeps_twenty() {
	prog_setup_private
	IF="pr$T_ID"
	IF=$(echo "$IF" | cut -c1-12)
	frames_veth "$IF"
	load_twenty
	[ "$(list_count)" = 20 ] || fail "list does not show 20: $(ctl list)"
	views "$T_TMP/before"
	progs_run
	restart_daemon
	views "$T_TMP/after"
	cmp -s "$T_TMP/before" "$T_TMP/after" ||
		fail "bpfctl shows other details after the restart: $(diff "$T_TMP/before" "$T_TMP/after" | head -20)"
	progs_run
	echo "  kinds: $(cut -d' ' -f2 "$T_TMP/progs" | sort | uniq -c | tr -s ' \n' ' ')"
	while read -r id kind; do
		ctl unload "$id" || fail "unload $id"
	done <"$T_TMP/progs"
	[ "$(list_count)" = 0 ] || fail "programs left: $(ctl list)"
	set -- "$BPFD_RUNDIR/programs"/* "$BPFD_RUNDIR/fs/maps"/* "$BPFD_RUNDIR/fs"/prog_*
	[ "$*" = "$BPFD_RUNDIR/programs/* $BPFD_RUNDIR/fs/maps/* $BPFD_RUNDIR/fs/prog_*" ] ||
		fail "left behind: $*"
}

# Start a load that pauses before its record; SIGKILL the daemon then; restart.
# args: load-from-file ARGS
kill_mid_load() {
	stop_daemon
	export BPFD_TEST_PAUSE_LOAD=60
	start_daemon
	unset BPFD_TEST_PAUSE_LOAD
	skip_lines=$(wc -l <"$T_TMP/daemon.log")
	ctl load-from-file "$@" >"$T_TMP/mid.out" 2>&1 &
	cpid=$!
	i=0
	mid=
	while [ -z "$mid" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && fail "the load did not reach the pause: $(tail -5 "$T_TMP/daemon.log")"
		sleep 0.1
		k=0
		while IFS= read -r l; do
			k=$((k + 1))
			[ $k -le "$skip_lines" ] && continue
			case $l in
			*"BPFD_TEST_PAUSE_LOAD: program "*" loaded"*)
				l=${l#*BPFD_TEST_PAUSE_LOAD: program }
				mid=${l%% *} ;;
			esac
		done <"$T_TMP/daemon.log"
	done
	bpftool prog show id "$mid" >/dev/null 2>&1 || fail "program $mid is not in the kernel mid-load"
	kill -9 "$BPFD_PID"
	wait "$BPFD_PID" 2>/dev/null
	wait "$cpid" && fail "the interrupted load reported success"
	[ ! -e "$BPFD_RUNDIR/programs/$mid" ] || fail "a record was written before the kill"
	echo "  killed the daemon with program $mid loaded but not recorded"
	rm -f "$BPFD_SOCK"	# left by the killed daemon: start_daemon waits for a new one
	start_daemon
	[ ! -e "$BPFD_RUNDIR/fs/prog_$mid" ] || fail "program pin of $mid left"
	[ ! -e "$BPFD_RUNDIR/fs/prog_${mid}_link" ] || fail "link pin of $mid left"
	[ ! -e "$BPFD_RUNDIR/fs/maps/$mid" ] || fail "maps of $mid left"
	for f in "$BPFD_RUNDIR/programs"/.[!.]*; do
		[ -e "$f" ] && fail "temp file left: $f"
	done
	prog_gone "$mid" || fail "program $mid still in the kernel after the restart"
	grep -q "removing pin .*prog_$mid\|detaching program $mid" "$T_TMP/daemon.log" ||
		fail "the restart did not log the cleanup"
}

test_sigkill_mid_load_leaves_nothing() {
	prog_setup_private
	need_feature tracepoint
	build_trig
	a=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	b=$(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" -f bpfd_test_func)
	ctl list >"$T_TMP/list.before"
	kill_mid_load -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid
	kill_mid_load -p "$COUNTER_OBJ" -n urp_count uprobe -t "$TRIG" -f bpfd_test_func -r
	ctl list >"$T_TMP/list.after"
	cmp -s "$T_TMP/list.before" "$T_TMP/list.after" ||
		fail "list changed: $(diff "$T_TMP/list.before" "$T_TMP/list.after")"
	ctl unload "$a" && ctl unload "$b" || fail "unload"
}

# The same for an XDP load: the hook, not a pin, holds the program.
test_sigkill_mid_xdp_load_leaves_nothing() {
	prog_setup_private
	need_feature xdp
	IF=$(echo "pk$T_ID" | cut -c1-12)
	frames_veth "$IF"
	kill_mid_load -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10
	! ip link show "$IF" | grep -q 'prog/xdp' ||
		fail "an XDP program is still attached to $IF: $(ip link show "$IF")"
	id=$(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10)
	ctl unload "$id" || fail "unload"
}

run_tests prog_restart test_sigterm_restart_keeps_twenty test_sigkill_mid_load_leaves_nothing \
	test_sigkill_mid_xdp_load_leaves_nothing
