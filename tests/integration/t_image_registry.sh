#!/bin/sh
# t_image_registry.sh - bytecode images pulled by the daemon from Debian's docker-registry
# on 127.0.0.1 (plain HTTP, marked insecure in the daemon's [registry]): an image pushed
# with skopeo from a hand-built OCI layout is pulled and loaded, proven to run;
# IfNotPresent and Never load with the registry stopped, Always then fails UNAVAILABLE
# with the reason; cosign signatures made with openssl and pushed with curl: a good one
# passes, an unsigned image and one signed with another key are refused ([signing]
# allow_unsigned = false) and never enter the store.
# vm: no (registry protocol; the kernel side is t_image.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

. "$(dirname "$0")/image_lib.sh"

image_need openssl curl
READ_MS=5000

# push PORT REPO:TAG: a fresh image (its own program_name label, so its own digest);
# prints its digest
push() {
	_info=$(image_push "$@") || exit 1
	echo "${_info%% *}"
}

# blob_put URL REPO FILE: a blob upload with curl (POST, then PUT with the digest)
blob_put() {
	d=sha256:$(sha256sum "$3" | cut -d' ' -f1)
	loc=$(curl -s -D - -o /dev/null -X POST "$1/v2/$2/blobs/uploads/" | tr -d '\r' |
		sed -n 's/^[Ll]ocation: //p')
	case $loc in http*) ;; *) loc=$1$loc ;; esac
	case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
	curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$3" "$loc" \
		>/dev/null || fail "blob upload $d"
	echo "$d"
}

# sign PORT REPO DIGEST KEY: a cosign signature (simple signing payload, ECDSA P-256 by
# KEY, base64 DER annotation) pushed as REPO:sha256-<hex>.sig
sign() {
	url=http://127.0.0.1:$1
	s=$T_TMP/sig-${3#sha256:}
	mkdir -p "$s"
	printf '{"critical":{"identity":{"docker-reference":"127.0.0.1:%s/%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
		"$1" "$2" "$3" >"$s/payload.json"
	openssl dgst -sha256 -sign "$4" -out "$s/sig.der" "$s/payload.json" || fail "openssl sign"
	printf '{"architecture":"","os":"","config":{}}' >"$s/config.json"
	pd=$(blob_put "$url" "$2" "$s/payload.json")
	cd_=$(blob_put "$url" "$2" "$s/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%s,"digest":"%s"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":%s,"digest":"%s","annotations":{"dev.cosignproject.cosign/signature":"%s"}}]}' \
		"$(wc -c <"$s/config.json")" "$cd_" "$(wc -c <"$s/payload.json")" "$pd" \
		"$(base64 -w0 "$s/sig.der")" >"$s/manifest.json"
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @"$s/manifest.json" "$url/v2/$2/manifests/sha256-${3#sha256:}.sig" \
		>/dev/null || fail "signature manifest push"
}

TP="tracepoint -t syscalls/sys_enter_getppid"

load_runs() {
	ctl load-from-image "$@" $TP >"$T_TMP/img.out" 2>&1 || fail "load-from-image $*: $(cat "$T_TMP/img.out")"
	id=$(field "$T_TMP/img.out" ID)
	c=$BPFD_RUNDIR/fs/maps/$id/counter
	v0=$(counter "$c")
	trig getppid 20
	v1=$(counter "$c")
	[ "$v1" -gt "$v0" ] || fail "program $id did not run: $v0 -> $v1"
	ctl unload "$id" || fail "unload"
}

