#!/bin/sh
# t_records.sh - a damaged record never costs a running program.  Records are emptied,
# filled with random bytes, get one byte flipped or are truncated while the daemon is
# stopped; after the restart each program keeps running (its counter grows), the file
# is moved aside to programs/damaged/ (never deleted), list and get show the program
# as bpfd's with "record damaged", and unload removes it, its pins and its hook slot.
# Every damage for every kind.  On the host: tracepoint, uprobe and TCX, and XDP and
# TC attached directly (one program per hook: an interface per damage); in the VM:
# one XDP and one TC dispatcher chain holding a member per damage and a sound member.
# And a full state file system: a load is refused with ENOSPC and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

MODES="empty random flip truncated"

# damage MODE FILE
damage() {
	case $1 in
	empty) : >"$2" ;;
	random) head -c 300 /dev/urandom >"$2" ;;
	flip)
		_n=$(($(wc -c <"$2") / 2))
		_b=$(od -An -tu1 -j "$_n" -N1 "$2")
		printf "\\$(printf %03o $((_b ^ 0x10)))" |
			dd of="$2" bs=1 seek="$_n" conv=notrunc 2>/dev/null ;;
	truncated) truncate -s $(($(wc -c <"$2") * 2 / 3)) "$2" ;;
	esac
}

# load KIND MODE [IFACE]: load one program (XDP, TC and TCX on IFACE, default $IF),
# append "ID KIND MODE IFACE" to $T_TMP/progs (IFACE - for tracepoint and uprobe).
load() {
	_if=${3:-$IF}
	case $1 in
	tracepoint) _id=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint \
			-t syscalls/sys_enter_getppid) ;;
	uprobe) _id=$(load_id -p "$COUNTER_OBJ" -n up_count uprobe -t "$TRIG" \
			-f bpfd_test_func) ;;
	tcx) _id=$(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$_if" -d ingress -p 10) ;;
	xdp) _id=$(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$_if" -p 10) ;;
	tc)	# tc_count says ok: in a dispatcher chain the next member must still run;
		# attached directly (no freplace) there is no chain and no proceed-on
		_po=
		have_feature freplace && _po="--proceed-on ok,pipe,dispatcher_return"
		# shellcheck disable=SC2086
		_id=$(load_id -p "$COUNTER_OBJ" -n tc_count tc -i "$_if" -d ingress -p 10 $_po) ;;
	esac
	case $1 in tracepoint|uprobe) _if=- ;; esac
	echo "$_id $1 $2 $_if" >>"$T_TMP/progs"
}

# prog_lib.sh's frames for every interface of the test ($IFACES) at once: progs_run
# calls it.  (Waits for the pings only: the daemon is a child of this shell too.)
frames() {
	_pids=
	for _f in $IFACES; do
		ip netns exec "${_f}ns" ping -c 3 -i 0.2 -W 0.2 10.99.0.1 >/dev/null 2>&1 &
		_pids="$_pids $!"
	done
	# shellcheck disable=SC2086
	wait $_pids
	return 0
}

# What bpfd still holds of program $1: its pins, its TCX link pin, its map pins.
left_of() {
	ls -d "$BPFD_RUNDIR/fs/prog_$1" "$BPFD_RUNDIR/fs/prog_$1_link" \
		"$BPFD_RUNDIR/fs/maps/$1" 2>/dev/null
	ls "$BPFD_RUNDIR"/fs/tcx-*/ 2>/dev/null | grep -- "-$1\$"
}

