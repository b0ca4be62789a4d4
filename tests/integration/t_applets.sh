#!/bin/sh
# t_applets.sh - the multi-call binary: static, applet dispatch, --install, usage errors
# vm: no (the multi-call binary does not depend on the kernel; the minimal VM runs it too)
. "$(dirname "$0")/lib.sh"

test_static() {
	[ "${BPFD_SANITIZE:-0}" != 1 ] ||
		skip "a sanitizer build (make check SANITIZE=1) is linked dynamically"
	file "$BPFD" | grep -q 'statically linked' || fail "not statically linked: $(file "$BPFD")"
	ldd "$BPFD" 2>&1 | grep -q 'not a dynamic executable' || fail "ldd: $(ldd "$BPFD" 2>&1)"
}

test_list() {
	out=$("$BPFD" --list) || fail "--list failed"
	[ "$out" = "bpfctl
bpfd
bpfd-agent" ] || fail "--list printed: $out"
}

test_install_symlinks() {
	d="$T_TMP/bin"
	mkdir -p "$d"
	must "$BPFD" --install -s "$d"
	[ -L "$d/bpfctl" ] && [ -L "$d/bpfd-agent" ] || fail "links missing"
	"$d/bpfctl" --help | grep -q '^Usage: bpfctl' || fail "bpfctl --help through the link"
	"$d/bpfd-agent" --help | grep -q '^Usage: bpfd-agent' || fail "bpfd-agent --help"
	"$BPFD" bpfctl --help | grep -q '^Usage: bpfctl' || fail "bpfd bpfctl --help"
}

test_version_help() {
	"$BPFD" --version | grep -q '^bpfd [0-9]' || fail "--version"
	"$BPFD" --help | grep -q '^Usage: bpfd' || fail "--help"
	"$BPFD" bpfd-agent --version | grep -q '^bpfd-agent [0-9]' || fail "agent --version"
}

test_usage_errors() {
	"$BPFD" no-such-applet >/dev/null 2>"$T_TMP/e"; rc=$?
	[ $rc = 2 ] || fail "unknown applet exit $rc"
	[ "$(wc -l <"$T_TMP/e")" = 1 ] || fail "unknown applet: not one line: $(cat "$T_TMP/e")"
	"$BPFD" --no-such-option >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "unknown option exit $rc"
	"$BPFD" bpfctl --no-such-option >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "bpfctl unknown option exit $rc"
	"$BPFD" bpfd-agent --no-such-option >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "agent unknown option exit $rc"
}

# "bpfctl help COMMAND [ARGS]" is "bpfctl COMMAND [ARGS] --help"; "bpfctl help" the list.
test_bpfctl_help() {
	"$BPFD" bpfctl help >"$T_TMP/a" || fail "bpfctl help"
	"$BPFD" bpfctl --help >"$T_TMP/b" || fail "bpfctl --help"
	cmp -s "$T_TMP/a" "$T_TMP/b" || fail "help differs from --help: $(cat "$T_TMP/a")"
	for c in get list unload load-from-file "load-from-file xdp" "load-from-file kprobe"; do
		# shellcheck disable=SC2086
		"$BPFD" bpfctl help $c >"$T_TMP/a" 2>&1 || fail "bpfctl help $c: $(cat "$T_TMP/a")"
		# shellcheck disable=SC2086
		"$BPFD" bpfctl $c --help >"$T_TMP/b" 2>&1 || fail "bpfctl $c --help"
		cmp -s "$T_TMP/a" "$T_TMP/b" || fail "help $c differs from $c --help: $(cat "$T_TMP/a")"
		grep -q "^Usage: bpfctl ${c%% *}" "$T_TMP/a" || fail "help $c: $(cat "$T_TMP/a")"
	done
	"$BPFD" bpfctl help nope >/dev/null 2>"$T_TMP/e"; rc=$?
	[ $rc = 2 ] || fail "help of an unknown command: exit $rc"
	grep -q "unknown command 'nope'" "$T_TMP/e" || fail "help nope: $(cat "$T_TMP/e")"
}

run_tests applets test_static test_list test_install_symlinks test_version_help test_usage_errors \
	test_bpfctl_help
