#!/bin/sh
# t_xdp_chain.sh - XDP programs through the daemon: dispatcher chains ordered by
# priority on real traffic (ping through a veth pair), the original's demo, unload of
# the middle program (#791), the 10-program limit, restart, crash residue, concurrent
# clients, and without freplace the direct attach with FAILED_PRECONDITION for a
# second program; no template dispatcher kept, the Load reply's kind.  Chain tests skip when the probe says the kernel refuses freplace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

test_three_priorities_ping() {
	chain_setup
	need_chains
	b=$(load_xdp 100 2 chain_xdp)
	c=$(load_xdp 200 2 chain_xdp)
	a=$(load_xdp 50 2 chain_xdp)
	want_order "$a" "$b" "$c"
	[ "$(attach_mode "$a")" = dispatcher ] || fail "attach mode $(attach_mode "$a")"
	ping_if 5 must
	for p in $a $b $c; do
		n=$(pcount "$p")
		[ "$n" -ge 5 ] || fail "program $p counted $n packets, want >= 5"
	done
	[ "$(xdp_dirs | wc -l)" = 1 ] || fail "pin dirs: $(xdp_dirs)"
	for p in $b $a $c; do ctl unload "$p" || fail "unload $p"; done
	[ -z "$(xdp_dirs)" ] || fail "pins left: $(xdp_dirs)"
	ip link show dev "$IF" | grep -q xdp && fail "XDP still attached"
	return 0
}

# A counter at 55 counts until a program that returns pass but proceeds only on drop
# goes in front at 50; loaded again at 60, the counter runs first and counts again.
test_demo_proceed_on() {
	chain_setup
	need_chains
	cnt=$(load_xdp 55 2 chain_xdp)
	ping_if 3 must
	n0=$(pcount "$cnt")
	[ "$n0" -ge 3 ] || fail "counter counted $n0"
	stop=$(load_xdp 50 2 chain_xdp_a --proceed-on drop)
	[ "$(proceed_on "$stop")" = "[1]" ] || fail "proceed-on $(proceed_on "$stop")"
	n1=$(pcount "$cnt")
	ping_if 3 must
	n2=$(pcount "$cnt")
	[ "$n2" = "$n1" ] || fail "counter went on from $n1 to $n2 behind the stop at 50"
	[ "$(pcount "$stop")" -ge 3 ] || fail "the program at 50 saw nothing"
	ctl unload "$stop" || fail "unload"
	stop=$(load_xdp 60 2 chain_xdp_a --proceed-on drop)
	want_pos "$cnt" 0
	ping_if 3 must
	n3=$(pcount "$cnt")
	[ "$n3" -ge $((n2 + 3)) ] || fail "counting did not resume: $n2 -> $n3"
}

# Unloading the middle program keeps every other member's proceed-on (bpfd bug #791).
test_unload_middle_keeps_proceed_on() {
	chain_setup
	need_chains
	a=$(load_xdp 10 2 chain_xdp --proceed-on pass --proceed-on drop)
	b=$(load_xdp 20 2 chain_xdp --proceed-on tx)
	c=$(load_xdp 30 2 chain_xdp --proceed-on pass,redirect,dispatcher_return)
	ctl unload "$b" || fail "unload the middle"
	[ "$(proceed_on "$a" | jq -c sort)" = "[1,2]" ] || fail "first: $(proceed_on "$a")"
	[ "$(proceed_on "$c" | jq -c sort)" = "[2,4,31]" ] || fail "last: $(proceed_on "$c")"
	want_order "$a" "$c"
	chain_restart
	[ "$(proceed_on "$c" | jq -c sort)" = "[2,4,31]" ] ||
		fail "last after restart: $(proceed_on "$c")"
	want_pos "$c" 1
	ping_if 2 must
	[ "$(pcount "$c")" -ge 2 ] || fail "last member does not run"
}

test_eleventh_program_refused() {
	chain_setup
	need_chains
	for i in 1 2 3 4 5 6 7 8 9 10; do
		load_xdp $((100 + i)) 2 chain_xdp >/dev/null
	done
	if ctl load-from-file -p "$XDP_OBJ" -n chain_xdp xdp -i "$IF" -p 5 >"$T_TMP/out" 2>&1; then
		fail "11th program loaded"
	fi
	grep -q "$IF" "$T_TMP/out" || fail "message does not name the interface: $(cat "$T_TMP/out")"
	grep -q "10 programs" "$T_TMP/out" || fail "message does not name the limit: $(cat "$T_TMP/out")"
	grep -qi "resource.exhausted\|RESOURCE_EXHAUSTED" "$T_TMP/out" ||
		echo "  (status not in the message: $(cat "$T_TMP/out"))"
	[ "$(ctl list -p xdp -o json | jq length)" = 10 ] || fail "not 10 programs left"
	ping_if 1 must
}

