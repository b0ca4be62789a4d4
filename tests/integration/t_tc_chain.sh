#!/bin/sh
# t_tc_chain.sh - TC programs through the daemon: the TC dispatcher on clsact ordered by
# priority on real traffic, TC verdicts and proceed-on, unload of the middle program,
# restart, an `ingress` qdisc in the way, foreign filters left alone, and without
# freplace the direct attach.  Chain tests skip when the probe says the kernel refuses
# freplace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

PIPE=3 SHOT=2 OK=0

tc_dirs() {
	ls -d "$BPFD_RUNDIR/fs/tc-ingress/dispatch-$IFINDEX"-* 2>/dev/null
}

test_three_priorities_ping() {
	chain_setup
	need_chains
	b=$(load_tc 100 $PIPE)
	c=$(load_tc 200 $PIPE)
	a=$(load_tc 50 $PIPE)
	want_order "$a" "$b" "$c"
	[ "$(attach_mode "$a")" = dispatcher ] || fail "attach mode $(attach_mode "$a")"
	tc filter show dev "$IF" ingress | grep -q "tc_dispatcher" ||
		fail "no dispatcher filter: $(tc filter show dev "$IF" ingress)"
	ping_if 4 must
	for p in $a $b $c; do
		n=$(pcount "$p")
		[ "$n" -ge 4 ] || fail "program $p counted $n packets, want >= 4"
	done
	[ "$(tc_dirs | wc -l)" = 1 ] || fail "pin dirs: $(tc_dirs)"
	for p in $b $a $c; do ctl unload "$p" || fail "unload $p"; done
	[ -z "$(tc_dirs)" ] || fail "pins left: $(tc_dirs)"
	tc qdisc show dev "$IF" | grep -q clsact && fail "clsact left behind"
	return 0
}

# TC_ACT_SHOT at 50 ends the chain (default proceed-on: pipe, dispatcher_return): the
# ping fails, the member at 100 sees nothing; with shot in its proceed-on the chain
# goes on (and ends with TC_ACT_OK).
test_shot_and_proceed_on() {
	chain_setup
	need_chains
	b=$(load_tc 100 $PIPE)
	a=$(load_tc 50 $SHOT)
	n0=$(pcount "$b")
	ping_if 2 mustnot
	[ "$(pcount "$b")" = "$n0" ] || fail "member behind the shot counted"
	[ "$(pcount "$a")" -ge 2 ] || fail "the shot program saw nothing"
	ctl unload "$a" || fail "unload"
	a=$(load_tc 50 $SHOT --proceed-on pipe,shot)
	ping_if 2 must
	[ "$(pcount "$b")" -ge $((n0 + 2)) ] || fail "member behind did not count"
}

test_unload_middle_keeps_proceed_on() {
	chain_setup
	need_chains
	a=$(load_tc 10 $PIPE --proceed-on unspec,pipe)
	b=$(load_tc 20 $PIPE --proceed-on ok)
	c=$(load_tc 30 $PIPE --proceed-on shot --proceed-on pipe,dispatcher_return)
	ctl unload "$b" || fail "unload the middle"
	[ "$(proceed_on "$a" | jq -c sort)" = "[-1,3]" ] || fail "first: $(proceed_on "$a")"
	[ "$(proceed_on "$c" | jq -c sort)" = "[2,3,30]" ] || fail "last: $(proceed_on "$c")"
	want_pos "$c" 1
	chain_restart
	want_order "$a" "$c"
	ping_if 2 must
	[ "$(pcount "$c")" -ge 2 ] || fail "last member does not run"
}

test_ingress_qdisc_in_the_way() {
	chain_setup
	tc qdisc add dev "$IF" ingress || skip "cannot add an ingress qdisc (sch_ingress)"
	on_exit "tc qdisc del dev $IF ingress"
	if ctl load-from-file -p "$TC_OBJ" -n chain_tc tc -i "$IF" -d ingress -p 5 \
	    >"$T_TMP/out" 2>&1; then
		fail "loaded despite the ingress qdisc"
	fi
	grep -q "'ingress' qdisc" "$T_TMP/out" || fail "unclear message: $(cat "$T_TMP/out")"
	grep -q "tc qdisc del dev $IF ingress" "$T_TMP/out" ||
		fail "message gives no way out: $(cat "$T_TMP/out")"
	tc qdisc show dev "$IF" | grep -q "qdisc ingress" || fail "ingress qdisc touched"
}

# A foreign tc filter on the same hook is never touched, and keeps clsact alive.
test_foreign_filter_untouched() {
	chain_setup
	tc qdisc add dev "$IF" clsact
	tc filter add dev "$IF" ingress pref 7 bpf da obj "$TC_OBJ" sec tc ||
		skip "tc cannot add a bpf filter"
	a=$(load_tc 20 $PIPE)
	if have_feature freplace; then
		b=$(load_tc 30 $PIPE)
		ctl unload "$b" || fail "unload"
	fi
	ctl unload "$a" || fail "unload"
	tc filter show dev "$IF" ingress | grep -q "pref 7 bpf" ||
		fail "foreign filter gone: $(tc filter show dev "$IF" ingress)"
	tc filter show dev "$IF" ingress | grep -q "tc_dispatcher\|handle 0xbfd" &&
		fail "bpfd's filter left: $(tc filter show dev "$IF" ingress)"
	tc qdisc show dev "$IF" | grep -q clsact || fail "clsact removed under a foreign filter"
}

test_no_freplace_fallback() {
	chain_setup
	have_feature freplace && skip "the kernel allows freplace: the fallback is covered by test_chain_kernel tc_direct_fallback"
	a=$(load_tc 50 $OK)
	[ "$(attach_mode "$a")" = direct ] || fail "attach mode $(attach_mode "$a")"
	if ctl load-from-file -p "$TC_OBJ" -n chain_tc tc -i "$IF" -d ingress -p 60 \
	    >"$T_TMP/out" 2>&1; then
		fail "second program loaded"
	fi
	grep -q "freplace" "$T_TMP/out" || fail "message does not say why: $(cat "$T_TMP/out")"
	ping_if 2 must
	[ "$(pcount "$a")" -ge 2 ] || fail "direct program does not run"
	ctl unload "$a" || fail "unload"
	tc qdisc show dev "$IF" | grep -q clsact && fail "clsact left behind"
	return 0
}

# Without freplace a program is attached directly, where proceed-on cannot apply: asked
# for, it is refused with the reason, and nothing is loaded or stored.
test_no_freplace_proceed_on_refused() {
	chain_setup
	have_feature freplace && skip "the kernel allows freplace: covered by test_chain_kernel tc_direct_fallback"
	direct_proceed_on_refused "pipe shot" -p "$TC_OBJ" -n chain_tc tc -i "$IF" -d ingress -p 50
}

run_tests tc_chain test_three_priorities_ping test_shot_and_proceed_on \
	test_unload_middle_keeps_proceed_on test_ingress_qdisc_in_the_way \
	test_foreign_filter_untouched test_no_freplace_fallback test_no_freplace_proceed_on_refused
