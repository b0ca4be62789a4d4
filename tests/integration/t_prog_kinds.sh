#!/bin/sh
# t_prog_kinds.sh - load-from-file of each attach kind through the daemon and bpfctl,
# proven to run: the counter map, read through its pin with bpftool, grows after the
# event by the global `step` set with -g.  Kinds the kernel lacks are skipped with the
# probe's reason, and must then fail with a clear error.  Unload removes everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

setup() { prog_setup; }

# load, trigger, check the counter grew by at least N steps and only in steps; unload.
# args: STEP N TRIGGER-CMD -- LOAD ARGS...
prove_runs() {
	step=$1 n=$2 tcmd=$3
	shift 4
	id=$(load_id -g "step=$(step_hex "$step")" "$@")
	dir=$(map_dir "$id")
	[ -e "$BPFD_RUNDIR/fs/prog_$id" ] || fail "program pin missing"
	[ -e "$BPFD_RUNDIR/fs/prog_${id}_link" ] || fail "link pin missing"
	[ -e "$dir/counter" ] || fail "counter map not pinned in $dir"
	v0=$(counter "$dir/counter")
	trig $tcmd "$n"
	v1=$(counter "$dir/counter")
	d=$((v1 - v0))
	[ "$d" -ge $((n * step)) ] || fail "counter grew by $d, want >= $((n * step))"
	[ $((d % step)) = 0 ] || fail "counter grew by $d, not a multiple of the global step $step"
	[ $((v1 % step)) = 0 ] || fail "counter $v1 is not a multiple of step $step"
	ctl unload "$id" >"$T_TMP/unload.out" 2>&1 || fail "unload: $(cat "$T_TMP/unload.out")"
	[ ! -s "$T_TMP/unload.out" ] || fail "unload printed: $(cat "$T_TMP/unload.out")"
	[ ! -e "$BPFD_RUNDIR/fs/prog_$id" ] || fail "program pin left"
	[ ! -e "$BPFD_RUNDIR/fs/prog_${id}_link" ] || fail "link pin left"
	[ ! -e "$dir" ] || fail "map dir left"
	[ ! -e "$BPFD_RUNDIR/programs/$id" ] || fail "record left"
	prog_gone "$id" || fail "program $id still in the kernel"
	echo "  $* -> program $id counted $d"
}

test_tracepoint() {
	setup
	need_feature tracepoint
	prove_runs 1000003 200 getppid -- -p "$COUNTER_OBJ" -n tp_count \
		tracepoint -t syscalls/sys_enter_getppid
}

test_tracepoint_text_output() {
	setup
	need_feature tracepoint
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count -g step=0700000000000000 \
		-m app=demo,team=net -m owner=me tracepoint -t syscalls/sys_enter_getppid \
		>"$T_TMP/out" 2>&1 || fail "load: $(cat "$T_TMP/out")"
	for want in 'Bpfd State' 'Name: *tp_count' "Path: *$COUNTER_OBJ" \
	    'Global: *step=0700000000000000' 'app=demo' 'team=net' 'owner=me' \
	    'Tracepoint: *syscalls/sys_enter_getppid' 'Kernel State' 'Type: *tracepoint'; do
		grep -q "$want" "$T_TMP/out" || fail "output lacks '$want': $(cat "$T_TMP/out")"
	done
	id=$(sed -n 's/^ *ID: *//p' "$T_TMP/out")
	ctl list | grep -q "^ *$id *tp_count *tracepoint" || fail "list: $(ctl list)"
	ctl get "$id" | grep -q 'owner=me' || fail "get lacks metadata"
	ctl unload "$id" || fail "unload"
}

test_uprobe_binary() {
	setup
	need_feature uprobe
	build_trig
	prove_runs 3 100 func -- -p "$COUNTER_OBJ" -n up_count \
		uprobe -t "$TRIG" -f bpfd_test_func
}

test_uretprobe_binary() {
	setup
	need_feature uprobe
	build_trig
	prove_runs 5 100 func -- -p "$COUNTER_OBJ" -n urp_count \
		uprobe -t "$TRIG" -f bpfd_test_func -r
}

test_uprobe_libc_by_name() {
	setup
	need_feature uprobe
	prove_runs 9 50 getppid -- -p "$COUNTER_OBJ" -n up_count \
		uprobe -t libc -f syscall
}

# --pid: only that process counts
test_uprobe_pid_filter() {
	setup
	need_feature uprobe
	build_trig
	"$TRIG" wait 30 "$T_TMP/go" >"$T_TMP/pid" &
	tpid=$!
	on_exit "kill $tpid"
	i=0
	while [ ! -s "$T_TMP/pid" ]; do i=$((i + 1)); [ $i -gt 100 ] && fail "trig did not start"; sleep 0.05; done
	id=$(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" -f bpfd_test_func \
		--pid "$(cat "$T_TMP/pid")")
	dir=$(map_dir "$id")
	ctl get "$id" | grep -q "PID: *$(cat "$T_TMP/pid")" || fail "get does not show the pid: $(ctl get "$id")"
	trig func 40
	[ "$(counter "$dir/counter")" = 0 ] || fail "another process was counted"
	touch "$T_TMP/go"
	wait $tpid
	[ "$(counter "$dir/counter")" = 30 ] || fail "counter $(counter "$dir/counter"), want 30"
	ctl unload "$id" || fail "unload"
}

test_kprobe() {
	setup
	need_feature kprobe
	prove_runs 11 100 getppid -- -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN"
}

test_kretprobe() {
	setup
	need_feature kprobe
	prove_runs 13 100 getppid -- -p "$COUNTER_OBJ" -n krp_count kprobe -f "$KFN" -r
}

test_fentry() {
	setup
	need_feature fentry
	prove_runs 17 100 getppid -- -p "$COUNTER_OBJ" -n fe_count fentry -f "$KFN"
}

test_fexit() {
	setup
	need_feature fentry
	prove_runs 19 100 getppid -- -p "$COUNTER_OBJ" -n fx_count fexit -f "$KFN"
}

# Where the kernel refuses a kind, the load fails with an explanation, not a crash.
refused() {
	kind=$1 fn=$2 feature=$3 want=$4
	shift 4
	setup
	! have_feature "$feature" || skip "this kernel allows $feature: no refusal to check"
	snapshot before
	ctl load-from-file -p "$COUNTER_OBJ" -n "$fn" "$kind" -f "$KFN" "$@" >"$T_TMP/out" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "exit $rc: $(cat "$T_TMP/out")"
	grep -q "$want" "$T_TMP/out" || fail "unclear error: $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	same_as before
	kill -0 "$BPFD_PID" || fail "the daemon died: $(cat "$T_TMP/daemon.log")"
	ctl list >/dev/null || fail "the daemon does not answer"
}

test_fentry_refused_explained() { refused fentry fe_count fentry 'EPERM.*bpfd --probe'; }
test_fexit_refused_explained() { refused fexit fx_count fentry 'EPERM.*bpfd --probe'; }
test_kprobe_missing_explained() { refused kprobe kp_count kprobe 'no kprobe support'; }

run_tests prog_kinds test_tracepoint test_tracepoint_text_output test_uprobe_binary \
	test_uretprobe_binary test_uprobe_libc_by_name test_uprobe_pid_filter test_kprobe \
	test_kretprobe test_fentry test_fexit test_fentry_refused_explained \
	test_fexit_refused_explained test_kprobe_missing_explained
