#!/bin/sh
# t_k8s_faults.sh - bpfd-agent under faults, against a real kube-apiserver 1.20 + etcd +
# controller manager and a real local bpfd.  Each test loads a single XdpProgram and
# TracepointPrograms through the agent, breaks something, changes the *Programs, and
# checks that the node converges with no duplicate and no lost program: every BpfProgram
# of the node Loaded, exactly one bpfd program per BpfProgram uid (metadata
# bpfd.dev/uuid), no bpfd program without its BpfProgram, nothing else left.
#   - etcd compacted under the agent's watches: 410 Gone, the agent lists again;
#   - the API server killed mid-watch: the agent backs off and resumes; a change made
#     while it could not reach the server and one made after are both applied;
#   - bpfd restarted (SIGTERM, then SIGKILL) under the agent: the programs are bpfd's
#     restored ones (same kernel ids), not loaded twice; one added meanwhile is loaded;
#   - the agent killed (SIGKILL), a *Program changed, one deleted and one added while it
#     was down: modified in place, unloaded with the finalizer removed, loaded.
# The agent reaches the API server through tests/k8s/faultproxy.py, which the test can
# turn "down" for the agent alone.  The API server runs with --watch-cache=false: every
# watch reads etcd, so a compaction reaches the agent as 410 at once (with the watch
# cache it would come only after the cache's window moved on).
# vm: no (a Kubernetes control plane on the host; the kernel side is bpfctl's own tests)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"

XDP_OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
TP_OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
TESTBED="$(cd "$(dirname "$0")/../k8s" && pwd)/testbed.sh"
PROXY="$(cd "$(dirname "$0")/../k8s" && pwd)/faultproxy.py"

# ---- per test: a node, its bpfd, the proxy and the agent ----

# fault_begin NAME: own directory, daemon, Node NAME (label faults=NAME), veth, proxy
fault_begin() {
	begin "$1"
	NODE=$1
	trap fault_end EXIT
	k8s_need
	ensure_bpffs
	have_feature xdp || skip "the kernel cannot attach XDP (bpfd --probe)"
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"faults":"%s"}}}' \
		"$NODE" "$NODE" | kc create -f - >/dev/null || fail "create Node $NODE"
	IF=$(echo "$NODE$T_ID" | cut -c1-12)
	make_veth_ns "$IF" "${IF}p" "ns$IF"
	start_daemon
	PROXY_PORT=$(free_port)
	"$PROXY" "$PROXY_PORT" "${K8S_SERVER##*:}" "$T_TMP/proxy.state" 2>"$T_TMP/proxy.log" &
	PROXY_PID=$!
	wait_proxy up
	k8s_agent_kubeconfig "$T_TMP/agent.kubeconfig" "https://127.0.0.1:$PROXY_PORT" \
		"$(cat "$BASE_TMP/agent.token")"
	start_agent
}

