#!/bin/bash
# dispatch.sh - `make bench`: XDP chains, bpfd against libxdp (Debian's xdp-loader) in
# the same run: the time to load and attach the k-th program (k = 1..10) with bpfctl
# and with `xdp-loader load` (BENCH_LOAD_ROUNDS rounds, the two taking turns), and the
# per-packet cost under BPF_PROG_TEST_RUN (bpftool prog run, large repeat: the kernel
# times the runs) of the program alone (attached, as the dispatchers are), of bpfd's
# dispatcher and of libxdp's dispatcher with the same 1 and 10 members (BENCH_CHAINS
# chains per case, BENCH_ROUNDS rounds; medians, and the ratios of the rounds as
# median [interquartile range]); and the floors under a 10-member chain: the same ten
# bodies in one program with no dispatcher (tests/bpf/chain_floor_xdp.bpf.c), and the
# least dispatcher of the libxdp protocol with the same ten members
# (tests/bpf/chain_floor_disp.bpf.c, loaded by tests/tools/chain_floor); then
# modify.sh xdp (re-prioritize one member of 10
# against unload+load).  Needs freplace: on a host that refuses
# it, it re-runs itself in the VM (tests/vm/vm.sh), whose times are emulated - compare
# the ratios, not the absolute numbers.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
REPEAT=${BENCH_REPEAT:-50000}
OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
FLOOR="$BPFD_TESTBPF/chain_floor_xdp.bpf.o"
FLOOR_DISP="$BPFD_TESTBPF/chain_floor_disp.bpf.o"
FLOOR_TOOL=${BPFD_BUILD:-$(dirname "$BPFD")}/tests/tools/chain_floor
die() { echo "bench: dispatch: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

for t in bpftool jq xdp-loader; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
for f in "$OBJ" "$FLOOR" "$FLOOR_DISP" "$FLOOR_TOOL"; do
	[ -f "$f" ] || die "$f is missing (make all)"
done

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
		--env BENCH_ROUNDS="${BENCH_ROUNDS:-5}" \
		--env BENCH_CHAINS="${BENCH_CHAINS:-10}" --env BENCH_LOAD_ROUNDS="${BENCH_LOAD_ROUNDS:-3}" \
		-- "$SRC/tests/bench/dispatch.sh"
fi

T=$(mktemp -d /tmp/bpfd-dbench.XXXXXX)
S=$$
DPID=
LROUNDS=${BENCH_LOAD_ROUNDS:-3}
# load round r of bpfd / libxdp: dl<r>b / dl<r>l (round 1: db0 / db2); the chains
# of the per-packet part below are made there
IFACES="db0$S db2$S"
r=2
while [ $r -le "$LROUNDS" ]; do
	IFACES="$IFACES dl${r}b$S dl${r}l$S"
	r=$((r + 1))
done
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for i in $IFACES; do ip link del "$i" 2>/dev/null; done
	rm -rf "/sys/fs/bpf/bpfd-bench-$S"-*
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

# Per-packet chains: under emulation the cost of the same code changes by up to a
# third with where the kernel happens to place the JIT images (chains of identical
# programs built by the same loader differ that much), so each case is CHAINS chains
# built side by side, not one: bpfd's (pb<j>), libxdp's (pl<j>) and libxdp's again
# (pc<j>, the control), 10 members each, loaded k = 1..10 in turn; 1 member: bpfd
# (ob<j>), libxdp (ol<j>), and the program alone (oa<j>, attached so that, like the
# dispatchers, the kernel calls it directly).  The floor: ten bodies inline (ni<j>)
# and ten bodies each a function called in turn (nc<j>), attached the same way; the
# least dispatcher with ten members (nd<j>), loaded before bpfd's and libxdp's chains.
CHAINS=${BENCH_CHAINS:-10}
j=1
while [ $j -le "$CHAINS" ]; do
	for i in pb pl pc ob ol oa ni nc nd; do
		ip link add "$i$j$S" type veth peer name "p$i$j$S" || die "cannot create veth pairs"
		IFACES="$IFACES $i$j$S"
		ip link set "$i$j$S" up
		ip link set "p$i$j$S" up
	done
	j=$((j + 1))
done
j=1
while [ $j -le "$CHAINS" ]; do
	"$FLOOR_TOOL" "$FLOOR_DISP" "$OBJ" chain_xdp 10 "/sys/fs/bpf/bpfd-bench-$S-d$j" \
		"nd$j$S" >/dev/null 2>"$T/err" || die "chain_floor on nd$j$S: $(cat "$T/err")"
	j=$((j + 1))
done
k=1
while [ $k -le 10 ]; do
	j=1
	while [ $j -le "$CHAINS" ]; do
		# which of the three loads first turns with j: where the images land
		# depends on the order of the loads
		case $((j % 3)) in
		0) order="pb pl pc" ;;
		1) order="pl pc pb" ;;
		*) order="pc pb pl" ;;
		esac
		for i in $order; do
			if [ "$i" = pb ]; then
				"$BPFD" bpfctl load-from-file -p "$OBJ" -n chain_xdp xdp -i "pb$j$S" \
					-p $((k * 10)) >/dev/null 2>"$T/err" ||
					die "bpfctl load $k on pb$j$S: $(cat "$T/err")"
			else
				xdp-loader load -m native -P $((k * 10)) -n chain_xdp "$i$j$S" "$OBJ" \
					>"$T/err" 2>&1 || die "xdp-loader load $k on $i$j$S: $(cat "$T/err")"
			fi
		done
		j=$((j + 1))
	done
	k=$((k + 1))
