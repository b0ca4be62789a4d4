#!/bin/sh
# t_k8s_kinds.sh - bpfd-agent (node1) with every program kind against a real
# kube-apiserver 1.20 and a real local bpfd on the host: TracepointProgram (two names,
# one taken out: its BpfProgram goes and the program is unloaded), UprobeProgram (it
# runs), XdpProgram, TcProgram and TcxProgram whose priority change is an in-place
# Modify (same program id); a proceed-on the host cannot apply (no dispatcher) ends
# NotLoaded with bpfd's reason; FentryProgram/FexitProgram/KprobeProgram NotLoaded with
# bpfd's refusal where the kernel refuses them (Loaded where it has them); a private
# image (docker-registry with htpasswd) loaded with the credentials of its
# kubernetes.io/dockerconfigjson pull secret, BytecodeSelectorError without a usable
# secret, and the password in no log; a map owner selector: shared maps,
# MapOwnerNotFound, MapOwnerNotLoaded.  One test bed, bpfd and agent for all tests.
# vm: no (a Kubernetes control plane on the host)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"
. "$(dirname "$0")/prog_lib.sh"

OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
REG_USER=kuser
REG_PASS="pw-$T_ID-not-in-logs"

# The API as the test bed's admin, with curl (lighter than a kubectl per poll).
kapi() {
	curl -sS --cacert "$K8S_CA" -H "Authorization: Bearer $K8S_ADMIN_TOKEN" "$@"
}
BP_API=/apis/bpfd.dev/v1alpha1

cond_of() {
	kapi "$K8S_SERVER$BP_API/bpfprograms/$1" 2>/dev/null |
		jq -r ".status.conditions[-1].$2 // empty" 2>/dev/null
}
cond_is() { [ "$(cond_of "$1" type)" = "$2" ]; }

# want_cond BPFPROGRAM TYPE: wait for it, else fail with the agent's log
want_cond() {
	wait_for 30 cond_is "$1" "$2" && return 0
	tail -n 30 "$TOP/agent.log" >&2
	fail "BpfProgram $1: $(cond_of "$1" type) ($(cond_of "$1" message)), want $2"
}

# The kernel program id bpfd holds for BpfProgram $1 (matched by its uid), or nothing.
loaded_id() {
	uid=$(kapi "$K8S_SERVER$BP_API/bpfprograms/$1" | jq -r '.metadata.uid // empty')
	[ -n "$uid" ] || return 1
	bpfctl list -m "bpfd.dev/uuid=$uid" -o json | jq -r '.[0].kernel_info.id // empty'
}
is_loaded() { [ -n "$(loaded_id "$1")" ]; }
gone() {
	[ "$(kapi -o /dev/null -w '%{http_code}' "$K8S_SERVER$BP_API/bpfprograms/$1")" = 404 ]
}

plural() { echo "$1" | tr 'A-Z' 'a-z' | sed 's/$/s/'; }

# apply KIND NAME SPEC-LINES: a *Program (server-side apply: created or changed)
apply() {
	printf 'apiVersion: bpfd.dev/v1alpha1\nkind: %s\nmetadata: {name: %s}\nspec:\n%s\n' \
		"$1" "$2" "$3" >"$T_TMP/apply.yaml"
	code=$(kapi -o "$T_TMP/apply.out" -w '%{http_code}' -X PATCH \
		-H 'Content-Type: application/apply-patch+yaml' --data-binary @"$T_TMP/apply.yaml" \
		"$K8S_SERVER$BP_API/$(plural "$1")/$2?fieldManager=t-kinds&force=true")
	case $code in 20?) ;; *) fail "apply $1 $2: HTTP $code $(cat "$T_TMP/apply.out")" ;; esac
}

# remove KIND NAME...: delete *Programs (the agent unloads; test_all_unloaded checks)
remove() {
	k=$(plural "$1")
	shift
	for n in "$@"; do
		kapi -o /dev/null -X DELETE "$K8S_SERVER$BP_API/$k/$n" || fail "delete $k $n"
	done
}

common() {	# FUNCTION [NODESELECTOR]
	sel=${2:-'{}'}
	printf '  bpffunctionname: %s\n  nodeselector: %s\n  bytecode: {path: %s}\n' \
		"$1" "$sel" "$OBJ"
}