# Dispatcher and members survive a daemon restart; the next change still works.
test_restart_keeps_chain() {
	chain_setup
	need_chains
	a=$(load_xdp 10 2 chain_xdp)
	b=$(load_xdp 30 2 chain_xdp)
	disp=$(bpftool -j net show dev "$IF" | jq -r '.[0].xdp[0].id')
	stop_daemon
	ip link show dev "$IF" | grep -q xdp || fail "XDP gone with the daemon"
	rm -f "$BPFD_SOCK"
	start_daemon
	c=$(load_xdp 20 2 chain_xdp)
	want_order "$a" "$c" "$b"
	[ "$(bpftool -j net show dev "$IF" | jq -r '.[0].xdp[0].id')" != "$disp" ] ||
		fail "dispatcher not rebuilt"
	ping_if 2 must
	[ "$(pcount "$b")" -ge 2 ] || fail "last member does not run after restart"
}

# A daemon killed between building a dispatcher and swapping it leaves a pin directory
# of a dispatcher that is not attached: the old chain keeps working and the next start
# removes the residue (simulated: a dispatcher pinned by hand, never attached).
test_crash_residue_cleaned() {
	chain_setup
	need_chains
	a=$(load_xdp 10 2 chain_xdp)
	kill -9 "$BPFD_PID"
	wait "$BPFD_PID" 2>/dev/null
	live=$(xdp_dirs)
	# (bpftool would mount a bpffs over a pin path outside one)
	tmpin=/sys/fs/bpf/xdp/bpfd-test-$T_ID
	bpftool prog load "$BPFD_TESTBPF/chain_xdp.bpf.o" "$tmpin" type xdp ||
		fail "bpftool prog load"
	fake_id=$(bpftool -j prog show pinned "$tmpin" | jq -r .id)
	fake="/sys/fs/bpf/xdp/dispatch-$IFINDEX-$fake_id"
	on_exit "rm -rf $fake $tmpin"
	mkdir "$fake"
	mv "$tmpin" "$fake/prog0-prog" || fail "cannot move the pin"
	ping_if 2 must
	rm -f "$BPFD_SOCK"
	start_daemon
	[ "$(xdp_dirs)" = "$live" ] || fail "residue left: $(xdp_dirs), live $live"
	grep -q "dispatch-$IFINDEX-$fake_id" "$T_TMP/daemon.log" ||
		fail "daemon did not report the cleanup: $(cat "$T_TMP/daemon.log")"
	want_pos "$a" 0
	ping_if 2 must
}

# 8 clients load and unload on one interface at once: the end state is exact.
test_concurrent_clients() {
	chain_setup
	need_chains
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		(
			x=$(load_xdp $((100 + i)) 2 chain_xdp) || exit 1
			ctl unload "$x" || exit 1
			load_xdp $((200 + i)) 2 chain_xdp >"$T_TMP/c$i" || exit 1
		) 2>"$T_TMP/c$i.err" &
		pids="$pids $!"
	done
	failed=0
	for p in $pids; do wait "$p" || failed=1; done
	[ $failed = 0 ] || fail "a client failed: $(cat "$T_TMP"/c*.err)"
	want_order $(cat "$T_TMP"/c1 "$T_TMP"/c2 "$T_TMP"/c3 "$T_TMP"/c4 "$T_TMP"/c5 \
		"$T_TMP"/c6 "$T_TMP"/c7 "$T_TMP"/c8)
	[ "$(xdp_dirs | wc -l)" = 1 ] || fail "pin dirs: $(xdp_dirs)"
	[ "$(ls "/sys/fs/bpf/xdp/$(basename "$(xdp_dirs)")" | wc -l)" = 16 ] ||
		fail "pins: $(ls "$(xdp_dirs)")"
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		ctl unload "$(cat "$T_TMP/c$i")" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fail "an unload failed"; done
	[ -z "$(xdp_dirs)" ] || fail "pins left: $(xdp_dirs)"
}

