#!/bin/bash
# start.sh - `make bench`: the daemon's start-up: from exec to the socket accepting, the
# first start of a boot (it probes the kernel) and the next ones (the probe is cached in
# the run dir), and a restart that restores N tracepoint programs (N = 16, 64: restart
# time should grow at most linearly).  Median of 5 starts each; host only (no peer: the
# goals are issue 14's absolute figures).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
T=$(mktemp -d /tmp/bpfd-sbench.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$BPFD" bpfctl --endpoint "unix://$T/run/bpfd.sock" list >/dev/null 2>&1
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
die() { echo "bench: start: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"
[ -f "$OBJ" ] || die "$OBJ is missing (make all)"

ctl() { "$BPFD" bpfctl --endpoint "unix://$T/run/bpfd.sock" "$@"; }

# one start: us from the fork to the socket being there; the daemon keeps running
# (stamp(): bash's clock, no `date` process inside what is measured)
start_ms() {
	rm -f "$T/run/bpfd.sock"
	stamp t0
	"$BPFD" --rundir "$T/run" >>"$T/daemon.log" 2>&1 &
	DPID=$!
	i=0
	until [ -S "$T/run/bpfd.sock" ]; do
		i=$((i + 1))
		[ $i -gt 20000 ] && { cat "$T/daemon.log"; die "the daemon did not start"; }
		kill -0 "$DPID" 2>/dev/null || { cat "$T/daemon.log"; die "the daemon died"; }
	done
	stamp t1
	echo $((t1 - t0))
}
stop() { kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'; }

# MODE: cold (no probe cache), warm
starts() {
	for _ in 1 2 3 4 5; do
		[ "$1" = cold ] && rm -f "$T/run/probe.cache"
		start_ms
		stop
	done | median
}

load_to() {	# total $1 programs held by the daemon
	n=$(ctl list 2>/dev/null | grep -c tracepoint)
	while [ "$n" -lt "$1" ]; do
		# 16 per tracepoint: the kernel allows 64 on one, and others use them too
		tp=$(echo getppid getpid getuid getgid | cut -d' ' -f$((n / 16 % 4 + 1)))
		ctl load-from-file -p "$OBJ" -n tp_count tracepoint -t "syscalls/sys_enter_$tp" \
			>/dev/null || die "load failed"
		n=$((n + 1))
	done
}

printf '%-36s %10s %10s\n' "start-up (host)" "ms" "goal ms"
printf '%-36s %10s %10s\n' "start to socket, first of the boot" "$(starts cold)" "-"
printf '%-36s %10s %10s\n' "start to socket, probe cached" "$(starts warm)" "20"
for n in 16 64; do
	start_ms >/dev/null
	load_to "$n"
	stop
	printf '%-36s %10s %10s\n' "restart with $n programs" "$(starts warm)" \
		"$([ "$n" = 64 ] && echo 50 || echo -)"
done
start_ms >/dev/null
n=$(ctl list | grep -c tracepoint)
[ "$n" = 64 ] || die "after the restarts the daemon holds $n programs, want 64"
for id in $(ctl list | awk '/tracepoint/ { print $1 }'); do ctl unload "$id" >/dev/null; done
