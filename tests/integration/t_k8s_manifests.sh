#!/bin/sh
# t_k8s_manifests.sh - dist/k8s against a real kube-apiserver 1.20 on 127.0.0.1: every
# manifest is accepted (server-side dry run, then for real), the CRDs apply the
# original's defaults and refuse what the original refused, the printer columns
# work, and the agent's service account holds exactly the rights it needs
# vm: no (a Kubernetes control plane on the host; nothing here depends on the kernel)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"

test_crds_generated() {
	"$(dirname "$0")/../../scripts/k8s-crds.py" --check ||
		fail "dist/k8s/crds.yaml differs from what scripts/k8s-crds.py writes"
}

test_dry_run_server() {
	k8s_need
	# the namespace first: the others are checked in it
	must kc apply --dry-run=server -f "$K8S_DIST/namespace.yaml" -f "$K8S_DIST/crds.yaml"
	must kc apply -f "$K8S_DIST/namespace.yaml"
	for f in crds rbac config daemonset; do
		kc apply --dry-run=server -f "$K8S_DIST/$f.yaml" >"$T_TMP/dry.out" 2>&1 ||
			{ cat "$T_TMP/dry.out" >&2; fail "server dry run refused $f.yaml"; }
		grep -q '(server dry run)' "$T_TMP/dry.out" || fail "no server dry run for $f.yaml"
	done
	# nothing was stored by the dry run
	kc get crd xdpprograms.bpfd.dev >/dev/null 2>&1 && fail "dry run created a CRD"
	return 0
}

test_crds_served() {
	k8s_need
	k8s_apply_dist
	kinds=$(kc api-resources --api-group=bpfd.dev -o name | sort | tr '\n' ' ')
	want="bpfnodestates.bpfd.dev bpfprograms.bpfd.dev fentryprograms.bpfd.dev fexitprograms.bpfd.dev kprobeprograms.bpfd.dev tcprograms.bpfd.dev tcxprograms.bpfd.dev tracepointprograms.bpfd.dev uprobeprograms.bpfd.dev xdpprograms.bpfd.dev "
	[ "$kinds" = "$want" ] || fail "served kinds: $kinds"
	for k in $kinds; do
		scope=$(kc get crd "$k" -o jsonpath='{.spec.scope}/{.spec.versions[0].subresources.status}')
		[ "$scope" = "Cluster/{}" ] || fail "$k: scope/status subresource is $scope"
	done
}

xdp() {
	# xdp NAME EXTRA-SPEC-LINES
	cat <<EOT
apiVersion: bpfd.dev/v1alpha1
kind: XdpProgram
metadata:
  name: $1
spec:
  bpffunctionname: xdp_pass
  nodeselector: {}
  bytecode:
    image:
      url: quay.io/bpfd-bytecode/xdp_pass:latest
$2
EOT
}

test_defaults_and_columns() {
	k8s_need
	k8s_apply_dist
	xdp pass-all "  interfaceselector: {primarynodeinterface: true}
  priority: 55" | kc apply -f - >/dev/null || fail "apply XdpProgram"
	po=$(kc get xdpprogram pass-all -o jsonpath='{.spec.proceedon}')
	[ "$po" = '["pass","dispatcher_return"]' ] || fail "proceedon default: $po"
	pp=$(kc get xdpprogram pass-all -o jsonpath='{.spec.bytecode.image.imagepullpolicy}')
	[ "$pp" = IfNotPresent ] || fail "imagepullpolicy default: $pp"
	kc get xdpprograms >"$T_TMP/get.out" || fail "kubectl get"
	head -n 1 "$T_TMP/get.out" | grep -q 'NAME *FUNCTION *PRIORITY *STATUS *AGE' ||
		fail "columns: $(head -n 1 "$T_TMP/get.out")"
	grep -q '^pass-all *xdp_pass *55 ' "$T_TMP/get.out" || fail "row: $(cat "$T_TMP/get.out")"
	kc get bpfd >"$T_TMP/cat.out" 2>&1 || fail "kubectl get bpfd (category)"
	grep -q 'xdpprogram.bpfd.dev/pass-all' "$T_TMP/cat.out" || fail "category: $(cat "$T_TMP/cat.out")"
	cat <<EOT | kc apply -f - >/dev/null || fail "apply TcProgram"
apiVersion: bpfd.dev/v1alpha1
kind: TcProgram
metadata: {name: tc-one}
spec:
  bpffunctionname: stats
  nodeselector: {matchLabels: {role: edge}}
  bytecode: {path: /opt/tc.o}
  interfaceselector: {interfaces: [eth0]}
  priority: 5
  direction: ingress
EOT
	po=$(kc get tcprogram tc-one -o jsonpath='{.spec.proceedon}')
	[ "$po" = '["pipe","dispatcher_return"]' ] || fail "tc proceedon default: $po"
	cat <<EOT | kc apply -f - >/dev/null || fail "apply KprobeProgram"
apiVersion: bpfd.dev/v1alpha1
kind: KprobeProgram
metadata: {name: kp}
spec:
  bpffunctionname: kp
  nodeselector: {}
  bytecode: {path: /opt/kp.o}
  func_names: [try_to_wake_up]
EOT
	v=$(kc get kprobeprogram kp -o jsonpath='{.spec.offset}/{.spec.retprobe}')
	[ "$v" = "0/false" ] || fail "kprobe defaults: $v"
}