test_pull_and_load() {
	port=$(free_port)
	image_daemon "$port"
	need_feature tracepoint
	registry reg "$port"
	d=$(push "$port" bpf/counter:v1)
	ref=127.0.0.1:$port/bpf/counter:v1
	ctl pull-bytecode -i "$ref" -p Always >"$T_TMP/pull.out" 2>&1 || fail "pull: $(cat "$T_TMP/pull.out")"
	grep -q "Successfully downloaded bytecode $ref ($d)" "$T_TMP/pull.out" || fail "$(cat "$T_TMP/pull.out")"
	grep -q "is not signed" "$DAEMON_LOG" || fail "no warning for the unsigned image"
	load_runs -i "$ref"
	[ "$(field "$T_TMP/img.out" "Image Digest")" = "$d" ] || fail "digest: $(cat "$T_TMP/img.out")"
	[ "$(field "$T_TMP/img.out" Name)" = tp_count ] || fail "name from the label: $(cat "$T_TMP/img.out")"
}

test_registry_stopped() {
	port=$(free_port)
	image_daemon "$port"
	need_feature tracepoint
	registry reg "$port"
	push "$port" bpf/counter:v1 >/dev/null
	ref=127.0.0.1:$port/bpf/counter:v1
	load_runs -i "$ref"		# IfNotPresent: pulled now
	kill -TERM "$(cat "$T_TMP/reg.pid")"
	sleep 0.2
	load_runs -i "$ref"		# IfNotPresent from the store
	load_runs -i "$ref" -p Never
	daemon_state before
	ctl load-from-image -i "$ref" -p Always $TP >"$T_TMP/out" 2>&1 && fail "Always loaded without the registry"
	grep -q "cannot pull $ref" "$T_TMP/out" || fail "Always: $(cat "$T_TMP/out")"
	grep -qi "127.0.0.1:$port" "$T_TMP/out" || fail "the reason names no registry: $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	unchanged_since before
	ctl load-from-image -i "127.0.0.1:$port/bpf/other:v1" -p Never $TP >"$T_TMP/out" 2>&1 &&
		fail "Never loaded an image it does not have"
	grep -q "not in the local store and the pull policy is Never" "$T_TMP/out" || fail "$(cat "$T_TMP/out")"
}