# Load programs, damage the records of those with a mode, restart, check, unload.
damaged_round() {
	stop_daemon
	while read -r id kind mode pif; do
		f=$BPFD_RUNDIR/programs/$id
		[ -s "$f" ] || fail "no record $f"
		[ "$mode" = none ] && continue
		cp "$f" "$T_TMP/orig.$id"
		damage "$mode" "$f"
		cmp -s "$f" "$T_TMP/orig.$id" && fail "damage $mode did not change $f"
		[ "$mode" = flip ] && [ "$(cmp -l "$f" "$T_TMP/orig.$id" | wc -l)" != 1 ] &&
			fail "flip changed more than one byte"
		cp "$f" "$T_TMP/damaged.$id"
	done <"$T_TMP/progs"
	rm -f "$BPFD_SOCK"
	start_daemon
	progs_run
	ctl list >"$T_TMP/list" || fail "list"
	while read -r id kind mode pif; do
		grep -q "^ $id .*(record damaged)\$" "$T_TMP/list" && d=damaged || d=none
		case $mode in none) ;; *) [ $d = damaged ] ||
			fail "list does not show program $id ($kind, $mode) as damaged: $(cat "$T_TMP/list")"
			continue ;; esac
		[ $d = none ] || fail "list shows sound program $id as damaged"
	done <"$T_TMP/progs"
	while read -r id kind mode pif; do
		[ "$mode" = none ] && continue
		[ ! -e "$BPFD_RUNDIR/programs/$id" ] || fail "damaged record $id left in place"
		moved=$(ls "$BPFD_RUNDIR/programs/damaged/$id.damaged-"* 2>/dev/null)
		[ -n "$moved" ] && cmp -s "$moved" "$T_TMP/damaged.$id" ||
			fail "record $id ($mode) not moved aside intact: '$moved'"
		grep -q "the record of program $id .*is damaged" "$DAEMON_LOG" ||
			fail "the log does not say record $id was damaged"
		get "$id"
		grep -q "^ Record: *damaged (" "$T_TMP/get" ||
			fail "get $id does not show the damage: $(cat "$T_TMP/get")"
		case $kind in xdp|tc|tcx)
			[ "$(field "$T_TMP/get" Iface)" = "$pif" ] ||
				fail "get $id does not show the hook: $(cat "$T_TMP/get")" ;;
		esac
		ctl get "$id" -o json >"$T_TMP/json" || fail "get -o json $id"
		jq -e '.info.record_damaged | length > 0' "$T_TMP/json" >/dev/null ||
			fail "JSON of $id lacks record_damaged: $(cat "$T_TMP/json")"
		echo "  $kind $id ($mode): $(field "$T_TMP/get" Record)"
	done <"$T_TMP/progs"
	# unload the damaged ones: the sound ones keep running (on the same hook in the VM)
	while read -r id kind mode pif; do
		[ "$mode" = none ] && continue
		ctl unload "$id" || fail "unload $id ($kind, $mode)"
		[ -z "$(left_of "$id")" ] || fail "left of $id after unload: $(left_of "$id")"
		prog_gone "$id" || fail "program $id ($kind) still in the kernel after unload"
	done <"$T_TMP/progs"
	grep '^[0-9]* [a-z]* none ' "$T_TMP/progs" >"$T_TMP/progs.sound"
	mv "$T_TMP/progs.sound" "$T_TMP/progs"
	if [ -s "$T_TMP/progs" ]; then
		progs_run
		while read -r id kind mode pif; do
			ctl unload "$id" || fail "unload $id"
		done <"$T_TMP/progs"
	fi
	ctl list >"$T_TMP/list" || fail "list"
	grep -q '^ [0-9]' "$T_TMP/list" && fail "programs left: $(cat "$T_TMP/list")"
	ls -A "$BPFD_RUNDIR/programs" | grep -vxq damaged &&
		fail "files left in programs/: $(ls -A "$BPFD_RUNDIR/programs")"
	for f in $IFACES; do
		! ip link show "$f" | grep -q 'prog/xdp' || fail "XDP left on $f: $(ip link show "$f")"
		[ -z "$(tc filter show dev "$f" ingress 2>/dev/null)" ] ||
			fail "TC filters left on $f: $(tc filter show dev "$f" ingress)"
	done
	return 0
}