# Started once for every test, beside the test bed's start: bpfd (a [registry] that
# trusts the plain registry), the registry with htpasswd and a private image, a veth.
setup_host() {
	cat >"$TOP/bpfd.toml" <<C
[registry]
insecure = ["127.0.0.1:$REG_PORT"]
connect_timeout_ms = 2000
[runtime]
image_dir = "$TOP/images"
C
	# no credentials from the host's Docker configuration: only the secret's count
	mkdir -p "$TOP/no-docker"
	export DOCKER_CONFIG="$TOP/no-docker"
	start_daemon --config "$TOP/bpfd.toml"
	unset DOCKER_CONFIG
	htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$TOP/htpasswd" 2>/dev/null || fail "htpasswd"
	registry reg "$REG_PORT" "auth:
  htpasswd:
    realm: bpfd-test
    path: $TOP/htpasswd"
	push_image "127.0.0.1:$REG_PORT/bpf/counter:v1"
	make_veth_ns "$IF" "${IF}p" "ns$IF"
	build_trig
	echo "BPFD_SOCK=$BPFD_SOCK BPFD_RUNDIR=$BPFD_RUNDIR" >"$TOP/env.host"
}

# Then the cluster side: manifests, the Node, the agent.
setup_k8s() {
	k8s_apply_dist
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node1","labels":{"role":"edge"}}}' |
		kc create -f - >/dev/null || fail "create Node node1"
	k8s_agent_kubeconfig "$TOP/agent.kubeconfig"
	while [ ! -s "$TOP/env.host" ] && kill -0 "$HOST_PID" 2>/dev/null; do sleep 0.2; done
	[ -s "$TOP/env.host" ] || fail "host setup: $(tail -n 5 "$TOP/host.out")"
	. "$TOP/env.host"
	"$BPFD" bpfd-agent --kubeconfig "$TOP/agent.kubeconfig" --node node1 \
		--endpoint "unix://$BPFD_SOCK" -v >>"$TOP/agent.log" 2>&1 &
	on_exit "kill -9 $!"
	cp "$TOP/env.host" "$TOP/env"
}

# push_image REF: prog_counter.bpf.o as a bytecode image (buildah, a private vfs store),
# pushed with the registry's credentials
push_image() {
	store="$TOP/containers"
	B="buildah --root $store/root --runroot $store/run --storage-driver vfs"
	export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
	on_exit "$B rm -a; $B rmi -a -f;" \
		"grep -F ' $store/' /proc/mounts | cut -d' ' -f2 | xargs -r umount -l"
	c=$($B from -q scratch) && $B copy -q "$c" "$OBJ" /counter.o >/dev/null &&
		$B config --label io.ebpf.program_type=tracepoint \
			--label io.ebpf.filename=counter.o \
			--label io.ebpf.bpf_function_name=tp_count \
			--label io.ebpf.program_name=tp_count "$c" &&
		$B commit -q "$c" localhost/counter:v1 >/dev/null ||
		fail "buildah: cannot build the image"
	$B push -q --tls-verify=false --creds "$REG_USER:$REG_PASS" localhost/counter:v1 \
		"docker://$1" >"$TOP/push.log" 2>&1 || fail "buildah push: $(cat "$TOP/push.log")"
}

setup() {
	k8s_need
	[ -s "$TOP/env" ] || fail "the shared setup failed: $(tail -n 5 "$TOP/setup.out")"
	. "$TOP/env"
	export BPFD_SOCK K8S_ADMIN_TOKEN
}