test_signatures() {
	port=$(free_port)
	openssl ecparam -name prime256v1 -genkey -noout -out "$PROG_TOP/ec.pem" 2>/dev/null &&
		openssl ec -in "$PROG_TOP/ec.pem" -pubout -out "$PROG_TOP/cosign.pub" 2>/dev/null &&
		openssl ecparam -name prime256v1 -genkey -noout -out "$PROG_TOP/other.pem" 2>/dev/null ||
		fail "openssl keys"
	image_daemon "$port" "[signing]
allow_unsigned = false
keys = [\"$PROG_TOP/cosign.pub\"]"
	need_feature tracepoint
	registry reg "$port"
	good=$(push "$port" bpf/signed:v1)
	sign "$port" bpf/signed "$good" "$PROG_TOP/ec.pem"
	push "$port" bpf/unsigned:v1 >/dev/null
	bad=$(push "$port" bpf/badsig:v1)
	sign "$port" bpf/badsig "$bad" "$PROG_TOP/other.pem"
	load_runs -i "127.0.0.1:$port/bpf/signed:v1" -p Always
	ctl pull-bytecode -i "127.0.0.1:$port/bpf/unsigned:v1" >"$T_TMP/out" 2>&1 && fail "unsigned pulled"
	grep -q "is not signed .* allow_unsigned is false" "$T_TMP/out" || fail "unsigned: $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	ctl pull-bytecode -i "127.0.0.1:$port/bpf/badsig:v1" >"$T_TMP/out" 2>&1 && fail "bad signature pulled"
	grep -q "signature is not valid.*does not verify" "$T_TMP/out" || fail "bad signature: $(cat "$T_TMP/out")"
	echo "  $(cat "$T_TMP/out")"
	ctl images >"$T_TMP/images" || fail "images"
	! grep -q -e unsigned -e badsig "$T_TMP/images" || fail "a refused image is in the store: $(cat "$T_TMP/images")"
	grep -q "bpf/signed:v1" "$T_TMP/images" || fail "the signed image is not in the store"
}

# A programs.d bytecode_image entry pulls from the registry (Always) at a reload, as the
# API does; the program runs and shows its source and image.
test_progd_image_entry() {
	port=$(free_port)
	image_daemon "$port" "programs_dir = \"$PROG_TOP/programs.d\""
	need_feature tracepoint
	registry reg "$port"
	d=$(push "$port" bpf/counter:pd)
	ref=127.0.0.1:$port/bpf/counter:pd
	mkdir -p "$PROG_TOP/programs.d"
	printf '[[programs]]\nname = "tp_count"\nprogram_type = "Tracepoint"\nbytecode_image = { image_url = "%s", image_pull_policy = "Always" }\ntracepoint_attach = { tracepoint = "syscalls/sys_enter_getppid" }\n' \
		"$ref" >"$PROG_TOP/programs.d/img.toml"
	ctl reload >"$T_TMP/reload" 2>&1 || fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^loaded" "$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	ctl list >"$T_TMP/list" || fail "list"
	id=$(awk '$5 == "programs.d/img.toml" { print $1 }' "$T_TMP/list")
	[ -n "$id" ] || fail "no program from programs.d/img.toml: $(cat "$T_TMP/list")"
	ctl get "$id" >"$T_TMP/get" || fail "get"
	[ "$(field "$T_TMP/get" "Image Digest")" = "$d" ] || fail "digest: $(cat "$T_TMP/get")"
	c=$BPFD_RUNDIR/fs/maps/$id/counter
	v0=$(counter "$c")
	trig getppid 20
	v1=$(counter "$c")
	[ "$v1" -gt "$v0" ] || fail "program $id did not run: $v0 -> $v1"
	rm "$PROG_TOP/programs.d/img.toml"
	ctl reload >/dev/null 2>&1 || fail "reload after removal"
}

# A pull waiting on a registry that accepts and never answers runs in the pull worker:
# another client's List answers meanwhile, and the pull fails with its read timeout.
test_pull_does_not_block() {
	port=$(free_port)
	READ_MS=2000 image_daemon "$port"
	$PY -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$port" &
	on_exit "kill $!"
	wait_port "$port"
	ref=127.0.0.1:$port/bpf/silent:v1
	t0=$(date +%s%N)
	ctl pull-bytecode -i "$ref" -p Always >"$T_TMP/pull.out" 2>&1 &
	pull=$!
	ctl load-from-image -i "$ref" -p Always $TP >"$T_TMP/load.out" 2>&1 &
	load=$!
	sleep 0.3
	for i in 1 2 3; do
		l0=$(date +%s%N)
		ctl list >/dev/null 2>"$T_TMP/list.err" || fail "list: $(cat "$T_TMP/list.err")"
		ms=$((($(date +%s%N) - l0) / 1000000))
		[ $ms -lt 1000 ] || fail "List took $ms ms while a pull waited"
		kill -0 $pull 2>/dev/null || fail "the pull is over before the List: $(cat "$T_TMP/pull.out")"
	done
	echo "  List answered in $ms ms while the pull waited"
	wait $pull && fail "the pull of a silent registry succeeded"
	pms=$((($(date +%s%N) - t0) / 1000000))
	grep -q "sent nothing for 2000 ms" "$T_TMP/pull.out" || fail "pull: $(cat "$T_TMP/pull.out")"
	[ $pms -ge 1900 ] && [ $pms -lt 8000 ] || fail "the pull failed after $pms ms"
	echo "  $(cat "$T_TMP/pull.out") ($pms ms)"
	wait $load && fail "the load from a silent registry succeeded"
	grep -q "sent nothing for 2000 ms" "$T_TMP/load.out" || fail "load: $(cat "$T_TMP/load.out")"
	ctl images >"$T_TMP/images" || fail "images"
	! grep -q silent "$T_TMP/images" || fail "the silent image is in the store"
}

run_tests image_registry test_pull_and_load test_registry_stopped test_signatures \
	test_progd_image_entry test_pull_does_not_block
