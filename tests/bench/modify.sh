#!/bin/bash
# modify.sh KIND - `make bench`: re-prioritize one member of a 10-program chain of KIND
# (xdp: a dispatcher chain, needs freplace; tcx: kernel 6.6+) with `bpfctl modify`
# against what it replaces, `bpfctl unload` + `bpfctl load-from-file` of that member at
# the new priority; each move takes the member from the front of the chain to the
# back or back again.  Milliseconds per move, the mean of ROUNDS moves each, taking
# turns.  Run by run.sh (tcx, on the host) and dispatch.sh (xdp, where chains work).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
KIND=${1:-tcx}
ROUNDS=${BENCH_MODIFY_ROUNDS:-20}
die() { echo "bench: modify: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

T=$(mktemp -d /tmp/bpfd-mbench.XXXXXX)
S=$$
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	ip link del "mb$S" 2>/dev/null
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $KIND in
xdp) OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o" FN=chain_xdp ARGS= ;;
tcx) OBJ="$BPFD_TESTBPF/chain_tc.bpf.o" FN=chain_tc ARGS="-d ingress" ;;
*) die "KIND is xdp or tcx" ;;
esac
[ -f "$OBJ" ] || die "$OBJ is missing (make all)"
ip link add "mb$S" type veth peer name "mp$S" || die "cannot create a veth pair"
ip link set "mb$S" up
"$BPFD" --rundir "$T/run" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_sock "$T/run/bpfd.sock" "$T/daemon.log" daemon 400
export BPFD_ENDPOINT="unix://$T/run/bpfd.sock"
ctl() { "$BPFD" bpfctl "$@"; }
load() {	# PRIORITY -> id
	# shellcheck disable=SC2086
	ctl load-from-file -o json -p "$OBJ" -n "$FN" "$KIND" -i "mb$S" $ARGS -p "$1" \
		>"$T/out" 2>&1 || die "load: $(cat "$T/out")"
	jq -r .kernel_info.id "$T/out"
}

for p in 10 20 30 40 50 60 70 80; do load "$p" >/dev/null; done
m=$(load 100)	# moved by modify
u=$(load 101)	# moved by unload + load
tm=0 tu=0 r=0
while [ $r -lt "$ROUNDS" ]; do
	# front (5) and back (105) in turn
	if [ $((r % 2)) = 0 ]; then pm=5 pu=6; else pm=105 pu=106; fi
	stamp s
	ctl modify "$m" -p "$pm" >"$T/out" 2>&1 || die "modify: $(cat "$T/out")"
	stamp e
	tm=$((tm + e - s))
	stamp s
	ctl unload "$u" >"$T/out" 2>&1 || die "unload: $(cat "$T/out")"
	u=$(load "$pu")
	stamp e
	tu=$((tu + e - s))
	r=$((r + 1))
done
n=$(ctl list -o json | jq length)
[ "$n" = 10 ] || die "$n programs at the end, want 10"
printf '%-44s %10s %14s %8s\n' "re-prioritize 1 member of a chain (ms/move)" modify \
	"unload+load" ratio
awk -v k="$KIND" -v a="$tm" -v b="$tu" -v r="$ROUNDS" 'BEGIN {
	printf "%-44s %10.1f %14.1f %8.2f\n", k ", 10 members, front <-> back", a / r / 1e3,
		b / r / 1e3, a / b }'
echo "(each a bpfctl process and one call; unload+load: two processes, the ELF parsed"
echo " and the program verified again, and a new program id)"
