#!/bin/sh
# t_events.sh - the event stream (Events, `bpfctl events`) and live truth: the daemon
# follows the kernel through netlink notifications.  An interface carrying bpfd's
# XDP, TC and TCX programs deleted, renamed or moved to another namespace, a tc
# filter deleted under bpfd, xdp-loader joining bpfd's XDP chain: the event arrives
# and list/get are right at once (no sleep between the event and the check).  bpfd's
# own chain changes make no chain events.  Two readers, one never reading: the
# daemon keeps serving the other and drops the slow one with a message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
grpc_stubs

# start_reader NAME: `bpfctl events -o json` in the background, into $T_TMP/NAME.ev;
# returns once the daemon says it attached (an event before that is not its: under
# the sanitizers bpfctl starts slowly, and a load right after it was missed)
start_reader() {
	_had=$(grep -c 'Event reader .* attached' "$T_TMP/daemon.log")
	ctl events -o json >"$T_TMP/$1.ev" 2>"$T_TMP/$1.err" &
	echo $! >"$T_TMP/$1.pid"
	on_exit "kill $! 2>/dev/null"
	_n=0
	until [ "$(grep -c 'Event reader .* attached' "$T_TMP/daemon.log")" -gt "$_had" ]; do
		_n=$((_n + 1))
		[ $_n -gt 1200 ] && fail "reader $1 never attached: $(cat "$T_TMP/$1.err")"
		sleep 0.05
	done
}

# wait_event NAME JQ-CONDITION: until reader NAME printed an event matching it
wait_event() {
	_n=0 _lim=200
	[ "${BPFD_IN_VM:-0}" = 1 ] && _lim=1200
	until jq -c "select($2)" "$T_TMP/$1.ev" 2>/dev/null | grep -q .; do
		_n=$((_n + 1))
		[ $_n -gt $_lim ] && fail "reader $1: no event with $2 in time: $(cat "$T_TMP/$1.ev" "$T_TMP/$1.err")"
		sleep 0.05
	done
}

# wait_readers N: the daemon says N readers are attached
wait_readers() {
	_n=0
	until grep -q "Event reader .* attached ($1 now)" "$T_TMP/daemon.log"; do
		_n=$((_n + 1))
		[ $_n -gt 1200 ] && fail "$1 readers never attached: $(grep -i 'event reader' "$T_TMP/daemon.log")"
		sleep 0.05
	done
}

# no pins of $IF's hooks left in the daemon's bpffs or libxdp's
no_pins_left() {
	_left=$(ls -d /sys/fs/bpf/xdp/dispatch-"$IFINDEX"-* "$BPFD_RUNDIR"/fs/tc-*/dispatch-"$IFINDEX"-* \
		"$BPFD_RUNDIR"/fs/tcx-*/link-"$IFINDEX"-* 2>/dev/null)
	[ -z "$_left" ] || fail "pins left: $_left"
}

# no_event NAME JQ-CONDITION
no_event() {
	! jq -c "select($2)" "$T_TMP/$1.ev" 2>/dev/null | grep -q . ||
		fail "reader $1: unexpected event $2: $(jq -c "select($2)" "$T_TMP/$1.ev")"
}

# A program bpfd keeps (pinned: a dispatcher member, a TCX link) must show as
# vanished with the reason; one the hook alone held (attached directly) is freed
# by the kernel: the event says so and list/get no longer show it.  $1 id, $2 reader.
check_vanished() {
	ctl list -o json >"$T_TMP/list.json" || fail "bpfctl list"
	if jq -c "select(.kind == \"program_vanished\" and .id == $1)" "$T_TMP/$2.ev" |
		grep -q "freed"; then
		jq -e --argjson id "$1" 'map(select(.kernel_info.id == $id)) | length == 0' \
			"$T_TMP/list.json" >/dev/null || fail "freed program $1 still listed"
		! ctl get "$1" >/dev/null 2>&1 || fail "get shows freed program $1"
		return 0
	fi
	jq -e --argjson id "$1" '.[] | select(.kernel_info.id == $id) |
		.info.attach_mode == "vanished" and (.kernel_info.vanished | length > 0)' \
		"$T_TMP/list.json" >/dev/null ||
		fail "program $1 not shown as vanished: $(jq -c --argjson id "$1" \
			'.[] | select(.kernel_info.id == $id) | [.info.attach_mode, .kernel_info.vanished]' \
			"$T_TMP/list.json")"
	ctl get "$1" | grep -q "Vanished:" || fail "get $1 does not say it vanished: $(ctl get "$1")"
}