# TracepointProgram with two names, one taken out; UprobeProgram that runs.
test_tracepoint_uprobe() {
	setup
	tp="  names: [syscalls/sys_enter_getppid, syscalls/sys_enter_getpid]"
	apply TracepointProgram tp-two "$(common tp_count)
$tp"
	a=tp-two-node1-syscalls-sys-enter-getppid b=tp-two-node1-syscalls-sys-enter-getpid
	want_cond "$a" Loaded
	want_cond "$b" Loaded
	idb=$(loaded_id "$b")
	[ -n "$idb" ] || fail "$b not in bpfd"
	apply TracepointProgram tp-two "$(common tp_count)
  names: [syscalls/sys_enter_getppid]"
	wait_for 30 gone "$b" || fail "BpfProgram $b of the name taken out is still there"
	bpfctl get "$idb" >/dev/null 2>&1 && fail "program $idb of $b still loaded"
	is_loaded "$a" || fail "$a was unloaded too"

	apply UprobeProgram up-one "$(common up_count)
  func_name: bpfd_test_func
  target: [$TRIG]"
	u=$(echo "up-one-node1-$TRIG" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9.-]/-/g')
	want_cond "$u" Loaded
	id=$(loaded_id "$u")
	bpfctl get "$id" -o json | jq -e '.info.attach.uprobe_attach_info.fn_name == "bpfd_test_func"' \
		>/dev/null || fail "uprobe attach info: $(bpfctl get "$id")"
	c=$BPFD_RUNDIR/fs/maps/$id/counter
	v0=$(counter "$c")
	trig func 7
	v1=$(counter "$c")
	[ "$v1" -ge $((v0 + 7)) ] || fail "the uprobe did not run: $v0 -> $v1"
	remove TracepointProgram tp-two
	remove UprobeProgram up-one
}

# KIND NAME FUNCTION PRIORITY [EXTRA]: an interface program on $IF
iface_program() {
	apply "$1" "$2" "$(common "$3")
  interfaceselector: {interfaces: [$IF]}
  priority: $4${5:+
$5}"
}

# modify_keeps_id KIND NAME FUNCTION EXTRA: priority 50 -> 70 is a Modify, same id
modify_keeps_id() {
	iface_program "$1" "$2" "$3" 50 "${4:-}"
	bp="$2-node1-$(echo "$IF" | tr 'A-Z_' 'a-z-')"
	want_cond "$bp" Loaded
	id=$(loaded_id "$bp")
	[ -n "$id" ] || fail "$bp not in bpfd"
	iface_program "$1" "$2" "$3" 70 "${4:-}"
	prio() { bpfctl get "$id" -o json | jq -e ".info.attach[].priority == $1"; }
	wait_for 30 prio 70 || { tail -n 20 "$TOP/agent.log" >&2; fail "priority of $id not 70"; }
	[ "$(loaded_id "$bp")" = "$id" ] || fail "$1: reloaded (id $(loaded_id "$bp"), was $id)"
	grep -q "modified program $id of BpfProgram '$bp' (node node1) in place: priority 70" \
		"$TOP/agent.log" || fail "no log of the modify naming object and node"
	echo "  $1: priority 50 -> 70 in place, program $id"
}

test_xdp_modify() {
	setup
	modify_keeps_id XdpProgram xdp-one xdp_count
	# a proceed-on other than the default: in place in a chain; on a host without
	# chains the program is attached directly, and bpfd says why it cannot apply
	iface_program XdpProgram xdp-one xdp_count 70 "  proceedon: [pass, drop]"
	if have_feature freplace; then
		pon() { bpfctl get "$id" -o json | jq -e '.info.attach[].proceed_on | sort == [1, 2]'; }
		wait_for 30 pon || fail "proceed-on not modified in place"
	else
		want_cond "$bp" NotLoaded
		cond_of "$bp" message | grep -q "proceed-on applies only in a dispatcher chain" ||
			fail "NotLoaded message: $(cond_of "$bp" message)"
		echo "  proceed-on on the host: NotLoaded: $(cond_of "$bp" message | cut -c1-120)..."
		iface_program XdpProgram xdp-one xdp_count 70
		want_cond "$bp" Loaded
	fi
	remove XdpProgram xdp-one
}

test_tc_modify() {
	setup
	modify_keeps_id TcProgram tc-one tc_count "  direction: ingress"
	remove TcProgram tc-one
}

test_tcx_modify() {
	setup
	have_feature tcx || skip "the kernel has no TCX"
	modify_keeps_id TcxProgram tcx-one tcx_count "  direction: ingress"
	bpfctl get "$id" -o json | jq -e '.info.attach_mode == "tcx"' >/dev/null ||
		fail "not attached by TCX: $(bpfctl get "$id")"
	remove TcxProgram tcx-one
}