fault_end() {
	[ -n "${AGENT_PID:-}" ] && kill -9 "$AGENT_PID" 2>/dev/null
	[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
	kc delete xdpprograms,tracepointprograms -l "faults=${NODE:-none}" --wait=false >/dev/null 2>&1
	end_test
}

wait_proxy() {
	wait_for 10 grep -qx "$1" "$T_TMP/proxy.state" || fail "the proxy did not go $1"
}

# The API server unreachable for the agent (open connections cut, new ones refused), or back.
proxy_down() {
	kill -USR1 "$PROXY_PID"
	wait_proxy down
}
proxy_up() {
	kill -USR2 "$PROXY_PID"
	wait_proxy up
}

start_agent() {
	"$BPFD" bpfd-agent --kubeconfig "$T_TMP/agent.kubeconfig" --node "$NODE" \
		--endpoint "unix://$BPFD_SOCK" -v >>"$T_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
}

# ---- the *Programs (labelled faults=NODE, selecting only this test's node) ----

# program KIND NAME FUNCTION OBJECT SPEC-LINE...: a *Program of this test
program() {
	{
		printf 'apiVersion: bpfd.dev/v1alpha1\nkind: %s\n' "$1"
		printf 'metadata: {name: %s, labels: {faults: %s}}\nspec:\n' "$2" "$NODE"
		printf '  bpffunctionname: %s\n  bytecode: {path: %s}\n' "$3" "$4"
		printf '  nodeselector: {matchLabels: {faults: %s}}\n' "$NODE"
		shift 4
		printf '  %s\n' "$@"
	} | kc apply -f - >/dev/null || fail "apply $*"
}
# xdp_program NAME PRIORITY; tp_program NAME SYSCALL
xdp_program() {
	program XdpProgram "$1" chain_xdp "$XDP_OBJ" "interfaceselector: {interfaces: [$IF]}" \
		"priority: $2"
}
tp_program() {
	program TracepointProgram "$1" tp_count "$TP_OBJ" "names: [syscalls/sys_enter_$2]"
}

# BpfProgram names (the original's naming)
bp_xdp() { echo "$1-$NODE-$(echo "$IF" | tr 'A-Z_' 'a-z-')"; }
bp_tp() { echo "$1-$NODE-syscalls-sys-enter-$2"; }

# converged BPFPROGRAM...: the node's BpfPrograms are exactly these, each Loaded; bpfd
# holds exactly one program per uid and no other program.  Says what differs (stdout).
converged() {
	kc get bpfprograms -l "kubernetes.io/hostname=$NODE" -o json >"$T_TMP/bps.json" 2>&1 ||
		{ echo "kubectl get bpfprograms failed"; return 1; }
	bpfctl list -o json >"$T_TMP/progs.json" 2>&1 || { echo "bpfctl list failed"; return 1; }
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	have=$(jq -r '.items[].metadata.name' "$T_TMP/bps.json" | sort | tr '\n' ' ')
	[ "$want" = "$have" ] || { echo "BpfPrograms: want [$want], have [$have]"; return 1; }
	for bp in "$@"; do
		c=$(jq -r --arg n "$bp" '.items[] | select(.metadata.name == $n) |
			.status.conditions[-1:][0].type // "none"' "$T_TMP/bps.json")
		[ "$c" = Loaded ] || { echo "$bp is $c, not Loaded"; return 1; }
		uid=$(jq -r --arg n "$bp" '.items[] | select(.metadata.name == $n) | .metadata.uid' \
			"$T_TMP/bps.json")
		k=$(jq --arg u "$uid" '[.[] | select(.info.metadata["bpfd.dev/uuid"] == $u)] | length' \
			"$T_TMP/progs.json")
		[ "$k" = 1 ] || { echo "bpfd holds $k programs for $bp (uuid $uid)"; return 1; }
	done
	k=$(jq length "$T_TMP/progs.json")
	[ "$k" = $# ] || { echo "bpfd holds $k programs, want $#"; return 1; }
}

# wait_converged SECONDS BPFPROGRAM...
wait_converged() {
	s=$1
	shift
	if ! wait_for "$s" converged "$@"; then
		converged "$@"
		bpfctl list >&2
		tail -n 40 "$T_TMP/agent.log" >&2
		fail "the node did not converge to: $*"
	fi
}

priority_is() {
	bpfctl get "$1" 2>/dev/null | grep -qi "priority.*$2"
}

# log_since MARK PATTERN: PATTERN in the agent log after line MARK
log_since() {
	tail -n +"$(($1 + 1))" "$T_TMP/agent.log" | grep -q "$2"
}
log_mark() { wc -l <"$T_TMP/agent.log"; }

etcd_compact() {
	rev=$(ETCDCTL_API=3 etcdctl --endpoints="$K8S_ETCD" endpoint status -w json |
		jq '.[0].Status.header.revision')
	[ -n "$rev" ] && [ "$rev" -gt 0 ] || fail "etcd revision"
	ETCDCTL_API=3 etcdctl --endpoints="$K8S_ETCD" compact "$rev" >/dev/null ||
		fail "etcdctl compact $rev"
}

# ---- the faults ----

# two_loaded P: XdpProgram P-x (priority 50) and TracepointProgram P-a loaded through
# the agent of node P; sets x a (BpfPrograms), idx ida (kernel ids)
two_loaded() {
	fault_begin "$1"
	xdp_program "$1-x" 50
	tp_program "$1-a" getppid
	x=$(bp_xdp "$1-x") a=$(bp_tp "$1-a" getppid)
	wait_converged 60 "$x" "$a"
	idx=$(loaded_id "$x") ida=$(loaded_id "$a")
}

# three_loaded P: two_loaded and TracepointProgram P-b; sets b, idb too
three_loaded() {
	two_loaded "$1"
	tp_program "$1-b" getpid
	b=$(bp_tp "$1-b" getpid)
	wait_converged 60 "$x" "$a" "$b"
	idb=$(loaded_id "$b")
}

# three_changed P PRIORITY: P-x's priority changed, P-b deleted, P-c added; sets c
three_changed() {
	xdp_program "$1-x" "$2"
	kc delete tracepointprogram "$1-b" --wait=false >/dev/null || fail "delete $1-b"
	tp_program "$1-c" getuid
	c=$(bp_tp "$1-c" getuid)
}

# three_converged P PRIORITY: P-x at PRIORITY (modified in place), P-a untouched, P-b's program
# unloaded and its BpfProgram gone, P-c loaded; nothing twice
three_converged() {
	wait_converged 60 "$x" "$a" "$c"
	priority_is "$(loaded_id "$x")" "$2" || fail "XDP priority is not $2: $(bpfctl list)"
	[ "$(loaded_id "$a")" = "$ida" ] || fail "$1-a was reloaded ($ida -> $(loaded_id "$a"))"
	! bpfctl get "$idb" >/dev/null 2>&1 || fail "program $idb of the deleted $1-b is loaded"
}

test_etcd_compaction_410() {
	three_loaded fc
	# cut off: changes, then etcd compacts past every resourceVersion the agent saw
	proxy_down
	mark=$(log_mark)
	three_changed fc 60
	etcd_compact
	proxy_up
	three_converged fc 60
	log_since "$mark" "tracepointprograms from resourceVersion [0-9]*: 410 Gone (ERROR event\|HTTP status)" ||
		{ cat "$T_TMP/agent.log" >&2; fail "no 410 and re-list of tracepointprograms"; }
	log_since "$mark" "xdpprograms from resourceVersion [0-9]*: 410 Gone (ERROR event\|HTTP status)" ||
		fail "no 410 and re-list of xdpprograms"
}

test_apiserver_restart() {
	two_loaded fa
	# killed mid-watch; while it starts again the agent still cannot reach it (proxy)
	mark=$(log_mark)
	"$TESTBED" stop-apiserver "$K8S_DIR" || fail "stop the API server"
	proxy_down
	"$TESTBED" start-apiserver "$K8S_DIR" || fail "start the API server"
	log_since "$mark" "Failed to watch .*; retrying in" ||
		{ cat "$T_TMP/agent.log" >&2; fail "the agent did not notice the API server go"; }
	[ "$(tail -n +"$((mark + 1))" "$T_TMP/agent.log" |
		grep -c "Failed to watch xdpprograms .*retrying in")" -ge 2 ] ||
		fail "the agent did not retry"
	kill -0 "$AGENT_PID" || fail "the agent died"
	# a change made while the agent could not reach the server
	tp_program fa-b getpid
	proxy_up
	b=$(bp_tp fa-b getpid)
	wait_converged 90 "$x" "$a" "$b"
	# ... and one after it resumed
	xdp_program fa-x 70
	wait_for 30 priority_is "$(loaded_id "$x")" 70 ||
		{ tail -n 30 "$T_TMP/agent.log" >&2; fail "priority 70 not applied"; }
	wait_converged 30 "$x" "$a" "$b"
	[ "$(loaded_id "$a")" = "$ida" ] || fail "fa-a was reloaded"
	[ "$(loaded_id "$x")" = "$idx" ] ||
		fail "fa-x was reloaded ($idx -> $(loaded_id "$x")): a priority change is a Modify"
	# nothing was compacted: each watch resumed from its resourceVersion, no re-list
	log_since "$mark" "watch /apis/bpfd.dev/v1alpha1/tracepointprograms broke .*resuming from" ||
		fail "the tracepointprograms watch did not resume"
	! log_since "$mark" "410 Gone" || fail "a re-list (410) where a resume was due"
	kill -0 "$AGENT_PID" || fail "the agent died"
}

test_bpfd_restart() {
	two_loaded fb
	for sig in TERM KILL; do
		mark=$(log_mark)
		kill -"$sig" "$BPFD_PID"
		wait "$BPFD_PID" 2>/dev/null
		# a change: the pass it starts finds bpfd gone (SIGTERM: a program the agent
		# cannot load until bpfd is back)
		if [ $sig = TERM ]; then
			tp_program fb-b getpid
		else
			kc label tracepointprogram fb-a poke=1 >/dev/null || fail "label fb-a"
		fi
		wait_for 20 log_since "$mark" "Failed to reconcile node $NODE" ||
			{ tail -n 20 "$T_TMP/agent.log" >&2; fail "the agent did not notice bpfd go (SIG$sig)"; }
		start_daemon
		b=$(bp_tp fb-b getpid)
		wait_converged 60 "$x" "$a" "$b"
		[ "$(loaded_id "$x")" = "$idx" ] && [ "$(loaded_id "$a")" = "$ida" ] ||
			fail "after SIG$sig the programs are not bpfd's restored ones ($idx $ida -> $(loaded_id "$x") $(loaded_id "$a"))"
		[ $sig = TERM ] && idb=$(loaded_id "$b")
		[ "$(loaded_id "$b")" = "$idb" ] || fail "fb-b was reloaded after SIG$sig"
	done
	kill -0 "$AGENT_PID" || fail "the agent died"
}

test_agent_restart() {
	three_loaded fr
	kill -9 "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	# while it is down: changed, deleted (the garbage collector marks its BpfProgram,
	# which the agent's finalizer holds), added
	three_changed fr 65
	wait_for 30 sh -c "$K8S_KUBECTL --kubeconfig $K8S_KUBECONFIG get bpfprogram $b -o jsonpath='{.metadata.deletionTimestamp}' | grep -q ." ||
		fail "the garbage collector did not mark $b"
	bpfctl get "$idb" >/dev/null 2>&1 || fail "fr-b's program went without the agent"
	start_agent
	three_converged fr 65
	! kc get bpfprogram "$b" >/dev/null 2>&1 || fail "$b is still there (finalizer)"
	grep -q "BpfProgram '$b' (node $NODE): unloaded, finalizer removed" "$T_TMP/agent.log" ||
		fail "the log does not name the unload of $b"
}

# once for the script: the CRDs and RBAC, the agent's token
fault_setup() {
	[ -n "$K8S_SKIP" ] && return 0
	[ -z "${K8S_FAILED:-}" ] || return 0
	(
		k8s_apply_dist
		k8s_agent_token >"$T_TMP/agent.token"
	) || K8S_FAILED="applying dist/k8s failed"
}

K8S_APISERVER_ARGS=--watch-cache=false
export K8S_APISERVER_ARGS
k8s_up
fault_setup
run_tests k8s_faults test_etcd_compaction_410 test_apiserver_restart test_bpfd_restart \
	test_agent_restart
