#!/bin/bash
# stats.sh - `make bench`: what the kernel's run statistics ([monitor] stats) cost per
# program run, with bpfd's stats = "off" against stats = "always" in the same run:
# an XDP program under BPF_PROG_TEST_RUN (bpftool prog run, large repeat: the run
# alone), and a tracepoint program bpfd loads on syscalls/sys_enter_sysfs, timed per
# sysfs(2) call (the syscall around it included).  The statistics are one switch for
# the whole kernel: when another process holds them on, "off" cannot be measured and
# the rows say so (checked before and after each measurement; other bpfd daemons with
# on-demand statistics switch them on for a while whenever they answer a Get or List).
# On a loaded machine the numbers are noisy: compare them within one run.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
REPEAT=${BENCH_REPEAT:-500000}
CALLS=${BENCH_STATS_CALLS:-100000}
XOBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
TOBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
T=$(mktemp -d /tmp/bpfd-bench-stats.XXXXXX)
DPID=
die() { echo "bench: stats: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

stop_daemon() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	DPID=
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T/run"
}
cleanup() {
	stop_daemon
	umount -l "$T/pins" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

for t in bpftool cc; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
[ -f "$XOBJ" ] && [ -f "$TOBJ" ] || die "test BPF objects are missing (make all)"

# Someone else holds the kernel's statistics on (pids, or "sysctl")
other_holders() {
	[ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)" = 1 ] && echo sysctl
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" = "${DPID:-x}" ] && continue
		for _f in "$_p"/fd/*; do
			[ "$(readlink "$_f" 2>/dev/null)" = "anon_inode:bpf-stats" ] &&
				{ echo "${_p#/proc/}"; break; }
		done
	done 2>/dev/null
}

cc -O2 -o "$T/sysfs" "$SRC/tests/integration/sysfs_calls.c" || die "cannot build the sysfs(2) caller"
printf '%064d' 0 | xxd -r -p >"$T/pkt" 2>/dev/null || head -c 64 /dev/zero >"$T/pkt"
mkdir -p "$T/pins"
mount -t bpf bpf "$T/pins" || die "cannot mount a bpffs at $T/pins"
bpftool prog load "$XOBJ" "$T/pins/xdp" >/dev/null 2>&1 || die "bpftool prog load $XOBJ failed"
XID=$(bpftool -j prog show pinned "$T/pins/xdp" | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
[ -n "$XID" ] || die "no id for the XDP program"

# ns per run of the XDP program: the best of 3
xdp_ns() {
	best=
	for _i in 1 2 3; do
		v=$(bpftool prog run id "$XID" data_in "$T/pkt" repeat "$REPEAT" 2>&1 |
			sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p')
		[ -n "$v" ] || die "bpftool prog run failed"
		[ -z "$best" ] || [ "$v" -lt "$best" ] && best=$v
	done
	echo "$best"
}

# ns per sysfs(2) call with the tracepoint program attached: the best of 3
sysfs_ns() {
	best=
	for _i in 1 2 3; do
		stamp t0
		"$T/sysfs" "$CALLS"
		stamp t1
		v=$(( (t1 - t0) * 1000 / (CALLS / 10) ))	# tenths of ns
		[ -z "$best" ] || [ "$v" -lt "$best" ] && best=$v
	done
	awk -v v="$best" 'BEGIN { printf "%.1f", v / 10 }'
}

# measure MODE: a daemon with [monitor] stats = MODE and bpfd's tracepoint program;
# sets x_MODE, s_MODE and ok_MODE (no one else held the statistics on)
measure() {
	printf '[monitor]\nstats = "%s"\n' "$1" >"$T/bpfd.toml"
	mkdir -p "$T/run"
	"$BPFD" --rundir "$T/run" --config "$T/bpfd.toml" >"$T/daemon.log" 2>&1 &
	DPID=$!
	wait_sock "$T/run/bpfd.sock" "$T/daemon.log" daemon 200
	BPFD_ENDPOINT="unix://$T/run/bpfd.sock" "$BPFD" bpfctl load-from-file -p "$TOBJ" \
		-n tp_count tracepoint -t syscalls/sys_enter_sysfs >"$T/load.out" 2>&1 ||
		die "load: $(cat "$T/load.out")"
	sleep 0.3
	others=$(other_holders | tr '\n' ' ')
	eval "x_$1=\$(xdp_ns)"
	others="$others$(other_holders | tr '\n' ' ')"
	eval "s_$1=\$(sysfs_ns)"
	others="$others$(other_holders | tr '\n' ' ')"
	eval "ok_$1=\${others:+no}"
	[ -n "$others" ] && echo "(stats = $1: the statistics were also held on by: $others)"
	stop_daemon
}

[ "$(id -u)" = 0 ] || die "needs root"
measure off
measure always
# shellcheck disable=SC2154
{
	row() {	# CASE OFF ON
		awk -v c="$1" -v a="$2" -v b="$3" -v m="${ok_off:+*}" 'BEGIN {
			printf "%-34s %9s %9s %9s %8s\n", c, a m, b, sprintf("%.1f", b - a) m,
				sprintf("%.2fx", a > 0 ? b / a : 0) m }'
	}
	printf '%-34s %9s %9s %9s %8s\n' "run statistics ([monitor] stats)" "off ns" "always ns" \
		"cost ns" "ratio"
	row "XDP program run (test_run)" "$x_off" "$x_always"
	row "tracepoint, per sysfs(2) call" "$s_off" "$s_always"
	[ "${ok_off:-}" = no ] &&
		echo "(* another process held the kernel's statistics on during \"off\": not a clean off)"
	echo "(best of 3: bpftool prog run repeat $REPEAT; $CALLS sysfs(2) calls, bpfd's program on"
	echo " syscalls/sys_enter_sysfs; cost = always - off, per run)"
}