done
j=1
while [ $j -le "$CHAINS" ]; do
	"$BPFD" bpfctl load-from-file -p "$OBJ" -n chain_xdp xdp -i "ob$j$S" -p 10 >/dev/null ||
		die "bpfctl load on ob$j$S"
	xdp-loader load -m native -P 10 -n chain_xdp "ol$j$S" "$OBJ" >/dev/null 2>&1 ||
		die "xdp-loader load on ol$j$S"
	bpftool prog load "$OBJ" "/sys/fs/bpf/bpfd-bench-$S-$j" type xdp || die "bpftool prog load"
	bpftool net attach xdpdrv pinned "/sys/fs/bpf/bpfd-bench-$S-$j" dev "oa$j$S" ||
		die "bpftool net attach (the program alone)"
	f=/sys/fs/bpf/bpfd-bench-$S-f$j
	bpftool prog loadall "$FLOOR" "$f" type xdp || die "bpftool prog loadall $FLOOR"
	bpftool net attach xdpdrv pinned "$f/floor_inline" dev "ni$j$S" &&
		bpftool net attach xdpdrv pinned "$f/floor_calls" dev "nc$j$S" ||
		die "bpftool net attach (the floor)"
	j=$((j + 1))
done
# $T/ids: "CASE ID" per chain
: >"$T/ids"
j=1
while [ $j -le "$CHAINS" ]; do
	for i in pb pl pc ob ol oa ni nc nd; do
		echo "$i $(disp_id "$i$j$S")" >>"$T/ids"
	done
	j=$((j + 1))
done

# ROUNDS rounds; in each, every chain runs once (the order turns by one chain each
# round) and each case's time is the mean over its chains.  Reported: per case the
# median of the round means, and per comparison the median of the rounds' ratios with
# their interquartile range [25%-75%]; and the spread of the chains themselves.
ROUNDS=${BENCH_ROUNDS:-5}
: >"$T/times"
n=$(wc -l <"$T/ids")
r=0
while [ $r -lt "$ROUNDS" ]; do
	awk -v r=$r -v n="$n" '{ l[NR - 1] = $0 } END { for (i = 0; i < n; i++) print l[(i + r) % n] }' \
		"$T/ids" >"$T/order"
	while read -r c id; do
		echo "$r $c $id $(ns_once "$id")" >>"$T/times"
	done <"$T/order"
	r=$((r + 1))
done
# mean per round and case: "ROUND CASE MEAN"
awk 'NF == 4 { s[$1 " " $2] += $4; n[$1 " " $2]++ }
	END { for (k in s) print k, s[k] / n[k] }' "$T/times" | sort >"$T/means"