# records_setup N: a daemon of the test's own and N veths ($IFACES, the first is $IF).
records_setup() {
	prog_setup_private
	build_trig
	IFACES=
	for n in $(seq "$1"); do
		f=$(echo "rc$T_ID" | cut -c1-11)$n
		frames_veth "$f"
		IFACES="$IFACES $f"
	done
	IF=${IFACES# }
	IF=${IF%% *}
	: >"$T_TMP/progs"
}

# Host: each damage for tracepoint, uprobe and TCX, and for XDP and TC attached
# directly (the host kernel refuses freplace: one program per hook, so an interface
# per damage, all in one restart).
test_damaged_link_and_tcx() {
	[ "${BPFD_IN_VM:-0}" = 1 ] &&
		skip "tracepoint, uprobe and TCX records run on the host (bpfd logic; the VM kernel lacks TCX)"
	records_setup 4
	need_feature tracepoint
	need_feature uprobe
	need_feature tcx
	direct=
	have_feature xdp && have_feature tc && ! have_feature freplace && direct=1
	[ -n "$direct" ] || echo "  (XDP and TC attach through chains here: test_damaged_chains)"
	# shellcheck disable=SC2086
	set -- $IFACES
	for mode in $MODES; do
		load tracepoint "$mode"
		load uprobe "$mode"
		load tcx "$mode"
		if [ -n "$direct" ]; then
			load xdp "$mode" "$1"
			load tc "$mode" "$1"
		fi
		shift
	done
	load tracepoint none
	load tcx none
	damaged_round
}

# VM: one XDP and one TC dispatcher chain, each with a member per damage and a sound
# member on the same hook, all in one restart.
test_damaged_chains() {
	[ "${BPFD_IN_VM:-0}" = 1 ] ||
		skip "dispatcher chains need freplace, which the host kernel refuses: this runs in the VM"
	records_setup 1
	need_feature freplace
	for mode in $MODES none; do
		load xdp "$mode"
		load tc "$mode"
	done
	[ "$(attach_mode_of "$(head -n 1 "$T_TMP/progs" | cut -d' ' -f1)")" = dispatcher ] ||
		fail "not a dispatcher chain"
	damaged_round
}

attach_mode_of() {
	get "$1"
	field "$T_TMP/get" "Attach Mode"
}

# A full state file system: loads are refused with ENOSPC, nothing is left behind.
test_enospc() {
	[ "${BPFD_IN_VM:-0}" = 1 ] && skip "runs on the host (bpfd logic)"
	prog_checks
	need_feature tracepoint
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir -p "$T_TMP/run/programs" || fail "mkdir"
	mount -t tmpfs -o size=64k,mode=0700 bpfd-test "$T_TMP/run/programs" ||
		skip "cannot mount a tmpfs"
	on_exit "umount -l $T_TMP/run/programs"
	start_daemon
	DAEMON_LOG=$T_TMP/daemon.log
	IF=$(echo "re$T_ID" | cut -c1-12)
	frames_veth "$IF"
	dd if=/dev/zero of="$BPFD_RUNDIR/programs/filler" bs=4k 2>/dev/null
	[ "$(df --output=avail "$BPFD_RUNDIR/programs" | tail -n 1)" -eq 0 ] || fail "not full"
	OWN_IFACES=$IF	# the snapshot covers what is attached to it
	snapshot before
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/out" 2>&1 && fail "tracepoint load succeeded"
	grep -q "No space left on device (the file system is full: free space there" \
		"$T_TMP/out" || fail "tracepoint load: $(cat "$T_TMP/out")"
	echo "  tracepoint: $(cat "$T_TMP/out")"
	same_as before
	if have_feature xdp; then
		ctl load-from-file -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10 \
			>"$T_TMP/out" 2>&1 && fail "xdp load succeeded"
		grep -q "No space left on device (the file system is full" "$T_TMP/out" ||
			fail "xdp load: $(cat "$T_TMP/out")"
		echo "  xdp: $(cat "$T_TMP/out")"
		same_as before
		! ip link show "$IF" | grep -q 'prog/xdp' || fail "XDP program left on $IF"
	fi
	rm "$BPFD_RUNDIR/programs/filler"
	id=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	ctl unload "$id" || fail "unload $id"
}

run_tests records test_damaged_link_and_tcx test_damaged_chains test_enospc
