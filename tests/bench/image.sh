#!/bin/sh
# image.sh - `make bench` rows for bytecode images: bpfctl load-from-image with a warm
# local store (pull policy IfNotPresent: no registry) against load-from-file of the
# same object, tracepoint kind; the median wall time of one bpfctl load over BENCH_LOADS
# loads each (alternating, each unloaded after), goal: image within 1.1x of file.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
BUILD=${BPFD_BUILD:-$(dirname "$BPFD")}
N=${BENCH_LOADS:-40}
T=$(mktemp -d /tmp/bpfd-bench-image.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	umount -l "$T/run/fs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
die() { echo "bench: $*" >&2; exit 1; }
. "$SRC/tests/bench/lib.sh"

obj="$BPFD_TESTBPF/prog_counter.bpf.o"
[ -f "$obj" ] || die "$obj is missing (make all)"
[ -x "$BUILD/tests/tools/image_put" ] || die "tests/tools/image_put is missing (make bench builds it)"
mkdir -p "$T/src"
cp "$obj" "$T/src/counter.o"
tar -czf "$T/layer.tgz" -C "$T/src" counter.o
printf '[runtime]\nimage_dir = "%s/images"\n' "$T" >"$T/bpfd.toml"
ref=localhost:5000/bench/counter:v1
"$BUILD/tests/tools/image_put" "$T/images" "$ref" "$T/layer.tgz" \
	application/vnd.oci.image.layer.v1.tar+gzip \
	'"io.ebpf.programs":"{\"tp_count\":\"tracepoint\"}"' >/dev/null || die "image_put"
"$BPFD" --config "$T/bpfd.toml" --rundir "$T/run" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_sock "$T/run/bpfd.sock" "$T/daemon.log" daemon 200
export BPFD_ENDPOINT="unix://$T/run/bpfd.sock"

# one load of KIND ARGS; its wall time in microseconds appended to FILE; then unload
load_once() {
	file=$1
	shift
	t0=$(date +%s%N)
	"$BPFD" bpfctl "$@" -j >"$T/out.json" 2>"$T/err" || die "$*: $(cat "$T/err")"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$file"
	id=$(sed -n 's/.*"id":[[:space:]]*\([0-9]*\).*/\1/p' "$T/out.json" | head -n 1)
	[ -n "$id" ] || die "no program id in: $(cat "$T/out.json")"
	"$BPFD" bpfctl unload "$id" || die "unload $id"
}

tp="tracepoint -t syscalls/sys_enter_getppid"
: >"$T/file.us"
: >"$T/image.us"
i=0
while [ $i -lt "$N" ]; do
	load_once "$T/file.us" load-from-file -p "$obj" -n tp_count $tp
	load_once "$T/image.us" load-from-image -i "$ref" $tp
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
least() { sort -n "$1" | head -n 1; }
ms() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
f=$(median "$T/file.us") fl=$(least "$T/file.us")
m=$(median "$T/image.us") ml=$(least "$T/image.us")
printf '%-36s %12s %8s %12s %8s\n' "load (tracepoint), $N each" "median ms" "ratio" "fastest ms" "ratio"
printf '%-36s %12s %8s %12s %8s\n' "load-from-file" "$(ms "$f")" "1.00x" "$(ms "$fl")" "1.00x"
printf '%-36s %12s %8s %12s %8s\n' "load-from-image, warm store" "$(ms "$m")" "$(ratio "$m" "$f")" \
	"$(ms "$ml")" "$(ratio "$ml" "$fl")"
echo "(wall time of one bpfctl run, process start included, alternating file and image;"
echo " goal: image <= 1.1x file; on a busy machine the fastest run is the steadier figure)"