# ratios A/B of the round means, median [p25-p75]
rr() {
	awk -v a="$1" -v b="$2" '$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 }
		END { for (r in x) if (y[r] > 0) print x[r] / y[r] }' "$T/means" | sort -g |
	awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
		q = int((NR + 3) / 4); h = NR - q + 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f [%.2f-%.2f]\n", m, v[q], v[h] }'
}
med() { rr "$1" "$2" | cut -d' ' -f1; }
iqr() { rr "$1" "$2" | cut -d' ' -f2; }
best() {
	awk -v c="$1" '$2 == c { print $3 }' "$T/means" | stats | cut -d' ' -f1 |
		awk '{ printf "%.0f", $1 }'
}
# per chain of a case: its median over the rounds, "ns ns ..."
chains() {
	awk -v c="$1" '$2 == c && NF == 4 { print $3, $4 }' "$T/times" | sort -k1,1n -k2,2n |
	awk '{ if ($1 != id) { if (id != "") out = out " " med(v, n); id = $1; n = 0 } v[++n] = $2 }
		function med(v, n) { return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
		END { if (id != "") out = out " " med(v, n); sub(/^ /, "", out); print out }'
}
printf '\nPer-packet cost, BPF_PROG_TEST_RUN repeat %s, %s chains per case (ns per run:\n' \
	"$REPEAT" "$CHAINS"
echo "median of $ROUNDS rounds of the chains' mean; ratios: median of the rounds, [interquartile range])"
f='%-22s %8s %8s %11s %10s %12s   %s\n'
printf "$f" case bpfd libxdp bpfd/libxdp bpfd/alone libxdp/alone "spread of bpfd/libxdp, bpfd/alone"
printf "$f" "program alone" "$(best oa)" "-" "-" "1.00" "-" ""
printf "$f" "dispatcher, 1 member" "$(best ob)" "$(best ol)" "$(med ob ol)" "$(med ob oa)" \
	"$(med ol oa)" "$(iqr ob ol), $(iqr ob oa)"
printf "$f" "dispatcher, 10 members" "$(best pb)" "$(best pl)" "$(med pb pl)" "-" "-" "$(iqr pb pl)"
printf "$f" "control: libxdp again" "-" "$(best pc)" "$(med pc pl)" "-" "-" "$(iqr pc pl)"
printf "$f" "floor: 10 bodies inline" "$(best ni)" "-" "$(med ni pl)" "-" "-" "$(iqr ni pl)"
printf "$f" "floor: 10 bodies called" "$(best nc)" "-" "$(med nc pl)" "-" "-" "$(iqr nc pl)"
printf "$f" "floor: least dispatcher" "$(best nd)" "-" "$(med nd pl)" "-" "-" "$(iqr nd pl)"
echo "(control: other libxdp chains of 10 against the first ones; its ratio is the noise of this run)"
echo "(floor: the ten members' bodies in one program and no dispatcher, inline or each a"
echo " function called in turn: a dispatcher runs the same bodies with more between them;"
echo " least dispatcher: the same ten members as extensions of ten slots, called in turn,"
echo " stopping at the first verdict other than XDP_PASS - no config, no masks: a dispatcher"
echo " of the libxdp protocol has at least that.  A floor's ratio to libxdp is about the"
echo " least that kind of chain's can be; under the emulator it moves with where the JIT"
echo " images land, as the chains' own figures do)"
echo "Each chain's median ns (the spread is where the JIT images landed):"
echo "  10 members: bpfd $(chains pb); libxdp $(chains pl); control $(chains pc)"
echo "  1 member: bpfd $(chains ob); libxdp $(chains ol); program alone $(chains oa)"
echo "  floor: inline $(chains ni); called $(chains nc); least dispatcher $(chains nd)"
set -- $(awk '$1 == "pb" { print $2; exit }' "$T/ids") $(awk '$1 == "pl" { print $2; exit }' "$T/ids")
# Sizes do not depend on the emulated timer: the 10-member dispatchers side by side.
sz() { bpftool -j prog show id "$1" | jq -r '"\(.bytes_xlated) \(.bytes_jited)"'; }
set -- $(sz "$1") $(sz "$2")
printf '\nDispatcher with 10 members: bpfd xlated %s B, jited %s B; libxdp xlated %s B, jited %s B\n' \
	"$1" "$2" "$3" "$4"
echo
"$SRC/tests/bench/modify.sh" xdp || echo "bench: tests/bench/modify.sh xdp failed" >&2
[ "${BPFD_IN_VM:-0}" = 1 ] && echo "(in the VM: emulated CPU, compare the ratios)"
exit 0
