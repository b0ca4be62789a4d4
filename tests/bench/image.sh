#!/bin/bash
# image.sh - `make bench` rows for bytecode images: bpfctl load-from-image with a warm
# local store (pull policy IfNotPresent: no registry) against load-from-file of the
# same object, tracepoint kind; the median wall time of one bpfctl load over BENCH_LOADS
# loads each (alternating, each unloaded after), goal: image within 1.1x of file.
# Then a cold pull of a 1 MB image from a local docker-registry (bpfctl pull-bytecode
# -p Always into an empty store) against `skopeo copy` of the same image to an OCI dir.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BPFD=${BPFD:-$SRC/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$SRC/build/tests/bpf}
BUILD=${BPFD_BUILD:-$(dirname "$BPFD")}
N=${BENCH_LOADS:-40}
T=$(mktemp -d /tmp/bpfd-bench-image.XXXXXX)
DPID= RPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
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
RPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[runtime]\nimage_dir = "%s/images"\n[registry]\ninsecure = ["127.0.0.1:%s"]\n' "$T" "$RPORT" \
	>"$T/bpfd.toml"
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
	stamp t0
	"$BPFD" bpfctl "$@" -j >"$T/out.json" 2>"$T/err" || die "$*: $(cat "$T/err")"
	stamp t1
	echo $((t1 - t0)) >>"$file"
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

# ---- cold pull of a 1 MB image ----
for t in docker-registry skopeo; do
	command -v $t >/dev/null || { echo "(cold pull: $t is missing, make deps)"; exit 0; }
done
mkdir -p "$T/reg" "$T/big"
cat >"$T/reg.yml" <<Y
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $T/reg
http:
  addr: 127.0.0.1:$RPORT
  secret: not-a-secret-test-only
Y
docker-registry serve "$T/reg.yml" >"$T/reg.log" 2>&1 &
RPID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$RPORT/v2/"; do
	i=$((i + 1))
	[ $i -gt 200 ] && die "docker-registry did not start: $(cat "$T/reg.log")"
	sleep 0.05
done
# a 1 MB object that does not compress, in a layout made by image_put's store format:
# build it in a scratch store, then push that store's blobs as an OCI layout
head -c 1048576 /dev/urandom >"$T/big/big.o"
tar -czf "$T/big.tgz" -C "$T/big" big.o
d=$("$BUILD/tests/tools/image_put" "$T/lay-store" x "$T/big.tgz" \
	application/vnd.oci.image.layer.v1.tar+gzip \
	'"io.ebpf.programs":"{\"big\":\"tracepoint\"}"') || die "image_put"
mkdir -p "$T/layout/blobs"
cp -r "$T/lay-store/blobs/sha256" "$T/layout/blobs/"
printf '{"imageLayoutVersion":"1.0.0"}' >"$T/layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
	"$d" "$(wc -c <"$T/layout/blobs/sha256/${d#sha256:}")" >"$T/layout/index.json"
big=127.0.0.1:$RPORT/bench/big:v1
skopeo copy -q --dest-tls-verify=false "oci:$T/layout:v1" "docker://$big" || die "skopeo push"
: >"$T/pull.us"
: >"$T/skopeo.us"
i=0
while [ $i -lt "${BENCH_PULLS:-10}" ]; do
	"$BPFD" bpfctl images --rm "$big" >/dev/null 2>&1	# cold: nothing of it stored
	stamp t0
	"$BPFD" bpfctl pull-bytecode -i "$big" -p Always >/dev/null || die "pull-bytecode"
	stamp t1
	echo $((t1 - t0)) >>"$T/pull.us"
	rm -rf "$T/copy"
	stamp t0
	skopeo copy -q --src-tls-verify=false "docker://$big" "oci:$T/copy:v1" || die "skopeo copy"
	stamp t1
	echo $((t1 - t0)) >>"$T/skopeo.us"
	i=$((i + 1))
done
p=$(median "$T/pull.us") k=$(median "$T/skopeo.us")
printf '%-36s %12s %8s\n' "cold pull, 1 MB image, ${BENCH_PULLS:-10} each" "median ms" "ratio"
printf '%-36s %12s %8s\n' "bpfctl pull-bytecode -p Always" "$(ms "$p")" "$(ratio "$p" "$k")"
printf '%-36s %12s %8s\n' "skopeo copy (to an OCI dir)" "$(ms "$k")" "1.00x"
echo "(bpfd's pull includes the signature lookup, the sha256 of every blob, the"
echo " image check (labels, layer extracted) and the store's fsyncs)"
