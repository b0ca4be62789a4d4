#!/bin/bash
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
REPEAT=${BENCH_REPEAT:-50000}
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
		--env BENCH_ROUNDS="${BENCH_ROUNDS:-15}" --env BENCH_LOAD_ROUNDS="${BENCH_LOAD_ROUNDS:-3}" \
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

# ms since stamp $1 was taken (lib.sh)
elapsed() {
	local now
	stamp now
	echo $(( (now - $1) / 1000 ))
}
# median, min and max of the numbers on stdin: "MEDIAN MIN MAX"
stats() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# k-th program: bpfctl (through the daemon) vs xdp-loader (libxdp in the process),
# LROUNDS rounds on fresh interfaces; within a round the two take turns going first.
bload() {	# IFACE K
	stamp s
	"$BPFD" bpfctl load-from-file -p "$OBJ" -n chain_xdp xdp -i "$1" -p $(($2 * 10)) \
		>/dev/null 2>"$T/err" || die "bpfctl load $2 on $1: $(cat "$T/err")"
	echo "$1 $2 $(elapsed "$s")" >>"$T/lb"
}
lload() {	# IFACE K
	stamp s
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
# The two cases of each comparison take turns, ROUNDS times (which goes first swaps
# every round): a ratio per round from two runs made a moment apart, on a machine
# whose load changes by the second.  Reported: the median case times and, per
# comparison, the median ratio with its interquartile range [25%-75%].
ROUNDS=${BENCH_ROUNDS:-15}
: >"$T/times"
pair() {	# NAME ID_A ID_B: ROUNDS ratios A/B into $T/ratio-NAME
	: >"$T/ratio-$1"
	_r=0
	while [ $_r -lt "$ROUNDS" ]; do
		if [ $((_r % 2)) = 0 ]; then a=$(ns_once "$2"); b=$(ns_once "$3")
		else b=$(ns_once "$3"); a=$(ns_once "$2"); fi
		echo "$2 $a" >>"$T/times"
		echo "$3 $b" >>"$T/times"
		[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt 0 ] &&
			awk -v a="$a" -v b="$b" 'BEGIN { print a / b }' >>"$T/ratio-$1"
		_r=$((_r + 1))
	done
}
# median [p25-p75] of the ratios of comparison NAME
rr() {
	sort -g "$T/ratio-$1" | awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
		q = int((NR + 3) / 4); h = NR - q + 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f [%.2f-%.2f]\n", m, v[q], v[h] }'
}
best() {
	awk -v id="$1" '$1 == id && $2 != "" { print $2 }' "$T/times" | stats | cut -d' ' -f1
}
set -- $ids
pair b1l1 "$2" "$4"
pair b1alone "$2" "$1"
pair l1alone "$4" "$1"
pair b10l10 "$3" "$5"
pair c10l10 "$6" "$5"
alone=$(best "$1") b1=$(best "$2") b10=$(best "$3") l1=$(best "$4") l10=$(best "$5")
c10=$(best "$6")
med() { rr "$1" | cut -d' ' -f1; }
printf '\nPer-packet cost, BPF_PROG_TEST_RUN repeat %s (ns per run: medians; ratios: median of %s\n' \
	"$REPEAT" "$ROUNDS"
echo "rounds of the two cases run in turn, [interquartile range])"
f='%-22s %8s %8s %11s %10s %12s   %s\n'
printf "$f" case bpfd libxdp bpfd/libxdp bpfd/alone libxdp/alone "spread of bpfd/libxdp, bpfd/alone"
printf "$f" "program alone" "$alone" "-" "-" "1.00" "-" ""
printf "$f" "dispatcher, 1 member" "$b1" "$l1" "$(med b1l1)" "$(med b1alone)" "$(med l1alone)" \
	"$(rr b1l1 | cut -d' ' -f2), $(rr b1alone | cut -d' ' -f2)"
printf "$f" "dispatcher, 10 members" "$b10" "$l10" "$(med b10l10)" "-" "-" "$(rr b10l10 | cut -d' ' -f2)"
printf "$f" "control: libxdp again" "-" "$c10" "$(med c10l10)" "-" "-" "$(rr c10l10 | cut -d' ' -f2)"
echo "(control: a second libxdp chain of 10 against the first; its ratio is the noise of this run)"
# Sizes do not depend on the emulated timer: the 10-member dispatchers side by side.
sz() { bpftool -j prog show id "$1" | jq -r '"\(.bytes_xlated) \(.bytes_jited)"'; }
set -- $(sz "$3") $(sz "$5")
printf '\nDispatcher with 10 members: bpfd xlated %s B, jited %s B; libxdp xlated %s B, jited %s B\n' \
	"$1" "$2" "$3" "$4"
echo
"$SRC/tests/bench/modify.sh" xdp || echo "bench: tests/bench/modify.sh xdp failed" >&2
[ "${BPFD_IN_VM:-0}" = 1 ] && echo "(in the VM: emulated CPU, compare the ratios)"
exit 0
