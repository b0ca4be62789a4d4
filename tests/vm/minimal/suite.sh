#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# suite.sh - the embedded use case: one static bpfd on a system that is only
# busybox and a kernel (run by tests/vm/run-minimal.sh in the minimal VM).
# Prints PASS:/FAIL:/SKIP: lines and "minimal: N passed, N failed, N skipped".

BPFD=${BPFD:-bpfd}
pass=0 fail=0 skip=0
out=/tmp/minimal.out

# t NAME CMD...: CMD passes when it exits 0; its output is shown on failure
t()
{
	name=$1
	shift
	if "$@" >"$out" 2>&1; then
		echo "PASS: $name"
		pass=$((pass + 1))
		ok=1
	else
		echo "FAIL: $name (exit $?)"
		sed 's/^/    /' "$out"
		fail=$((fail + 1))
		ok=0
	fi
}

version()
{
	v=$("$BPFD" --version) || return 1
	echo "$v"
	case $v in "bpfd "[0-9]*) ;; *) return 1 ;; esac
}

list()
{
	l=$("$BPFD" --list) || return 1
	echo "$l"
	for a in bpfctl bpfd bpfd-agent; do
		echo "$l" | grep -qx "$a" || { echo "missing applet $a"; return 1; }
	done
}

install_links()
{
	mkdir -p /tmp/bin && "$BPFD" --install -s /tmp/bin || return 1
	if [ ! -L /tmp/bin/bpfctl ] || [ ! -L /tmp/bin/bpfd-agent ]; then
		echo "links missing: $(ls /tmp/bin)"
		return 1
	fi
	/tmp/bin/bpfctl --help | grep -q bpfctl
}

t version version
t list list
t install_links install_links
t probe "$BPFD" --probe
# the probe report belongs in the log whatever the outcome
[ "$ok" = 0 ] || sed 's/^/    | /' "$out"
# veth pair in a private netns, an XDP program from the embedded objects,
# attach and detach, all through bpfd's own netlink and libbpf code
t selftest_xdp "$BPFD" --selftest-xdp

echo "minimal: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
