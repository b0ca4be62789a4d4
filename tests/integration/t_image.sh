#!/bin/sh
# t_image.sh - load-from-image: programs from eBPF bytecode images in the daemon's local
# store (put there by tests/tools/image_put as a pull leaves it; pull policy
# IfNotPresent and Never need no registry), proven to run for tracepoint, uprobe, TCX
# and single XDP; the function from the labels; a kind the label contradicts; Never
# without the image; Always with no registry listening (t_image_registry.sh: a real one); hostile or broken images refused with
# a clear error and nothing changed in the kernel, bpffs or the store (an image with a
# layer media type bpfd does not read cannot even be stored: test_image_object,
# test_image_store); the store listed and pruned; the extraction kept between loads
# and checked; credentials never in records, logs or replies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

IMAGE_PUT=${BPFD_BUILD:-$(dirname "$BPFD")}/tests/tools/image_put
IMG_DIR=$PROG_TOP/images
GZ=application/vnd.oci.image.layer.v1.tar+gzip
# the shared daemon's configuration: its own image store
printf '[runtime]\nimage_dir = "%s"\n' "$IMG_DIR" >"$PROG_TOP/bpfd.toml"
export BPFD_CONFIG=$PROG_TOP/bpfd.toml

legacy() {
	printf '"io.ebpf.program_type":"%s","io.ebpf.filename":"%s","io.ebpf.program_name":"%s","io.ebpf.bpf_function_name":"%s"' \
		"$1" "$2" "$3" "$4"
}

ALL_PROGS='"io.ebpf.programs":"{\"tp_count\":\"tracepoint\",\"up_count\":\"uprobe\",\"xdp_count\":\"xdp\",\"tcx_count\":\"tcx\"}","io.ebpf.maps":"{\"counter\":\"array\"}"'

setup() {
	prog_setup
	[ -x "$IMAGE_PUT" ] || skip "tests/tools/image_put is not built (make check-integration)"
	mkdir -p "$T_TMP/src"
	cp "$COUNTER_OBJ" "$T_TMP/src/counter.o"
	tar -czf "$T_TMP/counter.tgz" -C "$T_TMP/src" counter.o || fail "tar"
}

# put REF LAYER [MEDIA_TYPE] LABELS -> the digest
put() {
	"$IMAGE_PUT" "$IMG_DIR" "$1" "$2" "$3" "$4" >"$T_TMP/put.out" 2>&1 ||
		fail "image_put $1: $(cat "$T_TMP/put.out")"
	cat "$T_TMP/put.out"
}

# load-from-image ARGS... -> the new program id into $T_TMP/img.out; prints the id
image_id() {
	ctl load-from-image "$@" >"$T_TMP/img.out" 2>&1 ||
		fail "load-from-image $*: $(cat "$T_TMP/img.out")"
	field "$T_TMP/img.out" ID
}

# The program's counter grows when it runs: RUN-CMD... after the load.
proves() {
	id=$1
	shift
	c=$BPFD_RUNDIR/fs/maps/$id/counter
	v0=$(counter "$c")
	"$@"
	v1=$(counter "$c")
	[ "$v1" -gt "$v0" ] || fail "program $id did not run: counter $v0 -> $v1"
	echo "  program $id counted $((v1 - v0))"
}

unload() {
	ctl unload "$1" || fail "unload $1"
	prog_gone "$1" || fail "program $1 still in the kernel"
}

test_tracepoint_legacy_labels() {
	setup
	need_feature tracepoint
	ref=localhost:5000/bpfd-test/tp-$T_ID:v1
	d=$(put "$ref" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)")
	# no -n: the function comes from io.ebpf.bpf_function_name
	id=$(image_id -i "$ref" -g "step=$(step_hex 3)" tracepoint -t syscalls/sys_enter_getppid)
	want_field "$T_TMP/img.out" Name tp_count
	want_field "$T_TMP/img.out" "Image URL" "$ref"
	want_field "$T_TMP/img.out" "Pull Policy" IfNotPresent
	want_field "$T_TMP/img.out" "Image Digest" "$d"
	[ -z "$(field "$T_TMP/img.out" Path)" ] || fail "a Path is shown: $(cat "$T_TMP/img.out")"
	proves "$id" trig getppid 20
	get "$id"
	want_field "$T_TMP/get" "Image URL" "$ref"
	want_field "$T_TMP/get" "Image Digest" "$d"
	# the temporary folder of the extraction is gone (removed after the reply)
	no_extraction_left || fail "unpacked files left: $(ls "$BPFD_RUNDIR/images")"
	unload "$id"
}

want_field() {
	[ "$(field "$1" "$2")" = "$3" ] || fail "$2 is '$(field "$1" "$2")', want '$3': $(cat "$1")"
}