test_stream_load_unload() {
	chain_setup
	start_reader a
	"$PY" "$SRC/tests/grpc/events.py" "$BPFD_SOCK" grpcio 2 >"$T_TMP/py.ev" 2>&1 &
	pypid=$!
	on_exit "kill $pypid 2>/dev/null"
	ctl events -n 2 >"$T_TMP/text.ev" 2>&1 &
	tpid=$!
	wait_readers 3
	id=$(load_xdp 10 2 chain_xdp)
	wait_event a ".kind == \"load\" and .id == $id and .attach_point == \"xdp $IF\""
	ctl unload "$id" || fail "unload"
	wait_event a ".kind == \"unload\" and .id == $id"
	jq -e -s '.[0].seq < .[1].seq and (.[0].caller | test("^uid=0"))' \
		"$T_TMP/a.ev" >/dev/null || fail "seq or caller wrong: $(cat "$T_TMP/a.ev")"
	wait "$pypid" || fail "grpcio reader: $(cat "$T_TMP/py.ev")"
	jq -e -s --arg id "$id" '.[0].kind == "load" and .[0].id == ($id | tonumber) and
		.[1].kind == "unload"' "$T_TMP/py.ev" >/dev/null ||
		fail "grpcio reader got: $(cat "$T_TMP/py.ev")"
	wait "$tpid" || fail "bpfctl events -n 2: $(cat "$T_TMP/text.ev")"
	grep -q "load id=$id \[xdp $IF\] by uid=0" "$T_TMP/text.ev" &&
		grep -q "unload id=$id" "$T_TMP/text.ev" || fail "text output: $(cat "$T_TMP/text.ev")"
}

test_interface_deleted() {
	chain_setup
	start_reader a
	x=$(load_xdp 10 2 chain_xdp)
	wait_event a ".kind == \"load\" and .id == $x"
	t=$(load_tc 10 0)
	ids="$x $t"
	if have_feature tcx; then
		c=$(load_tcx 10 0)
		ids="$ids $c"
	fi
	ip link del "$IF" || fail "ip link del"
	wait_event a ".kind == \"interface_gone\" and .attach_point == \"interface $IF\""
	for id in $ids; do
		wait_event a ".kind == \"program_vanished\" and .id == $id"
		check_vanished "$id" a
	done
	for id in $ids; do
		if ctl get "$id" >/dev/null 2>&1; then
			ctl unload "$id" || fail "unload of vanished $id"
		fi
	done
	[ "$(ctl list -o json | jq length)" = 0 ] || fail "records left: $(ctl list)"
	no_pins_left
}

test_tc_filter_deleted() {
	chain_setup
	start_reader a
	t=$(load_tc 10 0)
	wait_event a ".kind == \"load\" and .id == $t"
	no_event a '.kind == "program_vanished"'
	tc filter del dev "$IF" ingress || fail "tc filter del"
	wait_event a ".kind == \"program_vanished\" and .id == $t"
	jq -c "select(.kind == \"program_vanished\")" "$T_TMP/a.ev" | grep -q "behind bpfd's back" ||
		fail "reason: $(cat "$T_TMP/a.ev")"
	check_vanished "$t" a
	if ctl get "$t" >/dev/null 2>&1; then
		ctl unload "$t" || fail "unload"
	fi
	no_pins_left
}

test_interface_renamed() {
	chain_setup
	start_reader a
	x=$(load_xdp 10 2 chain_xdp)
	wait_event a ".kind == \"load\" and .id == $x"
	new="r$(printf '%.14s' "$IF" | cut -c2-)"
	ip link set "$IF" down && ip link set "$IF" name "$new" || fail "rename"
	on_exit "ip link del $new"
	ip link set "$new" up
	wait_event a ".kind == \"interface_renamed\" and .attach_point == \"interface $new\""
	ctl get -o json "$x" >"$T_TMP/get.json" || fail "get"
	jq -e --arg n "$new" '.info.attach.xdp_attach_info.iface == $n and
		.info.attach_mode != "vanished"' "$T_TMP/get.json" >/dev/null ||
		fail "get after rename: $(jq -c '.info | [.attach, .attach_mode]' "$T_TMP/get.json")"
	no_event a '.kind == "program_vanished"'
	ctl unload "$x" || fail "unload"
	wait_event a ".kind == \"unload\" and .attach_point == \"xdp $new\""
}