# KIND NAME FUNCTION FEATURE SPEC-LINE: Loaded where the kernel has FEATURE, else
# NotLoaded with bpfd's reason (which names the feature)
kind_on_host() {
	apply "$1" "$2" "$(common "$3")
  $5"
	bp="$2-node1-$(echo "$KFN" | tr 'A-Z_' 'a-z-')"
	if have_feature "$4"; then
		want_cond "$bp" Loaded
		echo "  $1: Loaded"
	else
		want_cond "$bp" NotLoaded
		msg=$(cond_of "$bp" message)
		echo "$msg" | grep -qi "$4" || fail "$1 NotLoaded message names no $4: $msg"
		echo "  $1 on this kernel: NotLoaded: $msg"
		n=$(bpfctl list -o json | jq --arg p "$2" \
			'[.[] | select(.info.metadata["bpfd.dev/ProgramName"] == $p)] | length')
		[ "$n" = 0 ] || fail "$1: $n programs loaded"
	fi
	remove "$1" "$2"
}

test_fentry_fexit_kprobe() {
	setup
	kind_on_host FentryProgram fe-one fe_count fentry "func_name: $KFN"
	kind_on_host FexitProgram fx-one fx_count fexit "func_name: $KFN"
	kind_on_host KprobeProgram kp-one kp_count kprobe "func_names: [$KFN]"
}

# image_program NAME [SECRET-NAME]
image_program() {
	sec=
	[ -n "${2:-}" ] && sec="
      imagepullsecret: {name: $2, namespace: default}"
	apply TracepointProgram "$1" "  bpffunctionname: tp_count
  nodeselector: {}
  bytecode:
    image:
      url: 127.0.0.1:$REG_PORT/bpf/counter:v1
      imagepullpolicy: Always$sec
  names: [syscalls/sys_enter_getppid]"
}

test_pull_secret() {
	setup
	auth=$(printf %s "$REG_USER:$REG_PASS" | base64 -w0)
	printf '{"auths":{"http://127.0.0.1:%s":{"auth":"%s"}}}' "$REG_PORT" "$auth" >"$T_TMP/dc.json"
	kc -n default create secret generic regcred --type=kubernetes.io/dockerconfigjson \
		--from-file=.dockerconfigjson="$T_TMP/dc.json" >/dev/null || fail "create secret"
	kc -n default create secret generic opaque --from-literal=x=y >/dev/null ||
		fail "create secret"
	image_program img-ok regcred
	image_program img-none
	image_program img-missing nosuchsecret
	image_program img-opaque opaque
	p=node1-syscalls-sys-enter-getppid
	want_cond "img-ok-$p" Loaded
	id=$(loaded_id "img-ok-$p")
	bpfctl get "$id" -o json | jq -e '.info.bytecode.image_digest | startswith("sha256:")' \
		>/dev/null ||
		fail "not loaded from the image: $(bpfctl get "$id")"
	want_cond "img-none-$p" NotLoaded
	cond_of "img-none-$p" message | grep -qi "credentials" ||
		fail "without a secret: $(cond_of "img-none-$p" message)"
	want_cond "img-missing-$p" BytecodeSelectorError
	cond_of "img-missing-$p" message | grep -q "image pull secret default/nosuchsecret.*not found" ||
		fail "missing secret: $(cond_of "img-missing-$p" message)"
	want_cond "img-opaque-$p" BytecodeSelectorError
	cond_of "img-opaque-$p" message | grep -q "not kubernetes.io/dockerconfigjson" ||
		fail "opaque secret: $(cond_of "img-opaque-$p" message)"
	for m in img-none img-missing img-opaque; do
		echo "  $m: $(cond_of "$m-$p" type): $(cond_of "$m-$p" message)"
	done
	# the secret made good: the next pass loads it
	kc -n default create secret generic nosuchsecret --type=kubernetes.io/dockerconfigjson \
		--from-file=.dockerconfigjson="$T_TMP/dc.json" >/dev/null || fail "create secret"
	want_cond "img-missing-$p" Loaded
	for f in "$TOP/agent.log" "$TOP/daemon.log"; do
		grep -q -e "$REG_PASS" -e "$auth" "$f" && fail "a credential is in $f"
	done
	remove TracepointProgram img-ok img-none img-missing img-opaque
}