test_uprobe_programs_label() {
	setup
	need_feature uprobe
	build_trig
	ref=localhost:5000/bpfd-test/all-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$ALL_PROGS" >/dev/null
	id=$(image_id -i "$ref" -p Never -n up_count uprobe -t "$TRIG" -f bpfd_test_func)
	want_field "$T_TMP/img.out" "Pull Policy" Never
	proves "$id" trig func 20
	unload "$id"
}

test_tcx() {
	setup
	need_feature tcx
	IF=$(echo "it$T_ID" | cut -c1-12)
	frames_veth "$IF"
	ref=localhost:5000/bpfd-test/all-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$ALL_PROGS" >/dev/null
	id=$(image_id -i "$ref" -n tcx_count tcx -i "$IF" -d ingress -p 10)
	proves "$id" frames "$IF"
	unload "$id"
}

test_xdp_single() {
	setup
	need_feature xdp
	IF=$(echo "ix$T_ID" | cut -c1-12)
	frames_veth "$IF"
	ref=localhost:5000/bpfd-test/all-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$ALL_PROGS" >/dev/null
	id=$(image_id -i "$ref" -n xdp_count xdp -i "$IF" -p 10)
	ip link show "$IF" | grep -q 'prog/xdp' || fail "nothing attached to $IF: $(ip link show "$IF")"
	proves "$id" frames "$IF"
	unload "$id"
	! ip link show "$IF" | grep -q 'prog/xdp' || fail "XDP left on $IF"
}

# expect_refused WANT ARGS...: load-from-image fails (exit 1) naming WANT; nothing changed
expect_refused() {
	want=$1
	shift
	ls -R "$IMG_DIR/blobs" >"$T_TMP/store.before" 2>&1
	daemon_state before
	ctl load-from-image "$@" >"$T_TMP/out" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "exit $rc for $*: $(cat "$T_TMP/out")"
	grep -q -- "$want" "$T_TMP/out" || fail "error does not say '$want': $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	unchanged_since before
	ls -R "$IMG_DIR/blobs" >"$T_TMP/store.after" 2>&1
	cmp -s "$T_TMP/store.before" "$T_TMP/store.after" || fail "the store changed"
	no_extraction_left || fail "unpacked files left: $(ls "$BPFD_RUNDIR/images")"
}

TP="tracepoint -t syscalls/sys_enter_getppid"

test_kind_contradicts_label() {
	setup
	ref=localhost:5000/bpfd-test/all-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$ALL_PROGS" >/dev/null
	expect_refused "give function xdp_count the program type xdp, but it is to be loaded as tracepoint" \
		-i "$ref" -n xdp_count $TP
	expect_refused "several programs (tp_count, up_count, xdp_count, tcx_count): name the function" \
		-i "$ref" $TP
	expect_refused "function nope is not in the image" -i "$ref" -n nope $TP
}

test_policies_without_registry() {
	setup
	ref=localhost:5000/bpfd-test/none-$T_ID:v1
	expect_refused "not in the local store and the pull policy is Never" -i "$ref" -p Never $TP
	# Always asks the registry: nothing listens on that port
	down=127.0.0.1:$(free_port)/bpfd-test/none:v1
	ctl pull-bytecode -i "$down" -p Always >"$T_TMP/out" 2>&1 && fail "pulled without a registry"
	grep -q "cannot pull $down: .*Connection refused" "$T_TMP/out" ||
		fail "Always: $(cat "$T_TMP/out")"
	# stored: IfNotPresent and Never do not need the registry
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)" >/dev/null
	ctl pull-bytecode -i "$ref" >"$T_TMP/out" 2>&1 || fail "IfNotPresent: $(cat "$T_TMP/out")"
	grep -q "Successfully downloaded bytecode $ref (sha256:" "$T_TMP/out" || fail "$(cat "$T_TMP/out")"
	ctl pull-bytecode -i "$ref" -p Never >/dev/null 2>&1 || fail "Never with the image stored"
	ctl pull-bytecode -i "$ref" -p Sometimes >"$T_TMP/out" 2>&1
	[ $? = 2 ] || fail "a bad policy is not a usage error: $(cat "$T_TMP/out")"
}

# A layer made by python's tarfile with the members MEMBERS (python statements).
hostile_layer() {
	/usr/bin/python3 - "$1" "$COUNTER_OBJ" <<PY || fail "python tarfile"
import io, sys, tarfile
obj = open(sys.argv[2], "rb").read()
t = tarfile.open(sys.argv[1], "w:gz")
def add(n, data=obj, **kw):
    i = tarfile.TarInfo(n); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
$2
t.close()
PY
}

