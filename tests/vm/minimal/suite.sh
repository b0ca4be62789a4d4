#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# suite.sh - the embedded use case: one static bpfd on a system that is only
# busybox and a kernel (run by tests/vm/run-minimal.sh in the minimal VM), which
# boots through busybox init and rcS into bpfd started by its init script.
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

# The boot: busybox init ran /etc/init.d/rcS, which started bpfd through
# /etc/init.d/bpfd (dist/bpfd.init).  bpfctl finds it without --endpoint: there
# is no /etc/bpfd/bpfd.toml, so the daemon's default socket.
served()
{
	i=0
	until "$BPFD" bpfctl list; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "no answer in 10 s"; tail -n 20 /var/log/bpfd.log; return 1; }
		sleep 0.1
	done
}

boot_started()
{
	/etc/init.d/bpfd status || { tail -n 20 /var/log/bpfd.log; return 1; }
	served
}

# ID of the program a bpfctl load-from-file printed in $out
loaded_id()
{
	sed -n 's/^ ID: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1
}

# How many rows of `bpfctl list` show program $1
listed()
{
	"$BPFD" bpfctl list | awk -v id="$1" '$1 == id { n++ } END { print n + 0 }'
}

PROG=/test/prog_counter.bpf.o

# The program of /etc/bpfd/programs.d/boot.toml (rootfs/), loaded at boot: the id
# of the row whose source is programs.d/boot.toml
boot_id()
{
	"$BPFD" bpfctl list | awk '$5 == "programs.d/boot.toml" { print $1 }'
}

# bpfd loaded the programs.d entry at boot: list shows it once, get tells where it
# came from and with what.
boot_programs_d()
{
	"$BPFD" bpfctl list
	id=$(boot_id)
	[ -n "$id" ] || { grep programs.d /var/log/bpfd.log; return 1; }
	[ "$(echo "$id" | wc -l)" = 1 ] || { echo "boot.toml loaded more than once: $id"; return 1; }
	"$BPFD" bpfctl get "$id" >/tmp/get.out || { cat /tmp/get.out; return 1; }
	cat /tmp/get.out
	grep -q '^ Source: *programs.d/boot.toml$' /tmp/get.out || return 1
	grep -q 'loaded_by=boot' /tmp/get.out || return 1
	grep -q 'step=0300000000000000' /tmp/get.out
}

# Restart safety: a program loaded with bpfctl survives `bpfd.init stop` and
# `start` (the daemon stops with SIGTERM, [runtime] unload_on_exit is false), and
# the new daemon lists it once, with the same ID, not twice; the boot program of
# programs.d is kept too (same ID), not loaded a second time.
restart_keeps_once()
{
	bid=$(boot_id)
	[ -n "$bid" ] || { echo "no programs.d program before the restart"; return 1; }
	"$BPFD" bpfctl load-from-file -p "$PROG" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >/tmp/load.out 2>&1 || { cat /tmp/load.out; return 1; }
	id=$(loaded_id /tmp/load.out)
	[ -n "$id" ] || { echo "no ID in: $(cat /tmp/load.out)"; return 1; }
	pid=$(cat /run/bpfd.pid)
	/etc/init.d/bpfd stop || return 1
	/etc/init.d/bpfd status
	st=$?
	[ $st = 3 ] || { echo "status after stop: $st, want 3"; return 1; }
	! kill -0 "$pid" 2>/dev/null || { echo "bpfd $pid still runs"; return 1; }
	/etc/init.d/bpfd start || { tail -n 20 /var/log/bpfd.log; return 1; }
	[ "$(cat /run/bpfd.pid)" != "$pid" ] || { echo "the same pid $pid after start"; return 1; }
	served >/dev/null || return 1
	"$BPFD" bpfctl list
	n=$(listed "$id")
	[ "$n" = 1 ] || { echo "program $id listed $n times after the restart, want 1"; return 1; }
	rows=$("$BPFD" bpfctl list | awk '$1 ~ /^[0-9]+$/' | wc -l)
	[ "$rows" = 2 ] || { echo "$rows programs after the restart, want 2"; return 1; }
	[ "$(boot_id)" = "$bid" ] ||
		{ echo "the programs.d program $bid is now '$(boot_id)'"; return 1; }
	grep -q 'programs.d (start): 0 loaded, 1 kept' /var/log/bpfd.log ||
		{ grep programs.d /var/log/bpfd.log; return 1; }
	"$BPFD" bpfctl unload "$id" || return 1
	[ "$(listed "$id")" = 0 ] || { echo "program $id still listed after unload"; return 1; }
}

t boot_started boot_started
if [ "$ok" = 1 ] && [ -f "$PROG" ]; then
	t boot_programs_d boot_programs_d
	t restart_keeps_once restart_keeps_once
elif [ ! -f "$PROG" ]; then
	echo "SKIP: boot_programs_d (no $PROG: run through tests/vm/run-minimal.sh with BPFD_TESTBPF)"
	echo "SKIP: restart_keeps_once (no $PROG: run through tests/vm/run-minimal.sh with BPFD_TESTBPF)"
	skip=$((skip + 2))
else
	echo "SKIP: boot_programs_d (bpfd did not start at boot)"
	echo "SKIP: restart_keeps_once (bpfd did not start at boot)"
	skip=$((skip + 2))
fi
/etc/init.d/bpfd stop >/dev/null

echo "minimal: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
