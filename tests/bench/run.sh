#!/bin/bash
# run.sh - `make bench`: List calls/s over the unix socket with h2load (1 and 100
# programs in the kernel), and the daemon's idle RSS; the peer measured with the same
# h2load command in the same run is a python grpcio server answering the same List
# response (tests/bench/peer.py).  Prints a table with the ratios.  Then start.sh
# (start-up, restart), scale.sh (10 -> 1,000 programs), modify.sh (re-prioritize one member of a
# TCX chain against unload+load), dispatch.sh (XDP chains
# against libxdp, in the VM where the host refuses freplace), stats.sh (the cost of
# run statistics) and image.sh, and last a summary: every row of issue 14's table with
# this run's figure, the peer's and the goal, and the machine (paste it into the
# README's "Performance" section).
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
	list_ours=$ours list_peer=$peer
done
rss_after=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
peer_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PPID_PEER/status")
printf '%-26s %10s %12s %14s %8s\n' "VmRSS idle (kB)" "-" "$rss_idle" "$peer_rss*" \
	"$(awk -v a="$rss_idle" -v b="$peer_rss" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-26s %10s %12s\n' "VmRSS after the runs (kB)" "-" "$rss_after"
echo "(* the grpcio peer's RSS after serving; h2load -c 4 -m 8 over the unix socket;"
echo "   in List = results in the List reply: the test programs and any others in the kernel)"
kill "$DPID" && wait "$DPID" 2>/dev/null; DPID=	# the others run their own daemons

# part NAME: run tests/bench/NAME.sh, show its output, keep it for the summary
# (BENCH_SKIP="dispatch scale": parts left out, e.g. on a machine without the VM)
part() {
	echo
	case " ${BENCH_SKIP:-} " in *" $1 "*) echo "(tests/bench/$1.sh skipped: BENCH_SKIP)"; return ;; esac
	"$SRC/tests/bench/$1.sh" >"$T/$1.out" 2>&1 || echo "bench: tests/bench/$1.sh failed" >>"$T/$1.out"
	cat "$T/$1.out"
}
part start
echo
if "$BPFD" --probe --json 2>/dev/null | jq -e '.features.tcx.available' >/dev/null; then
	"$SRC/tests/bench/modify.sh" tcx || echo "bench: tests/bench/modify.sh tcx failed" >&2
else
	echo "(modify bench, tcx: this kernel has no TCX; the xdp one runs with dispatch.sh)"
fi
part scale
part dispatch
part stats
part image

# The summary: every row of issue 14's table, this run's figure, the peer's
# measured in the same run where there is one, and the goal.
# val FILE PATTERN FIELD: field FIELD (awk: $N or NF-based) of the line matching PATTERN
val() { [ -f "$T/$1.out" ] && awk -v p="$2" '$0 ~ p { print '"$3"'; exit }' "$T/$1.out"; }
strip -o "$T/bpfd.stripped" "$BPFD"
# MB = 1,000,000 bytes (the stricter reading of the goal; tests/lint/size.sh holds the budget)
size_mb=$(stat -c %s "$T/bpfd.stripped" | awk '{ printf "%.2f", $1 / 1000000 }')
s_warm=$(val start 'probe cached' '$(NF-1)')
s_64=$(val start 'restart with 64' '$(NF-1)')
d_b=$(val dispatch '^ *sum ' '$2') d_l=$(val dispatch '^ *sum ' '$3') d_r=$(val dispatch '^ *sum ' '$4')
p1=$(val dispatch '^dispatcher, 1 member' '$6') p1a=$(val dispatch '^dispatcher, 1 member' '$7')
p10=$(val dispatch '^dispatcher, 10 members' '$6')
p10f=$(val dispatch '^floor: least dispatcher' '$6')
rss_1k=$(val scale '^ *1000 ' '$4')
# ok VALUE OP GOAL: "yes" or "NO" ("-" without a figure)
ok() { awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN { if (v == "" || v == "-") { print "-"; exit }
	r = (op == "<=") ? v + 0 <= g + 0 : v + 0 >= g + 0; print r ? "yes" : "NO" }'; }
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
f='%-46s %12s %18s %14s %4s\n'
echo
echo "Issue 14's goals: this run (peers measured in the same run)"
printf "$f" what bpfd peer goal met
printf "$f" "daemon start to socket ready, probe cached" "${s_warm:--} ms" - "<= 20 ms" "$(ok "$s_warm" '<=' 20)"
printf "$f" "restart with 64 programs to ready" "${s_64:--} ms" - "<= 50 ms" "$(ok "$s_64" '<=' 50)"
printf "$f" "load+attach of XDP k=1..10, sum (VM)" "${d_b:--} ms" "xdp-loader ${d_l:--}" "<= 0.5x" ""
printf "$f" "  ratio bpfctl / xdp-loader" "${d_r:--}x" - "<= 0.5x" "$(ok "$d_r" '<=' 0.5)"
printf "$f" "per-packet, dispatcher of 1, bpfd/libxdp (VM)" "${p1:--}x" libxdp "<= 1.0x" "$(ok "$p1" '<=' 1.0)"
printf "$f" "  bpfd's dispatcher of 1 / program alone" "${p1a:--}x" - "<= 1.3x" "$(ok "$p1a" '<=' 1.3)"
printf "$f" "per-packet, dispatcher of 10, bpfd/libxdp (VM)" "${p10:--}x" libxdp "<= 0.8x" "$(ok "$p10" '<=' 0.8)"
printf "$f" "  floor: least dispatcher of 10 / libxdp" "${p10f:--}x" - "(no goal)" ""
printf "$f" "List, 100 programs, unix socket (calls/s)" "${list_ours:--}" "grpcio ${list_peer:--}" ">= 26000" \
	"$(ok "$list_ours" '>=' 26000)"
printf "$f" "stripped binary" "$size_mb MB" - "<= 3 MB" "$(ok "$size_mb" '<=' 3)"
printf "$f" "daemon RSS idle" "$(mb "$rss_idle") MB" "grpcio $(mb "$peer_rss")" "<= 4 MB" \
	"$(ok "$(mb "$rss_idle")" '<=' 4)"
printf "$f" "daemon RSS with 1,000 programs" "$(mb "$rss_1k") MB" - "<= 16 MB" \
	"$(ok "$(mb "$rss_1k")" '<=' 16)"
echo "(floor: about the least a dispatcher of the libxdp protocol can cost; dispatch.sh above)"
echo "(scale: tests/bench/scale.sh above; '-': that part did not run or failed, see above)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
	"kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
