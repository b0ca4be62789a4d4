#!/bin/sh
# dispatch.sh - `make bench`: XDP chains, bpfd against libxdp (Debian's xdp-loader) in
# the same run: the time to load and attach the k-th program (k = 1..10) with bpfctl
# and with `xdp-loader load` (BENCH_LOAD_ROUNDS rounds, the two taking turns), and the
# per-packet cost under BPF_PROG_TEST_RUN (bpftool prog run, large repeat: the kernel
# times the runs) of the program alone (attached, as the dispatchers are), of bpfd's
# dispatcher and of libxdp's dispatcher with the same 1 and 10 members (BENCH_ROUNDS
# rounds; medians, and the ratios within each round as median [min-max]); then modify.sh xdp (re-prioritize one
# member of 10 against unload+load).  Needs freplace: on a host that refuses
# it, it re-runs itself in the VM (tests/vm/vm.sh), whose times are emulated - compare
# the ratios, not the absolute numbers.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
REPEAT=${BENCH_REPEAT:-200000}
OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
die() { echo "bench: dispatch: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

for t in bpftool jq xdp-loader; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
[ -f "$OBJ" ] || die "$OBJ is missing (make all)"

if [ "${BPFD_IN_VM:-0}" != 1 ] &&
   ! "$BPFD" --probe --json 2>/dev/null | jq -e '.features.freplace.available' >/dev/null; then
	echo "dispatch bench: this kernel refuses freplace; running it in the VM (Debian 6.1)"
	shares="--share $SRC"
	for d in "$(dirname "$BPFD")" "$BPFD_TESTBPF"; do
		case $d/ in "$SRC"/*) ;; *) shares="$shares --share $d" ;; esac
	done
	# shellcheck disable=SC2086
	mkdir -p "${BPFD_BUILD:-$SRC/build}/vm"
	exec "$SRC/tests/vm/vm.sh" run --timeout "${VM_TIMEOUT:-1200}" $shares \
		--log "${BPFD_BUILD:-$SRC/build}/vm/bench-dispatch.log" \
		--env BPFD="$BPFD" --env BPFD_TESTBPF="$BPFD_TESTBPF" --env BENCH_REPEAT="$REPEAT" \
		--env BENCH_ROUNDS="${BENCH_ROUNDS:-10}" --env BENCH_LOAD_ROUNDS="${BENCH_LOAD_ROUNDS:-3}" \
		-- "$SRC/tests/bench/dispatch.sh"
fi

T=$(mktemp -d /tmp/bpfd-dbench.XXXXXX)
S=$$
DPID=
LROUNDS=${BENCH_LOAD_ROUNDS:-3}
# db0: bpfd 10 members, db1: bpfd 1 member, db2: libxdp 10, db3: libxdp 1,
# db4: libxdp 10 again, the control (same code twice: the noise of the timer),
# db5: the program alone, attached (so that, like the dispatchers, the kernel calls it
# directly); dl<r>b / dl<r>l: load round r of bpfd / libxdp (round 1 is db0 / db2)
IFACES="db0$S db1$S db2$S db3$S db4$S db5$S"
r=2
while [ $r -le "$LROUNDS" ]; do
	IFACES="$IFACES dl${r}b$S dl${r}l$S"
	r=$((r + 1))
done
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for i in $IFACES; do ip link del "$i" 2>/dev/null; done
	rm -f "/sys/fs/bpf/bpfd-bench-$S"
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
for i in $IFACES; do
	ip link add "$i" type veth peer name "p$i" || die "cannot create veth pairs"
	ip link set "$i" up
	ip link set "p$i" up
done
"$BPFD" --rundir "$T/run" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_sock "$T/run/bpfd.sock" "$T/daemon.log" daemon 400
export BPFD_ENDPOINT="unix://$T/run/bpfd.sock"

ms() { date +%s%N; }
elapsed() { echo $(( ($(ms) - $1) / 1000000 )); }
# median, min and max of the numbers on stdin: "MEDIAN MIN MAX"
stats() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# k-th program: bpfctl (through the daemon) vs xdp-loader (libxdp in the process),
# LROUNDS rounds on fresh interfaces; within a round the two take turns going first.
bload() {	# IFACE K
	s=$(ms)
	"$BPFD" bpfctl load-from-file -p "$OBJ" -n chain_xdp xdp -i "$1" -p $(($2 * 10)) \
		>/dev/null 2>"$T/err" || die "bpfctl load $2 on $1: $(cat "$T/err")"
	echo "$1 $2 $(elapsed "$s")" >>"$T/lb"
}
lload() {	# IFACE K
	s=$(ms)
	xdp-loader load -m native -P $(($2 * 10)) -n chain_xdp "$1" "$OBJ" >"$T/err" 2>&1 ||
		die "xdp-loader load $2 on $1: $(cat "$T/err")"
	echo "$1 $2 $(elapsed "$s")" >>"$T/ll"
}
: >"$T/lb"
: >"$T/ll"
r=1
while [ $r -le "$LROUNDS" ]; do
	if [ $r = 1 ]; then ib=db0$S il=db2$S; else ib=dl${r}b$S il=dl${r}l$S; fi
	for k in 1 2 3 4 5 6 7 8 9 10; do
		if [ $(( (k + r) % 2 )) = 0 ]; then bload "$ib" $k; lload "$il" $k
		else lload "$il" $k; bload "$ib" $k; fi
	done
	r=$((r + 1))
done
printf 'XDP load+attach of the k-th program on one interface (ms, median of %s rounds)\n' \
	"$LROUNDS"
printf '%4s %12s %12s %8s\n' k bpfctl xdp-loader ratio
for k in 1 2 3 4 5 6 7 8 9 10; do
	b=$(awk -v k=$k '$2 == k { print $3 }' "$T/lb" | stats | cut -d' ' -f1)
	l=$(awk -v k=$k '$2 == k { print $3 }' "$T/ll" | stats | cut -d' ' -f1)
	printf '%4s %12s %12s %8s\n' "$k" "$b" "$l" "$(awk -v a="$b" -v b="$l" 'BEGIN { printf "%.2f", a / b }')"
done
# per round: the sums over k and their ratio; the median round, and the spread
awk '{ s[$1] += $3 } END { for (i in s) print i, s[i] }' "$T/lb" | sort >"$T/sb"
awk '{ s[$1] += $3 } END { for (i in s) print i, s[i] }' "$T/ll" | sort >"$T/sl"
paste "$T/sb" "$T/sl" | awk '{ print $2, $4, $2 / $4 }' >"$T/sums"
set -- $(cut -d' ' -f1 "$T/sums" | stats) $(cut -d' ' -f2 "$T/sums" | stats) \
	$(cut -d' ' -f3 "$T/sums" | stats)
printf '%4s %12.0f %12.0f %8.2f   (ratio per round: min %.2f, max %.2f; sums bpfctl %.0f-%.0f, xdp-loader %.0f-%.0f ms)\n' \
	sum "$1" "$4" "$7" "$8" "$9" "$2" "$3" "$5" "$6"
"$BPFD" bpfctl load-from-file -p "$OBJ" -n chain_xdp xdp -i "db1$S" -p 10 >/dev/null ||
	die "bpfctl load on db1"
xdp-loader load -m native -P 10 -n chain_xdp "db3$S" "$OBJ" >/dev/null 2>&1 ||
	die "xdp-loader load on db3"
for k in 1 2 3 4 5 6 7 8 9 10; do
	xdp-loader load -m native -P $((k * 10)) -n chain_xdp "db4$S" "$OBJ" >/dev/null 2>&1 ||
		die "xdp-loader load $k on db4"
done

disp_id() {
	bpftool -j net show dev "$1" | jq -r '.[0].xdp[0].id'
}
# average ns per run of program id $1 over $REPEAT runs (the kernel's own timing of
# BPF_PROG_TEST_RUN: bpftool prints the duration the kernel measured)
ns_once() {
	bpftool prog run id "$1" data_in "$T/pkt" repeat "$REPEAT" 2>&1 |
		sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p'
}
# a 64-byte Ethernet/IPv4 frame
printf '\377\377\377\377\377\377\002\000\000\000\000\001\010\000\105' >"$T/pkt"
head -c 49 /dev/zero >>"$T/pkt"

bpftool prog load "$OBJ" "/sys/fs/bpf/bpfd-bench-$S" type xdp || die "bpftool prog load"
bpftool net attach xdpdrv pinned "/sys/fs/bpf/bpfd-bench-$S" dev "db5$S" ||
	die "bpftool net attach (the program alone)"
ids="$(disp_id "db5$S") $(disp_id "db1$S")"
ids="$ids $(disp_id "db0$S") $(disp_id "db3$S") $(disp_id "db2$S") $(disp_id "db4$S")"
# The cases take turns, ROUNDS times, each round starting one case later than the
# one before (under emulation the case run first in a round measured up to 1.5x
# slower).  Kept: the median of each case, and the ratios taken within each round
# (cases measured seconds apart share the machine's load) as median [min-max].
ROUNDS=${BENCH_ROUNDS:-10}
r=0
: >"$T/times"
order=$ids
while [ $r -lt "$ROUNDS" ]; do
	for id in $order; do
		echo "$r $id $(ns_once "$id")" >>"$T/times"
	done
	order="${order#* } ${order%% *}"
	r=$((r + 1))
done
best() {
	awk -v id="$1" '$2 == id && $3 != "" { print $3 }' "$T/times" | stats | cut -d' ' -f1
}
# per-round ratio of case $1 to case $2: "median [min-max]"
rr() {
	awk -v a="$1" -v b="$2" '$3 != "" { v[$1 " " $2] = $3; r[$1] = 1 }
		END { for (i in r) if (v[i " " a] && v[i " " b]) print v[i " " a] / v[i " " b] }' \
		"$T/times" | stats | awk '{ printf "%.2f [%.2f-%.2f]", $1, $2, $3 }'
}
set -- $ids
alone=$(best "$1") b1=$(best "$2") b10=$(best "$3") l1=$(best "$4") l10=$(best "$5")
c10=$(best "$6")
rb1=$(rr "$2" "$4") rb10=$(rr "$3" "$5") ra1=$(rr "$2" "$1") rc=$(rr "$6" "$5")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\nPer-packet cost, BPF_PROG_TEST_RUN repeat %s (ns per run, median of %s rounds)\n' \
	"$REPEAT" "$ROUNDS"
f='%-22s %8s %8s %11s %10s %12s\n'
printf "$f" case bpfd libxdp bpfd/libxdp bpfd/alone libxdp/alone
printf "$f" "program alone" "$alone" "-" "-" "1.00" "-"
printf "$f" "dispatcher, 1 member" "$b1" "$l1" "$(ratio "$b1" "$l1")" "$(ratio "$b1" "$alone")" \
	"$(ratio "$l1" "$alone")"
printf "$f" "dispatcher, 10 members" "$b10" "$l10" "$(ratio "$b10" "$l10")" \
	"$(ratio "$b10" "$alone")" "$(ratio "$l10" "$alone")"
printf "$f" "control: libxdp again" "-" "$c10" "$(ratio "$c10" "$l10")" "-" "$(ratio "$c10" "$alone")"
echo "(control: a second libxdp chain of 10; its ratio to the first is the noise of this run)"
echo "Ratios within each round, median [min-max] over $ROUNDS rounds:"
echo "  1 member, bpfd/libxdp $rb1; bpfd/alone $ra1"
echo "  10 members, bpfd/libxdp $rb10; control libxdp/libxdp $rc"
# Sizes do not depend on the emulated timer: the 10-member dispatchers side by side.
sz() { bpftool -j prog show id "$1" | jq -r '"\(.bytes_xlated) \(.bytes_jited)"'; }
set -- $(sz "$3") $(sz "$5")
printf '\nDispatcher with 10 members: bpfd xlated %s B, jited %s B; libxdp xlated %s B, jited %s B\n' \
	"$1" "$2" "$3" "$4"
echo
"$SRC/tests/bench/modify.sh" xdp || echo "bench: tests/bench/modify.sh xdp failed" >&2
[ "${BPFD_IN_VM:-0}" = 1 ] && echo "(in the VM: emulated CPU, compare the ratios)"
exit 0
