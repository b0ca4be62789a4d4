#!/bin/sh
# t_k8s_agent.sh - bpfd-agent as node1 against a real kube-apiserver 1.20 (+ etcd and the
# controller manager's garbage collector) and a real local bpfd: an XdpProgram and a
# TracepointProgram become BpfPrograms (the original's name, labels, owner reference,
# finalizer) Loaded in bpfd with their uuid; a priority change is a Modify (same id); a Node relabelled
# out of the selector gives NotSelected and unloads; deleting the *Program unloads, the
# agent removes its finalizer and the BpfProgram is garbage-collected; BpfNodeState
# lists the agent's program and a foreign one loaded with bpftool; a program unloaded
# behind the agent's back is loaded again at bpfd's unload event.  The agent runs
# with the bpfd-agent service account's token (dist/k8s/rbac.yaml's rights).
# vm: no (a Kubernetes control plane on the host; the kernel side is bpfctl's own tests)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"

XDP_OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
TP_OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"

# The agent's kubeconfig: the API server with the service account's token.
agent_kubeconfig() {
	k8s_agent_kubeconfig "$T_TMP/agent.kubeconfig"
}

start_agent() {
	# start_agent [OPTION...]
	# the agent of an earlier test (its on_exit runs only when the script ends)
	[ -f "$T_TMP/agent.pid" ] && kill -9 "$(cat "$T_TMP/agent.pid")" 2>/dev/null
	"$BPFD" bpfd-agent --kubeconfig "$T_TMP/agent.kubeconfig" --node node1 \
		--endpoint "unix://$BPFD_SOCK" -v "$@" >>"$T_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	echo $AGENT_PID >"$T_TMP/agent.pid"
	on_exit "kill -9 $AGENT_PID"
}

unloaded() {
	! bpfctl list -o json | jq -e ".[] | select(.kernel_info.id == $1)" >/dev/null
}

cond_is() {
	[ "$(kc get bpfprogram "$1" -o jsonpath='{.status.conditions[-1:].type}' 2>/dev/null)" = "$2" ]
}

setup() {
	k8s_need
	ensure_bpffs
	have_feature xdp || skip "the kernel cannot attach XDP (bpfd --probe)"
	k8s_apply_dist
	kc get node node1 >/dev/null 2>&1 ||
		printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node1","labels":{"role":"edge"}}}' |
		kc create -f - >/dev/null || fail "create Node node1"
	agent_kubeconfig
	start_daemon
}

veth() {
	IF=$(echo "k8a$T_ID" | cut -c1-12)
	make_veth_ns "$IF" "${IF}p" "ns$IF"
}

xdp_program() {
	# xdp_program NAME PRIORITY
	cat <<EOT | kc apply -f - >/dev/null || fail "apply XdpProgram $1"
apiVersion: bpfd.dev/v1alpha1
kind: XdpProgram
metadata: {name: $1}
spec:
  bpffunctionname: chain_xdp
  nodeselector: {matchLabels: {role: edge}}
  bytecode: {path: $XDP_OBJ}
  interfaceselector: {interfaces: [$IF]}
  priority: $2
EOT
}

test_xdp_lifecycle() {
	setup
	veth
	start_agent
	xdp_program pass-one 50
	bp="pass-one-node1-$(echo "$IF" | tr 'A-Z_' 'a-z-')"
	wait_for 30 cond_is "$bp" Loaded || { cat "$T_TMP/agent.log" >&2; fail "$bp not Loaded"; }
	# the original's metadata
	[ "$(kc get bpfprogram "$bp" -o jsonpath='{.metadata.labels.bpfd\.dev/ownedByProgram}')" = pass-one ] ||
		fail "owner label"
	[ "$(kc get bpfprogram "$bp" -o jsonpath='{.metadata.labels.kubernetes\.io/hostname}')" = node1 ] ||
		fail "node label"
	[ "$(kc get bpfprogram "$bp" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].controller}')" = "XdpProgram/true" ] ||
		fail "owner reference"
	kc get bpfprogram "$bp" -o jsonpath='{.metadata.finalizers}' | grep -q 'bpfd.dev.xdpprogramcontroller/finalizer' ||
		fail "finalizer"
	id=$(loaded_id "$bp")
	[ -n "$id" ] || fail "bpfd holds no program with the BpfProgram's uuid"
	wait_for 10 sh -c "[ \"\$($K8S_KUBECTL --kubeconfig $K8S_KUBECONFIG get bpfprogram $bp -o jsonpath='{.metadata.annotations.bpfd\.dev/ProgramId}')\" = $id ]" ||
		fail "ProgramId annotation is not $id"

	# a priority change: modified in place (Modify), the program id stays
	xdp_program pass-one 60
	prio60() { bpfctl get "$id" -o json | jq -e '.info.attach.xdp_attach_info.priority == 60'; }
	wait_for 30 prio60 || { cat "$T_TMP/agent.log" >&2; fail "priority of $id not changed to 60"; }
	[ "$(loaded_id "$bp")" = "$id" ] || fail "reloaded after the priority change (was $id)"
	new=$id

	# the node leaves the selector: NotSelected, unloaded
	kc label node node1 role=core --overwrite >/dev/null || fail "relabel"
	wait_for 30 cond_is "$bp" NotSelected || { cat "$T_TMP/agent.log" >&2; fail "not NotSelected"; }
	wait_for 10 unloaded "$new" || { cat "$T_TMP/agent.log" >&2; fail "program $new still loaded"; }
	kc label node node1 role=edge --overwrite >/dev/null
	wait_for 30 cond_is "$bp" Loaded || fail "not Loaded again"

	# deleted: unloaded, finalizer removed, BpfProgram garbage-collected
	kc delete xdpprogram pass-one --wait=false >/dev/null || fail "delete"
	wait_for 60 sh -c "! $K8S_KUBECTL --kubeconfig $K8S_KUBECONFIG get bpfprogram $bp" ||
		{ cat "$T_TMP/agent.log" >&2; fail "BpfProgram $bp not garbage-collected"; }
	[ "$(bpfctl list -o json | jq length)" = 0 ] || fail "programs left: $(bpfctl list)"
	grep -q "BpfProgram '$bp' (node node1)" "$T_TMP/agent.log" || fail "logs name object and node"
}