test_interface_moved() {
	chain_setup
	start_reader a
	x=$(load_xdp 10 2 chain_xdp)
	wait_event a ".kind == \"load\" and .id == $x"
	ip netns add "m$NS" || fail "netns"
	on_exit "ip netns del m$NS"
	ip link set "$IF" netns "m$NS" || fail "ip link set netns"
	wait_event a ".kind == \"interface_moved\" and .attach_point == \"interface $IF\""
	wait_event a ".kind == \"program_vanished\" and .id == $x"
	jq -c "select(.kind == \"program_vanished\")" "$T_TMP/a.ev" |
		grep -q "moved to another network namespace" || fail "reason: $(cat "$T_TMP/a.ev")"
	check_vanished "$x" a
	ctl unload "$x" || fail "unload of the moved program"
	no_pins_left
}

# bpfd's own chain swaps (the notifications they cause) are not foreign changes
test_own_changes_quiet() {
	chain_setup
	start_reader a
	if have_feature freplace; then
		a=$(load_xdp 20 2 chain_xdp)
		b=$(load_xdp 10 2 chain_xdp_a)
		c=$(load_xdp 30 2 chain_xdp)
		# and a TC dispatcher (its filter replaced at each change)
		t1=$(load_tc 20 0)
		t2=$(load_tc 10 0)
		ctl unload "$t1" || fail "unload tc"
		wait_event a ".kind == \"unload\" and .id == $t1"
		ctl unload "$t2" || fail "unload tc"
	elif have_feature tcx; then
		a=$(load_tcx 20 0)
		b=$(load_tcx 10 0)
		c=$(load_tcx 30 0)
	else
		skip "the kernel has neither freplace nor TCX: no chain of several programs"
	fi
	ctl unload "$a" || fail "unload"
	wait_event a ".kind == \"unload\" and .id == $a"
	sleep 0.5	# the notifications of the last swap
	want_order "$b" "$c"
	no_event a '.kind | startswith("chain_")'
	no_event a '.kind == "program_vanished"'
	ctl unload "$b" && ctl unload "$c" || fail "unload"
}

# A modify makes a "modify" event, and "chain_reordered" when the order changed.
test_modify_events() {
	chain_setup
	start_reader a
	if have_feature freplace; then
		a=$(load_xdp 10 2 chain_xdp)
		b=$(load_xdp 20 2 chain_xdp_a)
	elif have_feature tcx; then
		a=$(load_tcx 10 0)
		b=$(load_tcx 20 0)
	else
		skip "the kernel has neither freplace nor TCX: no chain of several programs"
	fi
	ctl modify "$a" --priority 30 >/dev/null || fail "modify $a"
	wait_event a ".kind == \"modify\" and .id == $a and (.detail | contains(\"10 -> 30\"))"
	wait_event a '.kind == "chain_reordered"'
	want_order "$b" "$a"
	ctl modify "$b" -m owner=ops >/dev/null || fail "modify metadata"
	wait_event a ".kind == \"modify\" and .id == $b and (.detail | contains(\"metadata\"))"
	ctl unload "$a" && ctl unload "$b" || fail "unload"
}