test_bad_images() {
	setup
	L=$(legacy tracepoint counter.o tp tp_count)
	hostile_layer "$T_TMP/slip.tgz" 'add("counter.o"); add("../../../../tmp/bpfd-evil.o")'
	hostile_layer "$T_TMP/abs.tgz" 'add("/tmp/bpfd-evil.o")'
	hostile_layer "$T_TMP/sym.tgz" 'add("up", type=tarfile.SYMTYPE, linkname="/tmp"); add("up/bpfd-evil.o")'
	head -c 32M /dev/zero >"$T_TMP/src/counter.o"
	tar -czf "$T_TMP/bomb.tgz" -C "$T_TMP/src" counter.o
	p=localhost:5000/bpfd-test/bad-$T_ID
	put $p:slip "$T_TMP/slip.tgz" "$GZ" "$L" >/dev/null
	put $p:abs "$T_TMP/abs.tgz" "$GZ" "$L" >/dev/null
	put $p:sym "$T_TMP/sym.tgz" "$GZ" "$L" >/dev/null
	put $p:bomb "$T_TMP/bomb.tgz" "$GZ" "$L" >/dev/null
	put $p:nolabel "$T_TMP/counter.tgz" "$GZ" '"org.example":"x"' >/dev/null
	expect_refused "'..'" -i $p:slip $TP
	expect_refused "absolute" -i $p:abs $TP
	expect_refused "link" -i $p:sym $TP
	expect_refused "gzip bomb" -i $p:bomb $TP
	expect_refused "no eBPF labels" -i $p:nolabel $TP
	[ ! -e /tmp/bpfd-evil.o ] || fail "a layer wrote /tmp/bpfd-evil.o"
}

# A blob changed in the store after the pull: its sha256 is checked again when used.
test_digest_mismatch() {
	setup
	ref=localhost:5000/bpfd-test/dm-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)" >/dev/null
	layer=$(sha256sum "$T_TMP/counter.tgz" | cut -d' ' -f1)
	chmod u+w "$IMG_DIR/blobs/sha256/$layer"
	printf 'X' | dd of="$IMG_DIR/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
	daemon_state before
	ctl load-from-image -i "$ref" $TP >"$T_TMP/out" 2>&1 && fail "loaded a changed blob"
	grep -q "sha256" "$T_TMP/out" || fail "unclear: $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	unchanged_since before
	# the damaged blob was dropped so that a pull fetches it again
	[ ! -e "$IMG_DIR/blobs/sha256/$layer" ] || fail "the damaged blob is still in the store"
}

test_images_list_and_prune() {
	setup
	need_feature tracepoint
	a=localhost:5000/bpfd-test/keep-$T_ID:v1
	b=localhost:5000/bpfd-test/drop-$T_ID:v1
	da=$(put "$a" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)")
	cp "$COUNTER_OBJ" "$T_TMP/src/other.o"
	tar -czf "$T_TMP/other.tgz" -C "$T_TMP/src" other.o
	put "$b" "$T_TMP/other.tgz" "$GZ" "$(legacy tracepoint other.o tp tp_count)" >/dev/null
	id=$(image_id -i "$a" $TP)
	ctl images >"$T_TMP/images" || fail "images"
	awk -v a="$a" -v d="$da" -v id="$id" '$1 == a && $2 == d && $NF == id {f = 1} END {exit !f}' \
		"$T_TMP/images" || fail "images: $(cat "$T_TMP/images")"
	awk -v b="$b" '$1 == b && $NF == "-" {f = 1} END {exit !f}' "$T_TMP/images" ||
		fail "images: $(cat "$T_TMP/images")"
	ctl images -j | jq -e --arg a "$a" --argjson id "$id" \
		'.[] | select(.reference == $a) | .used_by == [$id] and .size > 0 and .last_used > 0' \
		>/dev/null || fail "images -j: $(ctl images -j)"
	ctl images --prune >"$T_TMP/prune" || fail "prune"
	grep -q "Removed $b" "$T_TMP/prune" || fail "prune: $(cat "$T_TMP/prune")"
	! grep -q "Removed $a" "$T_TMP/prune" || fail "pruned an image in use: $(cat "$T_TMP/prune")"
	[ ! -e "$IMG_DIR/blobs/sha256/$(sha256sum "$T_TMP/other.tgz" | cut -d' ' -f1)" ] ||
		fail "the pruned image's layer is still stored"
	ctl images --rm "$b" >"$T_TMP/rm" 2>&1 && fail "removed an image twice"
	grep -q "is not in the local store" "$T_TMP/rm" || fail "rm: $(cat "$T_TMP/rm")"
	unload "$id"
	ctl images --rm "$a" >/dev/null || fail "rm $a"
	! ctl images | grep -q "$a" || fail "still listed"
}