test_refused() {
	k8s_need
	k8s_apply_dist
	xdp bad-prio "  interfaceselector: {primarynodeinterface: true}
  priority: 2000" | kc apply -f - >"$T_TMP/e1" 2>&1 && fail "priority 2000 accepted"
	grep -q 'spec.priority' "$T_TMP/e1" || fail "message: $(cat "$T_TMP/e1")"
	xdp bad-sel "  interfaceselector: {primarynodeinterface: true, interfaces: [eth0]}
  priority: 1" | kc apply -f - >"$T_TMP/e2" 2>&1 && fail "two interface selectors accepted"
	grep -q 'interfaceselector' "$T_TMP/e2" || fail "message: $(cat "$T_TMP/e2")"
	xdp bad-po "  interfaceselector: {interfaces: [eth0]}
  priority: 1
  proceedon: [pass, fly]" | kc apply -f - >"$T_TMP/e3" 2>&1 && fail "proceedon fly accepted"
	grep -q 'proceedon' "$T_TMP/e3" || fail "message: $(cat "$T_TMP/e3")"
	cat <<EOT | kc apply -f - >"$T_TMP/e4" 2>&1 && fail "bytecode with image and path accepted"
apiVersion: bpfd.dev/v1alpha1
kind: TracepointProgram
metadata: {name: tp-bad}
spec:
  bpffunctionname: tp
  nodeselector: {}
  bytecode: {path: /a.o, image: {url: x}}
  names: [syscalls/sys_enter_kill]
EOT
	grep -q 'bytecode' "$T_TMP/e4" || fail "message: $(cat "$T_TMP/e4")"
	return 0
}

test_agent_rights() {
	k8s_need
	k8s_apply_dist
	sa=system:serviceaccount:bpfd:bpfd-agent
	for v in "list xdpprograms.bpfd.dev" "watch tcxprograms.bpfd.dev" \
		"create bpfprograms.bpfd.dev" "update bpfprograms.bpfd.dev/status" \
		"update xdpprograms.bpfd.dev/finalizers" "update xdpprograms.bpfd.dev/status" \
		"create bpfnodestates.bpfd.dev" "get nodes" "watch nodes" \
		"get secrets -n bpfd" "update leases.coordination.k8s.io -n bpfd"; do
		# shellcheck disable=SC2086
		[ "$(kc auth can-i $v --as $sa 2>/dev/null)" = yes ] || fail "the agent cannot $v"
	done
	for v in "create xdpprograms.bpfd.dev" "delete nodes" "update leases.coordination.k8s.io -n default" \
		"create pods -n bpfd"; do
		# shellcheck disable=SC2086
		[ "$(kc auth can-i $v --as $sa 2>/dev/null)" = no ] || fail "the agent may $v"
	done
}

k8s_up
run_tests k8s_manifests test_crds_generated test_dry_run_server test_crds_served \
	test_defaults_and_columns test_refused test_agent_rights
