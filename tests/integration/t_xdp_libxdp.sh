#!/bin/sh
# t_xdp_libxdp.sh - coexistence with libxdp (Debian's xdp-tools 1.3.1) through the
# daemon: `xdp-loader status` lists bpfd's programs with their priorities and chain
# actions; `xdp-loader load` adds a program beside them; bpfd sees it (get positions,
# list -a), keeps it on its next change; `xdp-loader unload` of its own program leaves
# bpfd's.  Needs freplace (libxdp needs it too).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

# id of the libxdp member named $1 on $IF, from xdp-loader status
libxdp_id() {
	xdp-loader status "$IF" | awk -v n="$1" '$1 == "=>" && $3 == n { print $4 }'
}

test_status_lists_bpfd_programs() {
	chain_setup
	need_chains
	command -v xdp-loader >/dev/null || skip "xdp-loader (xdp-tools) is not installed"
	a=$(load_xdp 20 2 chain_xdp --proceed-on pass,drop)
	b=$(load_xdp 40 2 chain_xdp_a)
	xdp-loader status "$IF" >"$T_TMP/st" 2>&1 || fail "xdp-loader status: $(cat "$T_TMP/st")"
	grep -q "xdp_dispatcher" "$T_TMP/st" || fail "no dispatcher: $(cat "$T_TMP/st")"
	grep -Eq "=> +20 +chain_xdp +$a .*XDP_DROP,XDP_PASS" "$T_TMP/st" ||
		fail "first member not listed right: $(cat "$T_TMP/st")"
	grep -Eq "=> +40 +chain_xdp_a +$b .*XDP_PASS" "$T_TMP/st" ||
		fail "second member not listed right: $(cat "$T_TMP/st")"
}

test_xdp_loader_adds_beside() {
	chain_setup
	need_chains
	command -v xdp-loader >/dev/null || skip "xdp-loader (xdp-tools) is not installed"
	a=$(load_xdp 20 2 chain_xdp)
	b=$(load_xdp 40 2 chain_xdp_a)
	xdp-loader load -m native -P 30 -n chain_xdp_b "$IF" "$XDP_OBJ" >"$T_TMP/ld" 2>&1 ||
		fail "xdp-loader load: $(cat "$T_TMP/ld")"
	f=$(libxdp_id chain_xdp_b)
	[ -n "$f" ] || fail "xdp-loader status lacks its program: $(xdp-loader status "$IF")"
	xdp-loader status "$IF" | grep -Eq "=> +20 +chain_xdp +$a" || fail "bpfd's first gone"
	[ "$(position "$a")" = 0 ] && [ "$(position "$b")" = 2 ] ||
		fail "positions $(position "$a") $(position "$b"), want 0 2"
	ctl list -a -o json | jq -e --argjson f "$f" 'map(select(.kernel_info.id == $f)) | length == 1' \
		>/dev/null || fail "bpfctl list -a does not show the foreign member $f"
	ping_if 2 must
	[ "$(pcount "$b")" -ge 2 ] || fail "bpfd's member behind the foreign one does not run"
	# bpfd's next change keeps the foreign member
	c=$(load_xdp 35 2 chain_xdp)
	[ "$(position "$c")" = 2 ] && [ "$(position "$b")" = 3 ] ||
		fail "positions $(position "$c") $(position "$b"), want 2 3"
	[ "$(libxdp_id chain_xdp_b)" = "$f" ] || fail "foreign member lost: $(xdp-loader status "$IF")"
	ctl unload "$c" || fail "unload"
	[ "$(libxdp_id chain_xdp_b)" = "$f" ] || fail "foreign member lost on unload"
	# xdp-loader unloads its own: bpfd's stay, in order
	xdp-loader unload -i "$f" "$IF" >"$T_TMP/ul" 2>&1 || fail "xdp-loader unload: $(cat "$T_TMP/ul")"
	want_order "$a" "$b"
	xdp-loader status "$IF" | grep -Eq "=> +40 +chain_xdp_a +$b" ||
		fail "libxdp lost bpfd's member: $(xdp-loader status "$IF")"
	ping_if 2 must
	ctl unload "$a" && ctl unload "$b" || fail "unload"
	[ -z "$(xdp_dirs)" ] || fail "pins left: $(xdp_dirs)"
	xdp-loader status "$IF" | grep -q "No XDP program loaded" ||
		fail "something left: $(xdp-loader status "$IF")"
}

run_tests xdp_libxdp test_status_lists_bpfd_programs test_xdp_loader_adds_beside
