#!/bin/sh
# t_image_chain.sh - XDP and TC dispatcher chains whose members come from bytecode
# images: two XDP and two TC members loaded with load-from-image from the daemon's
# local store (put there by tests/tools/image_put as a pull leaves it; pull policy
# Never, no registry), ordered by priority, proven to run on real traffic (ping
# through a veth pair), each showing its image; unloaded, nothing left.  Chains need
# freplace: on a kernel that refuses it (the host) the tests skip; they run in the VM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/chain_lib.sh"

IMAGE_PUT=${BPFD_BUILD:-$(dirname "$BPFD")}/tests/tools/image_put
GZ=application/vnd.oci.image.layer.v1.tar+gzip
XDP_PASS=2 TC_PIPE=3

# img_setup: a private image store with the chain objects, and the daemon's
# configuration naming it ($IMG_CFG); before chain_setup (which moves T_TMP).
img_setup() {
	[ -x "$IMAGE_PUT" ] || skip "tests/tools/image_put is not built (make check-integration)"
	[ -f "$XDP_OBJ" ] || skip "chain test objects not built ($XDP_OBJ)"
	s=$(mktemp -d "$T_TMP/img.XXXXXX")
	mkdir "$s/x" "$s/t"
	cp "$XDP_OBJ" "$s/x/chain.o"
	cp "$TC_OBJ" "$s/t/chain.o"
	tar -czf "$s/x.tgz" -C "$s/x" chain.o && tar -czf "$s/t.tgz" -C "$s/t" chain.o ||
		fail "tar"
	XIMG=chain.test/bpf/xdp:v1
	TIMG=chain.test/bpf/tc:v1
	"$IMAGE_PUT" "$s/store" "$XIMG" "$s/x.tgz" "$GZ" \
		'"io.ebpf.programs":"{\"chain_xdp\":\"xdp\",\"chain_xdp_a\":\"xdp\",\"chain_xdp_b\":\"xdp\"}","io.ebpf.maps":"{\"counter\":\"array\"}"' \
		>"$s/put.out" 2>&1 || fail "image_put xdp: $(cat "$s/put.out")"
	XDIG=$(cat "$s/put.out")
	"$IMAGE_PUT" "$s/store" "$TIMG" "$s/t.tgz" "$GZ" \
		'"io.ebpf.programs":"{\"chain_tc\":\"tc\"}","io.ebpf.maps":"{\"counter\":\"array\"}"' \
		>"$s/put.out" 2>&1 || fail "image_put tc: $(cat "$s/put.out")"
	TDIG=$(cat "$s/put.out")
	IMG_CFG=$s/bpfd.toml
	printf '[runtime]\nimage_dir = "%s"\n' "$s/store" >"$IMG_CFG"
}

# iload IMAGE FUNCTION VERDICT KIND-ARGS... -> program id
iload() {
	_i=$1 _fn=$2 _v=$3
	shift 3
	f=$(mktemp "$T_TMP/load.XXXXXX")
	ctl load-from-image -o json -i "$_i" -p Never -n "$_fn" -g "verdict=$(verdict_hex "$_v")" \
		"$@" >"$f" 2>"$f.err" || fail "load-from-image $_i $*: $(cat "$f" "$f.err")"
	jq -r '.kernel_info.id' "$f"
}

# the program's image and digest as bpfctl get shows them
want_image() {
	ctl get "$1" >"$T_TMP/get.$1" || fail "get $1"
	grep -q "Image URL:[[:space:]]*$2\$" "$T_TMP/get.$1" || fail "program $1: $(cat "$T_TMP/get.$1")"
	grep -q "Image Digest:[[:space:]]*$3\$" "$T_TMP/get.$1" || fail "program $1: $(cat "$T_TMP/get.$1")"
}

# chain_runs KIND IMAGE DIGEST PINGS A B: A before B in a dispatcher chain, both from
# IMAGE, each sees every one of PINGS pings
chain_runs() {
	want_order "$5" "$6"
	[ "$(attach_mode "$5")" = dispatcher ] || fail "attach mode $(attach_mode "$5")"
	want_image "$5" "$2" "$3"
	want_image "$6" "$2" "$3"
	ping_if "$4" must
	for p in $5 $6; do
		n=$(pcount "$p")
		[ "$n" -ge "$4" ] || fail "program $p counted $n packets, want >= $4"
		echo "  $1 member $p (from $2) counted $n"
	done
}

test_xdp_chain_from_image() {
	img_setup
	chain_setup -c "$IMG_CFG"
	need_chains
	b=$(iload "$XIMG" chain_xdp_b $XDP_PASS xdp -i "$IF" -p 100)
	a=$(iload "$XIMG" chain_xdp_a $XDP_PASS xdp -i "$IF" -p 50)
	chain_runs XDP "$XIMG" "$XDIG" 5 "$a" "$b"
	for p in $a $b; do ctl unload "$p" || fail "unload $p"; done
	[ -z "$(xdp_dirs)" ] || fail "pins left: $(xdp_dirs)"
	ip link show dev "$IF" | grep -q xdp && fail "XDP still attached"
	no_extraction_left || fail "extracted objects left: $(ls "$BPFD_RUNDIR/images")"
}

test_tc_chain_from_image() {
	img_setup
	chain_setup -c "$IMG_CFG"
	need_chains
	b=$(iload "$TIMG" chain_tc $TC_PIPE tc -i "$IF" -d ingress -p 100)
	a=$(iload "$TIMG" chain_tc $TC_PIPE tc -i "$IF" -d ingress -p 50)
	tc filter show dev "$IF" ingress | grep -q "tc_dispatcher" ||
		fail "no dispatcher filter: $(tc filter show dev "$IF" ingress)"
	chain_runs TC "$TIMG" "$TDIG" 4 "$a" "$b"
	for p in $b $a; do ctl unload "$p" || fail "unload $p"; done
	tc qdisc show dev "$IF" | grep -q clsact && fail "clsact left behind"
	return 0
}

run_tests image_chain test_xdp_chain_from_image test_tc_chain_from_image