test_tracepoint() {
	setup
	start_agent
	cat <<EOT | kc apply -f - >/dev/null || fail "apply TracepointProgram"
apiVersion: bpfd.dev/v1alpha1
kind: TracepointProgram
metadata: {name: getppid}
spec:
  bpffunctionname: tp_count
  nodeselector: {}
  bytecode: {path: $TP_OBJ}
  names: [syscalls/sys_enter_getppid]
EOT
	bp=getppid-node1-syscalls-sys-enter-getppid
	wait_for 30 cond_is "$bp" Loaded || { cat "$T_TMP/agent.log" >&2; fail "$bp not Loaded"; }
	id=$(loaded_id "$bp")
	[ -n "$id" ] || fail "not in bpfd"
	# the node's inventory: the agent's program and a foreign one loaded with bpftool
	pin="/sys/fs/bpf/bpfd-k8s-$T_ID"
	bpftool prog load "$XDP_OBJ" "$pin" >/dev/null 2>&1 || fail "bpftool prog load"
	on_exit "rm -f $pin"
	fid=$(bpftool prog show pinned "$pin" -j | jq .id)
	state() {
		kc get bpfnodestate node1 -o json 2>/dev/null | jq -e "$1" >/dev/null
	}
	wait_for 30 state ".status.programs[] | select(.id == $fid and .owner == \"foreign\")" ||
		{ kc get bpfnodestate node1 -o yaml >&2; fail "foreign program $fid not in BpfNodeState"; }
	state ".status.programs[] | select(.id == $id and .owner == \"bpfd\" and .bpfprogram == \"$bp\" and .kind == \"tracepoint\" and .attachpoint == \"syscalls/sys_enter_getppid\")" ||
		{ kc get bpfnodestate node1 -o yaml >&2; fail "program $id not in BpfNodeState as bpfd's"; }
	state '.status.total == (.status.managed + .status.foreign) and .status.foreign >= 1' ||
		fail "counts"
	kc get bpfnodestates | grep -q '^node1 ' || fail "kubectl get bpfnodestates"
	# bpfd's Events stream starts a pass: with no periodic pass (--resync 3600) a
	# program unloaded behind the agent's back is loaded again
	start_agent --resync 3600 -v
	wait_for 30 grep -q "following bpfd's Events stream" "$T_TMP/agent.log" ||
		{ cat "$T_TMP/agent.log" >&2; fail "the agent does not follow bpfd's events"; }
	sleep 2		# its first pass is over
	bpfctl unload "$id" >/dev/null || fail "unload $id behind the agent's back"
	reloaded() {
		_n=$(loaded_id "$bp") && [ -n "$_n" ] && [ "$_n" != "$id" ]
	}
	wait_for 30 reloaded || { cat "$T_TMP/agent.log" >&2; fail "not loaded again after an unload behind its back"; }
	grep -q "bpfd event [0-9]*: unload of program $id " "$T_TMP/agent.log" ||
		{ cat "$T_TMP/agent.log" >&2; fail "the agent did not see bpfd's unload event"; }
	kc delete tracepointprogram getppid --wait=false >/dev/null
	wait_for 60 sh -c "! $K8S_KUBECTL --kubeconfig $K8S_KUBECONFIG get bpfprogram $bp" ||
		fail "not garbage-collected"
	[ "$(bpfctl list -o json | jq length)" = 0 ] || fail "programs left"
}

k8s_up
run_tests k8s_agent test_xdp_lifecycle test_tracepoint