test_xdp_loader_joins() {
	chain_setup
	need_chains
	command -v xdp-loader >/dev/null || skip "xdp-loader (xdp-tools) is not installed"
	start_reader a
	a=$(load_xdp 20 2 chain_xdp)
	b=$(load_xdp 40 2 chain_xdp_a)
	wait_event a ".kind == \"load\" and .id == $b"
	xdp-loader load -m native -P 30 -n chain_xdp_b "$IF" "$XDP_OBJ" >"$T_TMP/ld" 2>&1 ||
		fail "xdp-loader load: $(cat "$T_TMP/ld")"
	f=$(xdp-loader status "$IF" | awk '$1 == "=>" && $3 == "chain_xdp_b" { print $4 }')
	[ -n "$f" ] || fail "xdp-loader status lacks its program"
	wait_event a ".kind == \"chain_joined\" and .id == $f and .attach_point == \"xdp $IF\""
	[ "$(position "$a")" = 0 ] && [ "$(position "$b")" = 2 ] ||
		fail "positions $(position "$a") $(position "$b"), want 0 2"
	no_event a ".kind == \"program_vanished\""
	xdp-loader unload -i "$f" "$IF" >"$T_TMP/ul" 2>&1 || fail "xdp-loader unload: $(cat "$T_TMP/ul")"
	wait_event a ".kind == \"chain_left\" and .id == $f"
	[ "$(position "$b")" = 1 ] || fail "position of $b after xdp-loader unload: $(position "$b")"
	ctl unload "$a" && ctl unload "$b" || fail "unload"
}

# [monitor] event_queue = 8: a reader that reads nothing (a stream window of 0, its
# socket never read) is dropped after 8 waiting events; the other gets every event
# and the daemon answers calls meanwhile
test_slow_reader_dropped() {
	printf '[monitor]\nevent_queue = 8\n' >"$BASE_TMP/slow.toml"
	chain_setup --config "$BASE_TMP/slow.toml"
	timeout 60 "$PY" "$SRC/tests/grpc/events.py" "$BPFD_SOCK" never-read "$T_TMP/ready" \
		"$T_TMP/go" >"$T_TMP/slow.out" 2>&1 &
	spid=$!
	on_exit "kill $spid 2>/dev/null"
	_n=0
	until [ -e "$T_TMP/ready" ]; do
		_n=$((_n + 1))
		[ $_n -gt 600 ] && fail "the never-reading client did not start: $(cat "$T_TMP/slow.out")"
		sleep 0.05
	done
	start_reader fast
	wait_readers 2
	for i in 1 2 3 4 5 6 7 8; do
		id=$(load_xdp 10 2 chain_xdp)
		ctl unload "$id" || fail "unload $id"
	done
	wait_event fast ".kind == \"unload\" and .id == $id"
	[ "$(jq -s 'length' "$T_TMP/fast.ev")" = 16 ] ||
		fail "the reading reader got $(jq -s length "$T_TMP/fast.ev") events, want 16"
	jq -e -s '[.[].seq] as $s | $s == [range($s[0]; $s[0] + 16)]' "$T_TMP/fast.ev" >/dev/null ||
		fail "events missing or out of order: $(jq -c -s '[.[].seq]' "$T_TMP/fast.ev")"
	grep -q "Dropping event reader .*: 9 events waited for it (event_queue 8)" "$T_TMP/daemon.log" ||
		fail "no drop in the log: $(grep -i 'event reader' "$T_TMP/daemon.log")"
	ctl list >/dev/null || fail "the daemon does not answer"
	touch "$T_TMP/go"
	wait "$spid" || fail "the never-reading client: $(cat "$T_TMP/slow.out")"
	grep -q "^status=8 message=event reader too slow: 9 events dropped" "$T_TMP/slow.out" ||
		fail "the slow reader was told: $(cat "$T_TMP/slow.out")"
	kill -0 "$(cat "$T_TMP/fast.pid")" || fail "the reading reader was dropped too"
}

test_readers_limit() {
	printf '[monitor]\nevent_readers = 1\n' >"$BASE_TMP/lim.toml"
	chain_setup --config "$BASE_TMP/lim.toml"
	start_reader a
	x=$(load_xdp 10 2 chain_xdp)
	wait_event a ".kind == \"load\" and .id == $x"
	if ctl events -n 1 >"$T_TMP/second" 2>&1; then
		fail "a second reader was served: $(cat "$T_TMP/second")"
	fi
	grep -q "1 event readers are attached already, the limit (\[monitor\] event_readers)" \
		"$T_TMP/second" || fail "message: $(cat "$T_TMP/second")"
	ctl unload "$x" || fail "unload"
}

run_tests events test_stream_load_unload test_interface_deleted test_tc_filter_deleted \
	test_interface_renamed test_interface_moved test_own_changes_quiet test_modify_events \
	test_xdp_loader_joins test_slow_reader_dropped test_readers_limit
