#!/bin/sh
# t_modify.sh - Modify / bpfctl modify: re-ordering chains in place while packets flow
# (XDP and TC dispatcher chains where the kernel allows freplace, i.e. in the VM; TCX
# where the kernel has it, i.e. on the host): every packet counted by every member,
# ids unchanged, the final order as asked; refused modifies change nothing; metadata;
# restart and a kill -9 between the kernel change and the record.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
NEXT=-1 XDP_PASS=2 TC_PIPE=3

# Python stubs for the batch client (one process for many calls: fast in the VM).
stubs() {
	export GRPC_STUBS="$T_TMP/stubs"
	mkdir -p "$GRPC_STUBS"
	protoc -I"$SRC/proto" --python_out="$GRPC_STUBS" --grpc_python_out="$GRPC_STUBS" \
		--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
		"$SRC/proto/bpfd.proto" || skip "protoc cannot generate the python stubs"
}

# The record file of program $1 (to compare before and after a refused modify).
record() {
	cat "$BPFD_RUNDIR/programs/$1" | od -An -tx1 | tr -d ' \n'
}

# chain_state ID...: priority, position, proceed-on and link/dispatcher of each, one line
chain_state() {
	ctl list -o json | jq -c '[.[] | [.kernel_info.id, .info.attach_mode,
		(.info.attach | to_entries[0].value)]] | sort'
}

# reorder_under_traffic LOADER N ID...: N re-orders (random new priorities, all distinct)
# of the programs while the peer pings IF; then every member counted every ping,
# the ids are the same and the order is the one the last priorities give.
reorder_under_traffic() {
	loader=$1 n=$2
	shift 2
	stubs
	ids="$*"
	for id in $ids; do eval "c0_$id=\$(pcount $id)"; done
	# a flood on the host (a packet every few microseconds: a gap in the chain
	# would be hit); in the emulated VM a steady 100/s
	rate="-f"
	[ -n "${BPFD_IN_VM:-}" ] && rate="-i 0.01"
	# shellcheck disable=SC2086
	ip netns exec "$NS" ping $rate -c 100000000 -q "$NET.1" >"$T_TMP/ping.bg" 2>&1 &
	pp=$!
	on_exit "kill $pp 2>/dev/null"
	sleep 0.5
	# the batch: step i moves member (i mod 5) to a fresh priority; 1000 + a random
	# permutation keeps them distinct
	awk -v n="$n" -v ids="$ids" 'BEGIN {
		srand(); k = split(ids, id, " ");
		for (i = 1; i <= n; i++) used[i] = 0;
		for (i = 0; i < n; i++) {
			do p = int(rand() * 100000) + 1000; while (p in seen);
			seen[p] = 1; m = id[i % k + 1];
			printf "Modify {\"id\": %s, \"priority\": %d}\n", m, p;
			last[m] = p;
		}
		for (m in last) print m, last[m] > "/dev/stderr";
	}' >"$T_TMP/batch" 2>"$T_TMP/last"
	"$PY" "$SRC/tests/grpc/client.py" "unix://$BPFD_SOCK" batch <"$T_TMP/batch" \
		>"$T_TMP/replies" 2>&1 || fail "batch client: $(tail -n 3 "$T_TMP/replies")"
	sleep 0.5
	kill -INT "$pp"
	wait "$pp"
	sleep 0.5
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T_TMP/ping.bg")
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || fail "no pings sent: $(cat "$T_TMP/ping.bg")"
	grep -q "^ERR" "$T_TMP/replies" && fail "a modify failed: $(grep -m1 ^ERR "$T_TMP/replies")"
	[ "$(grep -c '"id"' "$T_TMP/replies")" = "$n" ] ||
		fail "$(grep -c '"id"' "$T_TMP/replies") replies of $n: $(head -n 3 "$T_TMP/replies")"
	for id in $ids; do
		eval "c0=\$c0_$id"
		d=$(( $(pcount "$id") - c0 ))
		[ "$d" -ge "$sent" ] || fail "program $id ($loader) counted $d of $sent packets"
	done
	# ids unchanged: exactly these programs, each with its last priority, in the
	# order those priorities give (one List: every bpfctl call is slow in the VM)
	ctl list -o json >"$T_TMP/list.json" || fail "bpfctl list"
	got=$(jq -r '.[] | "\(.kernel_info.id) \(.info.attach | to_entries[0].value |
		"\(.priority) \(.position)")"' "$T_TMP/list.json" | sort -n)
	want=$(sort -k2,2n "$T_TMP/last" | awk '{ print $1, $2, NR - 1 }' | sort -n)
	[ "$got" = "$want" ] || fail "id priority position now:
$got
want:
$want"
	echo "$loader: $n re-orders, $sent packets, every member counted each" >&2
}

test_xdp_reorder_under_traffic() {
	chain_setup
	need_chains
	ids=
	for p in 10 20 30 40 50; do ids="$ids $(load_xdp $p $XDP_PASS chain_xdp)"; done
	# shellcheck disable=SC2086
	reorder_under_traffic xdp 100 $ids
	[ "$(xdp_dirs | wc -l)" = 1 ] || fail "pin dirs left behind: $(xdp_dirs)"
}