# Without freplace (the host): the first program attaches directly, a second one
# gets FAILED_PRECONDITION saying why.
test_no_freplace_fallback() {
	chain_setup
	have_feature freplace && skip "the kernel allows freplace: the fallback is covered by test_chain_kernel xdp_direct_fallback"
	a=$(load_xdp 50 2 chain_xdp)
	[ "$(attach_mode "$a")" = direct ] || fail "attach mode $(attach_mode "$a")"
	[ "$(bpftool -j net show dev "$IF" | jq -r '.[0].xdp[0].id')" = "$a" ] ||
		fail "program not attached directly"
	if ctl load-from-file -p "$XDP_OBJ" -n chain_xdp xdp -i "$IF" -p 60 >"$T_TMP/out" 2>&1; then
		fail "second program loaded"
	fi
	grep -q "freplace" "$T_TMP/out" || fail "message does not say why: $(cat "$T_TMP/out")"
	grep -q "Unload program $a" "$T_TMP/out" || fail "message gives no way out: $(cat "$T_TMP/out")"
	ping_if 2 must
	[ "$(pcount "$a")" -ge 2 ] || fail "direct program does not run"
	ctl unload "$a" || fail "unload"
	ip link show dev "$IF" | grep -q xdp && fail "XDP still attached"
	return 0
}

# Program fds the daemon holds open (prog ids, one a line).
held_progs() {
	for fd in /proc/"$BPFD_PID"/fd/*; do
		[ "$(readlink "$fd")" = anon_inode:bpf-prog ] &&
			awk '$1 == "prog_id:" {print $2}' "/proc/$BPFD_PID/fdinfo/${fd##*/}"
	done
	return 0
}

# The load-target dispatcher members are loaded against is not kept: the daemon holds
# no program open after its start or after chain loads, so `list -a` cannot show an
# unattached dispatcher of bpfd's as a program bpfd "did not load".
test_no_template_kept() {
	chain_setup
	[ -z "$(held_progs)" ] || fail "the daemon holds programs after start: $(held_progs)"
	have_feature freplace || return 0
	a=$(load_xdp 10 2 chain_xdp)
	b=$(load_tc 10 3)
	[ -z "$(held_progs)" ] || fail "the daemon holds programs after loads: $(held_progs)"
	ctl unload "$a" && ctl unload "$b" || fail "unload"
}

# The Load reply reports the managed kind, as get and list do: a dispatcher member is
# EXT in the kernel but xdp (6) for bpfctl.
test_load_reply_kind() {
	chain_setup
	need_chains
	ctl load-from-file -o json -p "$XDP_OBJ" -n chain_xdp xdp -i "$IF" -p 10 \
		>"$T_TMP/load.json" || fail "load: $(cat "$T_TMP/load.json")"
	a=$(jq -r .kernel_info.id "$T_TMP/load.json")
	[ "$(jq -r .kernel_info.type "$T_TMP/load.json")" = xdp ] ||
		fail "load reply type: $(jq -c .kernel_info "$T_TMP/load.json")"
	[ "$(jq -r .kernel_info.program_type "$T_TMP/load.json")" = 6 ] || fail "load reply program_type"
	[ "$(ctl get -o json "$a" | jq -r .kernel_info.type)" = xdp ] || fail "get type"
	[ "$(bpftool -j prog show id "$a" | jq -r .type)" = ext ] || fail "not a dispatcher member"
	ctl unload "$a" || fail "unload"
}

# Without freplace a program is attached directly, where proceed-on cannot apply: asked
# for, it is refused with the reason, and nothing is loaded or stored.
test_no_freplace_proceed_on_refused() {
	chain_setup
	have_feature freplace && skip "the kernel allows freplace: covered by test_chain_kernel xdp_direct_fallback"
	direct_proceed_on_refused "pass drop" -p "$XDP_OBJ" -n chain_xdp xdp -i "$IF" -p 50
}

run_tests xdp_chain test_three_priorities_ping test_demo_proceed_on \
	test_unload_middle_keeps_proceed_on test_eleventh_program_refused \
	test_restart_keeps_chain test_crash_residue_cleaned test_concurrent_clients \
	test_no_freplace_fallback test_no_template_kept test_load_reply_kind \
	test_no_freplace_proceed_on_refused
