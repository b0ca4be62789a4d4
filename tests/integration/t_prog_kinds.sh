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
	[ "$dir" = "$BPFD_RUNDIR/fs/maps/$id" ] || fail "Map Pin Path is '$dir'"
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

# want FILE KEY VALUE: field KEY of bpfctl's text output is VALUE
want() {
	[ "$(field "$1" "$2")" = "$3" ] || fail "$2 is '$(field "$1" "$2")', want '$3': $(cat "$1")"
}

test_tracepoint_text_output() {
	setup
	need_feature tracepoint
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count -g step=0700000000000000 \
		-m app=demo,team=net -m owner=me tracepoint -t syscalls/sys_enter_getppid \
		>"$T_TMP/out" 2>&1 || fail "load: $(cat "$T_TMP/out")"
	id=$(field "$T_TMP/out" ID)
	want "$T_TMP/out" Name "tp_count"
	want "$T_TMP/out" Path "$COUNTER_OBJ"
	want "$T_TMP/out" Global "step=0700000000000000"
	want "$T_TMP/out" Metadata "app=demo team=net owner=me"
	want "$T_TMP/out" "Map Pin Path" "$BPFD_RUNDIR/fs/maps/$id"
	want "$T_TMP/out" "Map Owner ID" "None"
	want "$T_TMP/out" "Maps Used By" "$id"
	want "$T_TMP/out" Tracepoint "syscalls/sys_enter_getppid"
	want "$T_TMP/out" Type "tracepoint"
	ctl list >"$T_TMP/list" || fail "list"
	found=
	while read -r lid lname ltype rest; do
		[ "$lid $lname $ltype" = "$id tp_count tracepoint" ] && found=1
	done <"$T_TMP/list"
	[ -n "$found" ] || fail "list: $(cat "$T_TMP/list")"
	get "$id"
	want "$T_TMP/get" Metadata "app=demo team=net owner=me"
	ctl unload "$id" || fail "unload"
}

# Options as a first user typed them: load-from-file's own (-p, -g, -m) and the output
# options after the KIND's; -j prints the JSON result alone on stdout.
test_options_after_the_kind() {
	setup
	need_feature tracepoint
	ctl load-from-file -n tp_count tracepoint -t syscalls/sys_enter_getppid -p "$COUNTER_OBJ" \
		-m app=demo -g step=0500000000000000 -j >"$T_TMP/out" 2>"$T_TMP/err" ||
		fail "load: $(cat "$T_TMP/out" "$T_TMP/err")"
	[ ! -s "$T_TMP/err" ] || fail "stderr: $(cat "$T_TMP/err")"
	id=$(jq -er .kernel_info.id "$T_TMP/out") || fail "stdout is not the JSON result: $(cat "$T_TMP/out")"
	jq -e '.info.global_data.step == "0500000000000000" and .info.metadata.app == "demo" and
		.info.attach.tracepoint_attach_info.tracepoint == "syscalls/sys_enter_getppid"' \
		"$T_TMP/out" >/dev/null || fail "loaded as: $(cat "$T_TMP/out")"
	ctl unload "$id" --output json >"$T_TMP/unload.out" 2>&1 || fail "unload: $(cat "$T_TMP/unload.out")"
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

# "libc" resolved like the dynamic loader; trig's getppid goes through libc's syscall()
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
	while ! read -r wpid <"$T_TMP/pid"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "trig did not start"
		sleep 0.05
	done
	id=$(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" -f bpfd_test_func \
		--pid "$wpid")
	dir=$BPFD_RUNDIR/fs/maps/$id
	get "$id"
	want "$T_TMP/get" PID "$wpid"
	trig func 40
	[ "$(counter "$dir/counter")" = 0 ] || fail "another process was counted"
	: >"$T_TMP/go"
	wait $tpid
	[ "$(counter "$dir/counter")" = 30 ] || fail "counter $(counter "$dir/counter"), want 30"
	ctl unload "$id" || fail "unload"
}

test_kprobe() {
	setup
	need_feature kprobe
	prove_runs 11 100 getppid -- -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN"
}

# -o OFFSET: which offsets start an instruction depends on the kernel build, so the
# first bytes of the function are tried.  An offset inside an instruction and one past
# the function's end are refused, named and change nothing; the first accepted one
# fires on every call like the probe at the entry.
test_kprobe_offset() {
	setup
	need_feature kprobe
	snapshot before
	refused_in=0 good=
	for off in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		if ctl load-from-file -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN" -o "$off" \
			>"$T_TMP/off.out" 2>&1; then
			id=$(field "$T_TMP/off.out" ID)
			ctl unload "$id" || fail "unload $id"
			prog_gone "$id" || fail "program $id still in the kernel"
			good=$off
			break
		fi
		grep -q "not where an instruction starts" "$T_TMP/off.out" ||
			fail "offset $off: $(cat "$T_TMP/off.out")"
		refused_in=$((refused_in + 1))
		same_as before
	done
	[ -n "$good" ] || fail "no offset in 1..16 of $KFN was accepted"
	echo "  offsets 1..$((good - 1)) refused inside an instruction, $good accepted"
	ctl load-from-file -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN" -o 1000000 \
		>"$T_TMP/off.out" 2>&1 && fail "offset 1000000 accepted: $(cat "$T_TMP/off.out")"
	grep -q "past the end of kernel function '$KFN'" "$T_TMP/off.out" ||
		fail "offset 1000000: $(cat "$T_TMP/off.out")"
	same_as before
	prove_runs 11 100 getppid -- -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN" -o "$good"
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
	setup
	! have_feature "$feature" || skip "this kernel allows $feature: no refusal to check"
	snapshot before
	ctl load-from-file -p "$COUNTER_OBJ" -n "$fn" "$kind" -f "$KFN" >"$T_TMP/out" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "exit $rc: $(cat "$T_TMP/out")"
	read -r msg <"$T_TMP/out"
	case $msg in *$want*) ;; *) fail "unclear error: $msg" ;; esac
	echo "  $msg"
	same_as before
	kill -0 "$BPFD_PID" || fail "the daemon died: $(cat "$DAEMON_LOG")"
	ctl list >/dev/null || fail "the daemon does not answer"
}

test_fentry_refused_explained() { refused fentry fe_count fentry '(EPERM)*bpfd --probe'; }
test_fexit_refused_explained() { refused fexit fx_count fentry '(EPERM)*bpfd --probe'; }
test_kprobe_missing_explained() { refused kprobe kp_count kprobe 'no kprobe support'; }

run_tests prog_kinds test_tracepoint test_tracepoint_text_output test_options_after_the_kind \
	test_uprobe_binary \
	test_uretprobe_binary test_uprobe_libc_by_name test_uprobe_pid_filter test_kprobe \
	test_kprobe_offset test_kretprobe test_fentry test_fexit test_fentry_refused_explained \
	test_fexit_refused_explained test_kprobe_missing_explained