test_tcx_reorder_under_traffic() {
	chain_setup
	need_feature tcx
	ids=
	for p in 10 20 30 40 50; do ids="$ids $(load_tcx $p $NEXT)"; done
	# shellcheck disable=SC2086
	reorder_under_traffic tcx 100 $ids
	n=$(ls "$BPFD_RUNDIR/fs/tcx-ingress/" | grep -c "^link-$IFINDEX-")
	[ "$n" = 5 ] || fail "$n TCX pins: $(ls "$BPFD_RUNDIR/fs/tcx-ingress/")"
	ls "$BPFD_RUNDIR/fs/tcx-ingress/" | grep -q standin && fail "a stand-in pin is left"
	bpftool -j prog show | jq -e '[.[] | select(.name == "tcx_standin")] | length == 0' \
		>/dev/null || fail "a stand-in program is left in the kernel"
	return 0
}

# A few re-orders of a TC chain (each one a bpfctl call: slow in the VM).
test_tc_reorder() {
	chain_setup
	need_chains
	a=$(load_tc 10 $TC_PIPE)
	b=$(load_tc 20 $TC_PIPE)
	c=$(load_tc 30 $TC_PIPE)
	ctl modify "$a" -p 40 >"$T_TMP/out" || fail "modify: $(cat "$T_TMP/out")"
	grep -q "Position: *2" "$T_TMP/out" || fail "reply position: $(cat "$T_TMP/out")"
	want_order "$b" "$c" "$a"
	ctl modify "$c" -p 5 >/dev/null || fail "modify"
	want_order "$c" "$b" "$a"
	ctl modify "$b" --proceed-on pipe,ok -p 1 >/dev/null || fail "modify proceed-on"
	want_order "$b" "$c" "$a"
	[ "$(proceed_on "$b")" = "[0,3]" ] || fail "proceed-on $(proceed_on "$b")"
	n0=$(pcount "$a")
	ping_if 3 must
	[ "$(pcount "$a")" -ge $((n0 + 3)) ] || fail "last member does not count after the re-orders"
}

# bpfd logic, the same on every kernel: on the host (TCX), not in the emulated VM.
host_only() {
	[ "${BPFD_IN_VM:-0}" = 1 ] &&
		skip "bpfd logic the host covers with TCX (the VM's time goes to the chains)"
	return 0
}

# Refused modifies change nothing: kernel, records, order.
test_refused_changes_nothing() {
	host_only
	chain_setup
	if have_feature tcx; then
		a=$(load_tcx 10 $NEXT)
		b=$(load_tcx 20 $NEXT)
	elif have_feature freplace; then
		a=$(load_xdp 10 $XDP_PASS chain_xdp)
		b=$(load_xdp 20 $XDP_PASS chain_xdp)
	else
		skip "neither TCX nor freplace: no chain to modify"
	fi
	s0=$(chain_state) ra=$(record "$a")
	ctl modify "$a" -p -5 >"$T_TMP/out" 2>&1 && fail "negative priority accepted"
	grep -q "negative" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	ctl modify 4000000000 -p 5 >"$T_TMP/out" 2>&1 && fail "unknown id accepted"
	grep -q "no program 4000000000" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	# the same words when bpfctl needs to learn the kind first (--proceed-on names)
	ctl modify 4000000000 --proceed-on pass >"$T_TMP/out2" 2>&1 && fail "unknown id accepted"
	cmp -s "$T_TMP/out" "$T_TMP/out2" || fail "two wordings: $(cat "$T_TMP/out" "$T_TMP/out2")"
	ctl modify "$a" -m "=x" >"$T_TMP/out" 2>&1 && fail "empty key accepted"
	ctl modify "$a" >"$T_TMP/out" 2>&1 && fail "nothing to modify accepted"
	grep -q "nothing to modify" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	if have_feature tcx; then
		ctl modify "$a" --proceed-on pass -p 30 >"$T_TMP/out" 2>&1 &&
			fail "proceed-on on tcx accepted"
		grep -q "TCX has no proceed-on" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	fi
	[ "$(chain_state)" = "$s0" ] || fail "chain changed: $s0 -> $(chain_state)"
	[ "$(record "$a")" = "$ra" ] || fail "record of $a changed"
	want_order "$a" "$b"
	# the hook gone behind bpfd's back (interface deleted): refused with the reason
	ip link del dev "$IF" || fail "ip link del"
	ctl modify "$a" -p 50 >"$T_TMP/out" 2>&1 && fail "modify of a vanished program accepted"
	grep -q "no longer on its" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	[ "$(record "$a")" = "$ra" ] || fail "record of $a changed"
}

