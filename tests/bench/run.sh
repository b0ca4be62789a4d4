#!/bin/sh
# run.sh - `make bench`: List calls/s over the unix socket with h2load (1 and 100
# programs in the kernel), and the daemon's idle RSS; the peer measured with the same
# h2load command in the same run is a python grpcio server answering the same List
# response (tests/bench/peer.py).  Prints a table with the ratios.  Then modify.sh
# (re-prioritize one member of a TCX chain against unload+load), the dispatcher
# bench (dispatch.sh) and the cost of run statistics (stats.sh).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
N=${BENCH_CALLS:-20000}
NPEER=${BENCH_PEER_CALLS:-5000}
T=$(mktemp -d /tmp/bpfd-bench.XXXXXX)
DPID= PPID_PEER=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$PPID_PEER" ] && kill "$PPID_PEER" 2>/dev/null && wait "$PPID_PEER" 2>/dev/null
	umount -l "$T/run/fs" 2>/dev/null
	umount -l "$T/pins" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# (a shell killed by a signal skips the EXIT trap: pins and daemon would stay)
trap 'exit 130' INT TERM HUP PIPE
die() { echo "bench: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

for t in h2load bpftool curl /usr/bin/python3; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
obj="$BPFD_TESTBPF/grpc_sock.bpf.o"
[ -f "$obj" ] || die "$obj is missing (make all)"

printf '\000\000\000\000\000' >"$T/list.bin"	# a framed, empty ListRequest: every program
mkdir -p "$T/pins"
mount -t bpf bpf "$T/pins" || die "cannot mount a bpffs at $T/pins"

"$BPFD" --rundir "$T/run" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_sock "$T/run/bpfd.sock" "$T/daemon.log" daemon 200
sleep 0.5
rss_idle=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")

load_progs() {	# total $1 test programs pinned
	n=$(ls "$T/pins" | grep -c '^p[0-9]')	# a new bpffs also holds maps.debug, progs.debug
	while [ "$n" -lt "$1" ]; do
		bpftool prog load "$obj" "$T/pins/p$n" >/dev/null 2>&1 || die "bpftool prog load failed"
		n=$((n + 1))
	done
}

# h2load SOCKET CALLS -> calls/s (checks that every call got HTTP 200)
h2rate() {
	out=$(h2load -n "$2" -c 4 -m 8 -d "$T/list.bin" -H 'content-type: application/grpc' \
		-H 'te: trailers' -B "unix:$1" http://localhost/bpfd.v1.Bpfd/List 2>&1)
	echo "$out" | grep -q "requests: $2 total, $2 started, $2 done, $2 succeeded" ||
		die "h2load against $1: $(echo "$out" | grep -E 'requests:|status codes:')"
	echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p'
}

# the List response bpfd gives now: its message bytes, and the number of results
snapshot() {
	curl -s --http2-prior-knowledge --unix-socket "$T/run/bpfd.sock" \
		-H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$T/list.bin" \
		--output - http://localhost/bpfd.v1.Bpfd/List | tail -c +6 >"$T/resp.pb"
	protoc -I"$SRC/proto" --decode=bpfd.v1.ListResponse "$SRC/proto/bpfd.proto" \
		<"$T/resp.pb" | grep -c '^results {'
}

run_peer() {
	[ -n "$PPID_PEER" ] && { kill "$PPID_PEER"; wait "$PPID_PEER" 2>/dev/null; }
	rm -f "$T/peer.sock"
	/usr/bin/python3 "$SRC/tests/bench/peer.py" "$T/peer.sock" "$T/resp.pb" >"$T/peer.log" 2>&1 &
	PPID_PEER=$!
	wait_sock "$T/peer.sock" "$T/peer.log" peer 200
}

printf '%-26s %10s %12s %14s %8s\n' "case" "in List" "bpfd req/s" "grpcio req/s" "ratio"
for want in 1 100; do
	load_progs "$want"
	progs=$(snapshot)
	ours=$(h2rate "$T/run/bpfd.sock" "$N")
	run_peer
	peer=$(h2rate "$T/peer.sock" "$NPEER")
	ratio=$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.1fx", a / b }')
	printf '%-26s %10s %12s %14s %8s\n' "List, $want test prog(s)" "$progs" "$ours" "$peer" "$ratio"
done
rss_after=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
peer_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PPID_PEER/status")
printf '%-26s %10s %12s %14s %8s\n' "VmRSS idle (kB)" "-" "$rss_idle" "$peer_rss*" \
	"$(awk -v a="$rss_idle" -v b="$peer_rss" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-26s %10s %12s\n' "VmRSS after the runs (kB)" "-" "$rss_after"
echo "(* the grpcio peer's RSS after serving; h2load -c 4 -m 8 over the unix socket;"
echo "   in List = results in the List reply: the test programs and any others in the kernel)"
echo; "$SRC/tests/bench/start.sh" || echo "bench: tests/bench/start.sh failed" >&2
echo
if "$BPFD" --probe --json 2>/dev/null | jq -e '.features.tcx.available' >/dev/null; then
	"$SRC/tests/bench/modify.sh" tcx || echo "bench: tests/bench/modify.sh tcx failed" >&2
else
	echo "(modify bench, tcx: this kernel has no TCX; the xdp one runs with dispatch.sh)"
fi
echo; "$SRC/tests/bench/dispatch.sh" || echo "bench: tests/bench/dispatch.sh failed" >&2
echo; "$SRC/tests/bench/stats.sh" || echo "bench: tests/bench/stats.sh failed" >&2
echo; "$SRC/tests/bench/image.sh" || echo "bench: tests/bench/image.sh failed" >&2
