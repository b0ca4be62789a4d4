#!/bin/sh
# t_prog_restart.sh - state survives the daemon: 20 programs of mixed kinds are loaded,
# the daemon is stopped with SIGTERM and started again; bpfctl shows the same 20 with
# the same details and they still run.  Then the daemon is killed with SIGKILL in the
# middle of a load (BPFD_TEST_PAUSE_LOAD holds it between the kernel load and the
# record write): after a restart no program, pin or record of that load is left.
# vm: no (restart and crash recovery are bpfd logic; the VM time budget goes to the kinds the host refuses)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# A veth whose host end $1 sees frames sent from the peer in a netns (no address on
# the host side: the ARP requests of a ping are enough to run XDP/TC programs there).
veth() {
	make_veth_ns "$1" "$1p" "$1ns"
	ip -n "$1ns" addr add 10.99.0.2/24 dev "$1p"
}

frames() {
	ip netns exec "$1ns" ping -c 3 -i 0.2 -W 0.2 10.99.0.1 >/dev/null 2>&1
	return 0
}

# Load 20 programs: an XDP and a TC program on a veth when the kernel has them, then
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

# bpfctl's view of every program: list and get, as JSON, into $1.
views() {
	ctl list -o json | jq -S 'sort_by(.kernel_info.id)' >"$1" || fail "list"
	while read -r id kind; do
		ctl get -o json "$id" | jq -S . >>"$1" || fail "get $id"
	done <"$T_TMP/progs"
}

# Every program's counter grows when its event happens.
all_run() {
	while read -r id kind; do
		echo "$id $(counter "$(map_dir "$id")/counter")"
	done <"$T_TMP/progs" >"$T_TMP/c0"
	trig getppid 20
	trig func 20
	[ -n "${IF:-}" ] && frames "$IF"
	while read -r id v0; do
		v1=$(counter "$(map_dir "$id")/counter")
		[ "$v1" -gt "$v0" ] || fail "program $id ($(grep "^$id " "$T_TMP/progs")) did not run: $v0 -> $v1"
	done <"$T_TMP/c0"
}

test_sigterm_restart_keeps_twenty() {
	prog_setup
	IF="pr$T_ID"
	IF=$(echo "$IF" | cut -c1-12)
	veth "$IF"
	load_twenty
	[ "$(ctl list -o json | jq length)" = 20 ] || fail "list does not show 20"
	views "$T_TMP/before"
	all_run
	restart_daemon
	views "$T_TMP/after"
	cmp -s "$T_TMP/before" "$T_TMP/after" ||
		fail "bpfctl shows other details after the restart: $(diff "$T_TMP/before" "$T_TMP/after" | head -20)"
	all_run
	echo "  $(cut -d' ' -f2 "$T_TMP/progs" | sort | uniq -c | paste -sd ' ')"
	while read -r id kind; do
		ctl unload "$id" || fail "unload $id"
	done <"$T_TMP/progs"
	[ "$(ctl list -o json | jq length)" = 0 ] || fail "programs left"
	[ -z "$(ls "$BPFD_RUNDIR/programs")" ] || fail "records left"
	[ -z "$(ls "$BPFD_RUNDIR/fs/maps")" ] || fail "maps left"
	! ls "$BPFD_RUNDIR/fs" | grep -q '^prog_' || fail "pins left: $(ls "$BPFD_RUNDIR/fs")"
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
		[ $i -gt 400 ] && fail "the load did not reach the pause: $(tail -5 "$T_TMP/daemon.log")"
		sleep 0.05
		mid=$(tail -n +$((skip_lines + 1)) "$T_TMP/daemon.log" |
		      sed -n 's/.*BPFD_TEST_PAUSE_LOAD: program \([0-9]*\) loaded.*/\1/p')
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
	[ -z "$(ls -A "$BPFD_RUNDIR/programs" | grep -v '^[0-9]*$')" ] ||
		fail "temp files left: $(ls -A "$BPFD_RUNDIR/programs")"
	prog_gone "$mid" || fail "program $mid still in the kernel after the restart"
	grep -q "removing pin .*prog_$mid\|detaching program $mid" "$T_TMP/daemon.log" ||
		fail "the restart did not log the cleanup"
}

test_sigkill_mid_load_leaves_nothing() {
	prog_setup
	need_feature tracepoint
	build_trig
	a=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	b=$(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" -f bpfd_test_func)
	ctl list -o json | jq -S . >"$T_TMP/list.before"
	kill_mid_load -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid
	kill_mid_load -p "$COUNTER_OBJ" -n urp_count uprobe -t "$TRIG" -f bpfd_test_func -r
	ctl list -o json | jq -S . >"$T_TMP/list.after"
	cmp -s "$T_TMP/list.before" "$T_TMP/list.after" ||
		fail "list changed: $(diff "$T_TMP/list.before" "$T_TMP/list.after")"
	ctl unload "$a" && ctl unload "$b" || fail "unload"
}

# The same for an XDP load: the hook, not a pin, holds the program.
test_sigkill_mid_xdp_load_leaves_nothing() {
	prog_setup
	need_feature xdp
	IF=$(echo "pk$T_ID" | cut -c1-12)
	veth "$IF"
	kill_mid_load -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10
	ip -j link show "$IF" | jq -e '.[0].xdp == null' >/dev/null ||
		fail "an XDP program is still attached to $IF: $(ip link show "$IF")"
	id=$(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10)
	ctl unload "$id" || fail "unload"
}

run_tests prog_restart test_sigterm_restart_keeps_twenty test_sigkill_mid_load_leaves_nothing \
	test_sigkill_mid_xdp_load_leaves_nothing