test_map_owner() {
	setup
	tp="  names: [syscalls/sys_enter_getppid]"
	p=node1-syscalls-sys-enter-getppid
	apply TracepointProgram mo-owner "$(common tp_count)
$tp"
	apply TracepointProgram mo-user "$(common tp_count)
$tp
  mapownerselector: {matchLabels: {bpfd.dev/ownedByProgram: mo-owner}}"
	apply TracepointProgram mo-lonely "$(common tp_count)
$tp
  mapownerselector: {matchLabels: {bpfd.dev/ownedByProgram: nobody}}"
	apply TracepointProgram mo-idle "$(common tp_count "{matchLabels: {role: nowhere}}")
$tp"
	apply TracepointProgram mo-waiter "$(common tp_count)
$tp
  mapownerselector: {matchLabels: {bpfd.dev/ownedByProgram: mo-idle}}"
	want_cond "mo-owner-$p" Loaded
	want_cond "mo-user-$p" Loaded
	owner=$(loaded_id "mo-owner-$p")
	user=$(loaded_id "mo-user-$p")
	bpfctl get "$user" -o json | jq -e ".info.map_owner_id == $owner" >/dev/null ||
		fail "program $user does not share the maps of $owner: $(bpfctl get "$user")"
	want_cond "mo-lonely-$p" MapOwnerNotFound
	want_cond "mo-idle-$p" NotSelected
	want_cond "mo-waiter-$p" MapOwnerNotLoaded
	for m in mo-lonely mo-waiter; do
		echo "  $m: $(cond_of "$m-$p" type): $(cond_of "$m-$p" message)"
		is_loaded "$m-$p" && fail "$m loaded"
	done
	# the owner now selected: the waiter loads with its maps
	apply TracepointProgram mo-idle "$(common tp_count "{matchLabels: {role: edge}}")
$tp"
	want_cond "mo-waiter-$p" Loaded
	idle=$(loaded_id "mo-idle-$p")
	bpfctl get "$(loaded_id "mo-waiter-$p")" -o json | jq -e ".info.map_owner_id == $idle" \
		>/dev/null || fail "the waiter does not share the maps of $idle"
	remove TracepointProgram mo-user mo-lonely mo-waiter mo-owner mo-idle
}

# Every *Program above deleted: each BpfProgram unloaded by the agent, its finalizer
# removed and the object garbage-collected; bpfd holds none of the agent's programs.
test_all_unloaded() {
	setup
	left() {
		n=$(kapi "$K8S_SERVER$BP_API/bpfprograms" | jq '.items | length')
		m=$(bpfctl list -o json | jq '[.[] | select(.info.metadata["bpfd.dev/uuid"])] | length')
		[ "$n" = 0 ] && [ "$m" = 0 ]
	}
	wait_for 60 left || fail "left: $(kapi "$K8S_SERVER$BP_API/bpfprograms" |
		jq -r '[.items[].metadata.name] | join(" ")'); in bpfd: $(bpfctl list)"
	grep -q "BpfProgram '.*' (node node1): unloaded, finalizer removed" "$TOP/agent.log" ||
		fail "no log of the deletions naming object and node"
}

TOP=$T_TMP
REG_PORT=$(free_port)
IF=$(echo "k8k$T_ID" | cut -c1-12)
t0=$(date +%s)
( setup_host ) >"$TOP/host.out" 2>&1 &
HOST_PID=$!
k8s_up
echo "test bed up in $(($(date +%s) - t0)) s" >&2
if [ -z "$K8S_SKIP" ] && [ -z "${K8S_FAILED:-}" ]; then
	have_feature tracepoint || K8S_SKIP="the kernel has no tracepoints"
	[ -n "$K8S_SKIP" ] || ( setup_k8s ) >"$TOP/setup.out" 2>&1 || true
	echo "set up in $(($(date +%s) - t0)) s" >&2
fi
wait
run_tests k8s_kinds test_tracepoint_uprobe test_xdp_modify test_tc_modify test_tcx_modify \
	test_fentry_fexit_kprobe test_pull_secret test_map_owner test_all_unloaded