# Where the kernel refuses freplace (the host), XDP programs are attached directly:
# proceed-on is refused with the reason, a priority is recorded.
test_direct_proceed_on_refused() {
	chain_setup
	have_feature freplace && skip "chains work here (covered by the chain tests)"
	a=$(load_xdp 10 $XDP_PASS chain_xdp)
	[ "$(attach_mode "$a")" = direct ] || fail "attach mode $(attach_mode "$a")"
	ra=$(record "$a")
	ctl modify "$a" --proceed-on drop >"$T_TMP/out" 2>&1 && fail "proceed-on accepted"
	grep -q "attached directly" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
	grep -q "freplace" "$T_TMP/out" || fail "no reason: $(cat "$T_TMP/out")"
	[ "$(record "$a")" = "$ra" ] || fail "record changed"
	ctl modify "$a" -p 7 >/dev/null || fail "priority refused"
	ctl get -o json "$a" | jq -e '.info.attach.xdp_attach_info.priority == 7' >/dev/null ||
		fail "priority not recorded: $(ctl get "$a")"
}

# Metadata: set, replace, remove; no kernel work; kept across a restart.
test_metadata_and_restart() {
	host_only
	chain_setup
	if have_feature tcx; then
		a=$(load_tcx 10 $NEXT -m keep=1)
		b=$(load_tcx 20 $NEXT)
	elif have_feature freplace; then
		a=$(load_xdp 10 $XDP_PASS chain_xdp -m keep=1)
		b=$(load_xdp 20 $XDP_PASS chain_xdp)
	else
		skip "neither TCX nor freplace: no chain to modify"
	fi
	s0=$(chain_state)
	ctl modify "$a" -m owner=alice -m "tier=gold,keep=2" -o json >"$T_TMP/out" ||
		fail "modify: $(cat "$T_TMP/out")"
	jq -e '.info.metadata == {"keep": "2", "owner": "alice", "tier": "gold"}' "$T_TMP/out" \
		>/dev/null || fail "reply metadata: $(jq -c .info.metadata "$T_TMP/out")"
	[ "$(chain_state)" = "$s0" ] || fail "metadata changed the chain: $s0 -> $(chain_state)"
	ctl modify "$a" -m tier= >/dev/null || fail "remove"
	ctl modify "$b" -p 5 >/dev/null || fail "priority"
	want_order "$b" "$a"
	chain_restart
	ctl get -o json "$a" | jq -e '.info.metadata == {"keep": "2", "owner": "alice"}' \
		>/dev/null || fail "after restart: $(ctl get -o json "$a" | jq -c .info.metadata)"
	want_order "$b" "$a"
	[ "$(ctl get -o json "$b" | jq -r '.info.attach | to_entries[0].value.priority')" = 5 ] ||
		fail "priority after restart: $(ctl get "$b")"
	[ "$(ctl list -o json | jq -c '[.[] | .info.metadata] | map(select(. == {"keep": "2", "owner": "alice"})) | length')" = 1 ] ||
		fail "list -m: $(ctl list)"
	ctl list -m owner=alice -o json | jq -e "length == 1 and .[0].kernel_info.id == $a" \
		>/dev/null || fail "list -m owner=alice: $(ctl list -m owner=alice)"
}

# kill -9 after the hook changed and before the record was written: the restart
# records what the hook shows (the pending-modify marker), the order stays.
test_kill_between_hook_and_record() {
	chain_setup
	if have_feature tcx; then
		load() { load_tcx "$1" $NEXT; }
	elif have_feature freplace; then
		load() { load_xdp "$1" $XDP_PASS chain_xdp; }
	else
		skip "neither TCX nor freplace: no chain to modify"
	fi
	a=$(load 10)
	b=$(load 20)
	stop_daemon
	rm -f "$BPFD_SOCK"
	export BPFD_TEST_PAUSE_MODIFY=30
	start_daemon
	unset BPFD_TEST_PAUSE_MODIFY
	ctl modify "$a" -p 30 >/dev/null 2>&1 &
	i=0
	until grep -q "BPFD_TEST_PAUSE_MODIFY" "$T_TMP/daemon.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the modify did not reach the pause: $(tail -n 5 "$T_TMP/daemon.log")"
		sleep 0.1
	done
	ls -A "$BPFD_RUNDIR/programs" | grep -q "^.modify-$a$" || fail "no marker: $(ls -A "$BPFD_RUNDIR/programs")"
	kill -9 "$BPFD_PID"
	wait "$BPFD_PID" 2>/dev/null
	rm -f "$BPFD_SOCK"
	start_daemon
	want_order "$b" "$a"
	[ "$(ctl get -o json "$a" | jq -r '.info.attach | to_entries[0].value.priority')" = 30 ] ||
		fail "priority after the crash: $(ctl get "$a")"
	ls -A "$BPFD_RUNDIR/programs" | grep -q "^.modify-" && fail "marker left behind"
	return 0
}

run_tests modify test_xdp_reorder_under_traffic test_tcx_reorder_under_traffic \
	test_tc_reorder test_refused_changes_nothing test_direct_proceed_on_refused \
	test_metadata_and_restart test_kill_between_hook_and_record
