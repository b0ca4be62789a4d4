#!/bin/bash
# scale.sh - `make bench`: how bpfd scales with the programs it holds: tracepoint
# programs loaded through bpfctl up to 10, 100, 1,000 (spread over tracepoints: the
# kernel allows 64 programs per tracepoint), and at each count the load time per
# program (the batch that got there), a List's latency (median of 5 `bpfctl list`),
# the daemon's RSS and a restart's time to the socket (it restores every program).
# Host only, no peer (issue 14's goals: linear or better, RSS <= 16 MB at 1,000).
# SCALE_COUNTS overrides the counts (e.g. "10 100" for a quick run).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
COUNTS=${SCALE_COUNTS:-10 100 1000}
T=$(mktemp -d /tmp/bpfd-scale.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	# unload_on_exit is off by default: the pins hold the programs until the bpffs goes
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
die() { echo "bench: scale: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"
[ -f "$OBJ" ] || die "$OBJ is missing (make all)"

ctl() { "$BPFD" bpfctl --endpoint "unix://$T/run/bpfd.sock" "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'; }

# tracepoints to spread the programs over: 63 programs each (the kernel's limit is 64
# per tracepoint; one left for anyone else on the machine)
TPS=$(ls /sys/kernel/tracing/events/syscalls 2>/dev/null | grep '^sys_enter_' | head -40)
[ "$(echo "$TPS" | wc -w)" -ge 16 ] || die "fewer than 16 syscall tracepoints in /sys/kernel/tracing"

start() {	# start the daemon; ms from exec to the socket into $T/start
	rm -f "$T/run/bpfd.sock"
	stamp t0
	"$BPFD" --rundir "$T/run" >>"$T/daemon.log" 2>&1 &
	DPID=$!
	until [ -S "$T/run/bpfd.sock" ]; do
		kill -0 "$DPID" 2>/dev/null || { cat "$T/daemon.log"; die "the daemon died"; }
	done
	stamp t1
	echo $(((t1 - t0) / 1000)) >"$T/start"
}
stop() { kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=; }

start
n=0
printf '%8s %14s %14s %10s %12s\n' programs "load ms/prog" "List ms" "RSS kB" "restart ms"
for want in $COUNTS; do
	stamp t0
	from=$n
	while [ "$n" -lt "$want" ]; do
		tp=$(echo "$TPS" | sed -n "$((n / 63 + 1))p")
		ctl load-from-file -p "$OBJ" -n tp_count tracepoint -t "syscalls/$tp" \
			>/dev/null 2>"$T/err" || die "load $((n + 1)): $(cat "$T/err")"
		n=$((n + 1))
	done
	stamp t1
	per=$(awk -v a="$((t1 - t0))" -v b="$((n - from))" 'BEGIN { printf "%.1f", a / b / 1000 }')
	for _ in 1 2 3 4 5; do
		stamp t0
		ctl list >"$T/list" || die "list failed"
		stamp t1
		echo $((t1 - t0))
	done | median >"$T/lat"
	got=$(grep -c tracepoint "$T/list")
	[ "$got" -ge "$n" ] || die "List shows $got tracepoint programs, want $n"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
	stop
	start
	got=$(ctl list | grep -c tracepoint)
	[ "$got" -ge "$n" ] || die "after the restart List shows $got programs, want $n"
	printf '%8s %14s %14s %10s %12s\n' "$n" "$per" "$(cat "$T/lat")" "$rss" "$(cat "$T/start")"
done
echo "(load: the mean of the loads that went from the previous count to this one;"
echo " List: median of 5 bpfctl list; RSS after the List; restart: exec to the socket)"