# A second load of an image reads its manifest and config blobs again, not its layers:
# the daemon keeps the extraction (RUNDIR/images/m-<manifest hex>) and checks its
# object against the sha256 taken when it was extracted; a changed object is
# extracted again from the checked layer; removing the image drops the extraction.
test_kept_extraction() {
	setup
	need_feature tracepoint
	ref=localhost:5000/bpfd-test/kept-$T_ID:v1
	# a layer of its own (the id file): no other test's image shares its manifest
	mkdir -p "$T_TMP/kept"
	cp "$COUNTER_OBJ" "$T_TMP/kept/counter.o"
	echo "kept $T_ID" >"$T_TMP/kept/id"
	tar -czf "$T_TMP/kept.tgz" -C "$T_TMP/kept" counter.o id || fail "tar"
	d=$(put "$ref" "$T_TMP/kept.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)")
	kept=$BPFD_RUNDIR/images/m-${d#sha256:}
	id=$(image_id -i "$ref" $TP)
	unload "$id"
	[ -f "$kept/l0/counter.o" ] || fail "no kept extraction $kept: $(ls -R "$BPFD_RUNDIR/images")"
	cmp -s "$kept/l0/counter.o" "$COUNTER_OBJ" || fail "the kept object is not the image's"
	ino=$(stat -c %i "$kept/l0/counter.o")
	id=$(image_id -i "$ref" $TP)
	proves "$id" trig getppid 20
	unload "$id"
	[ "$(stat -c %i "$kept/l0/counter.o")" = "$ino" ] || fail "the image was extracted again"
	# changed where it is kept: not loaded, extracted again
	printf 'not the object that was extracted' >"$kept/l0/counter.o"
	id=$(image_id -i "$ref" $TP)
	proves "$id" trig getppid 20
	unload "$id"
	cmp -s "$kept/l0/counter.o" "$COUNTER_OBJ" || fail "the changed object was kept"
	grep -q "$kept does not check out" "$DAEMON_LOG" || fail "no warning in the daemon's log"
	ctl images --rm "$ref" >/dev/null || fail "rm $ref"
	[ ! -e "$kept" ] || fail "the kept extraction outlived its image"
	no_extraction_left || fail "unpacked files left: $(ls "$BPFD_RUNDIR/images")"
}

test_credentials_never_kept() {
	setup
	need_feature tracepoint
	ref=localhost:5000/bpfd-test/cred-$T_ID:v1
	put "$ref" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)" >/dev/null
	secret=s3cr3t-$T_ID
	id=$(image_id -i "$ref" -r "$(printf 'user-%s:%s' "$T_ID" "$secret" | base64 -w0)" $TP)
	ctl get "$id" -j >"$T_TMP/get.json" || fail "get"
	ctl list -j >"$T_TMP/list.json" || fail "list"
	for f in "$T_TMP/img.out" "$T_TMP/get.json" "$T_TMP/list.json" "$DAEMON_LOG" \
		"$BPFD_RUNDIR/programs/$id" "$IMG_DIR/index.json"; do
		! grep -q -e "$secret" -e "user-$T_ID" "$f" || fail "credentials in $f"
	done
	unload "$id"
}

# The record keeps the image (url, policy, digest): a restarted daemon shows it.
test_restart_keeps_image() {
	prog_setup_private --config "$BPFD_CONFIG"
	need_feature tracepoint
	[ -x "$IMAGE_PUT" ] || skip "tests/tools/image_put is not built"
	mkdir -p "$T_TMP/src"
	cp "$COUNTER_OBJ" "$T_TMP/src/counter.o"
	tar -czf "$T_TMP/counter.tgz" -C "$T_TMP/src" counter.o || fail "tar"
	ref=localhost:5000/bpfd-test/rs-$T_ID:v1
	d=$(put "$ref" "$T_TMP/counter.tgz" "$GZ" "$(legacy tracepoint counter.o tp tp_count)")
	id=$(image_id -i "$ref" -p Never $TP)
	restart_daemon --config "$BPFD_CONFIG"
	get "$id"
	want_field "$T_TMP/get" "Image URL" "$ref"
	want_field "$T_TMP/get" "Pull Policy" Never
	want_field "$T_TMP/get" "Image Digest" "$d"
	unload "$id"
}

run_tests image test_tracepoint_legacy_labels test_uprobe_programs_label test_tcx \
	test_xdp_single test_kind_contradicts_label test_policies_without_registry \
	test_bad_images test_digest_mismatch test_images_list_and_prune \
	test_kept_extraction test_credentials_never_kept test_restart_keeps_image
