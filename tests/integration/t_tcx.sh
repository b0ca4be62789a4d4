#!/bin/sh
# t_tcx.sh - TCX programs through the daemon (kernel 6.6+): bpf_links in the kernel's
# order mapped from priority, shown by bpfctl get and seen on real traffic; a TCX_DROP
# in front hides packets from the programs behind it; restart keeps links and order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

NEXT=-1 DROP=2

# chain_setup for a test that needs TCX: skips on a kernel without it.
tcx_setup() {
	chain_setup "$@"
	need_feature tcx
}

tcx_pins() {
	ls "$BPFD_RUNDIR/fs/tcx-ingress/" 2>/dev/null | grep "^link-$IFINDEX-"
}

kernel_order() {
	bpftool -j net show dev "$IF" | jq -r '.[0].tc[]? | select(.kind == "tcx/ingress") | .id' |
		tr '\n' ' '
}

test_order_and_ping() {
	tcx_setup
	b=$(load_tcx 100 $NEXT)
	c=$(load_tcx 200 $NEXT)
	a=$(load_tcx 50 $NEXT)
	[ "$(attach_mode "$a")" = tcx ] || fail "attach mode $(attach_mode "$a")"
	want_order "$a" "$b" "$c"
	ko=$(kernel_order)
	[ -z "$ko" ] || [ "$ko" = "$a $b $c " ] || fail "kernel order '$ko', want '$a $b $c '"
	ping_if 3 must
	for p in $a $b $c; do
		[ "$(pcount "$p")" -ge 3 ] || fail "program $p counted $(pcount "$p")"
	done
	[ "$(tcx_pins | wc -l)" = 3 ] || fail "pins: $(tcx_pins)"
	for p in $a $b $c; do ctl unload "$p" || fail "unload $p"; done
	[ -z "$(tcx_pins)" ] || fail "pins left: $(tcx_pins)"
}

test_drop_in_front() {
	tcx_setup
	a=$(load_tcx 50 $NEXT)
	c=$(load_tcx 100 $NEXT)
	d=$(load_tcx 75 $DROP)
	want_order "$a" "$d" "$c"
	n0=$(pcount "$c")
	ping_if 2 mustnot
	[ "$(pcount "$c")" = "$n0" ] || fail "program behind the drop counted"
	[ "$(pcount "$a")" -ge 2 ] || fail "program in front did not count"
	ctl unload "$d" || fail "unload"
	want_pos "$c" 1
	ping_if 2 must
	[ "$(pcount "$c")" -ge $((n0 + 2)) ] || fail "counting did not resume"
}

test_restart_keeps_links() {
	tcx_setup
	a=$(load_tcx 10 $NEXT)
	b=$(load_tcx 30 $NEXT)
	chain_restart
	c=$(load_tcx 20 $NEXT)
	want_order "$a" "$c" "$b"
	ping_if 2 must
	[ "$(pcount "$b")" -ge 2 ] || fail "last link does not run after restart"
	ctl unload "$a" && ctl unload "$b" && ctl unload "$c" || fail "unload"
	[ -z "$(tcx_pins)" ] || fail "pins left: $(tcx_pins)"
}

# A TCX program is SCHED_CLS in the kernel, as a TC one: bpfctl shows it as tcx (list,
# get) and `list -p tcx` / `list -p tc` tell the two apart.
test_listed_as_tcx() {
	tcx_setup
	x=$(load_tcx 10 $NEXT)
	t=$(load_tc 10 $NEXT)
	ctl list >"$T_TMP/list.txt" || fail "bpfctl list"
	awk -v id="$x" '$1 == id {print $3}' "$T_TMP/list.txt" | grep -qx tcx ||
		fail "tcx program $x not listed as tcx: $(cat "$T_TMP/list.txt")"
	awk -v id="$t" '$1 == id {print $3}' "$T_TMP/list.txt" | grep -qx tc ||
		fail "tc program $t not listed as tc: $(cat "$T_TMP/list.txt")"
	[ "$(ctl list -p tcx -o json | jq -c '[.[].kernel_info.id]')" = "[$x]" ] ||
		fail "list -p tcx: $(ctl list -p tcx -o json 2>&1)"
	[ "$(ctl list -p tc -o json | jq -c '[.[].kernel_info.id]')" = "[$t]" ] ||
		fail "list -p tc: $(ctl list -p tc -o json 2>&1)"
	[ "$(ctl get -o json "$x" | jq -r .kernel_info.type)" = tcx ] || fail "get type"
	ctl get "$x" | grep -q "^ *Type: *tcx$" || fail "get text: $(ctl get "$x")"
	ctl unload "$x" && ctl unload "$t" || fail "unload"
}

test_absent_is_clear() {
	chain_setup
	have_feature tcx && skip "the kernel has TCX (covered by test_order_and_ping)"
	if ctl load-from-file -p "$TC_OBJ" -n chain_tc tcx -i "$IF" -d ingress -p 5 \
	    >"$T_TMP/out" 2>&1; then
		fail "tcx loaded on a kernel without TCX"
	fi
	grep -q "6.6" "$T_TMP/out" || fail "unclear message: $(cat "$T_TMP/out")"
}

run_tests tcx test_order_and_ping test_drop_in_front test_restart_keeps_links \
	test_listed_as_tcx test_absent_is_clear
