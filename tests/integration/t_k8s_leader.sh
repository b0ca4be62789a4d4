#!/bin/sh
# t_k8s_leader.sh - cluster status without an operator: two bpfd-agents (node1, node2, each
# with its own bpfd) against one real kube-apiserver elect exactly one leader through the
# Lease bpfd/bpfd-agent-leader; the leader writes the TracepointPrograms' aggregate
# conditions (ReconcileSuccess; ReconcileError naming node2, whose bpfd cannot see the
# bytecode file) and owns their finalizer; SIGKILLed, it is replaced once the Lease
# expires and the new leader keeps the status right; a deleted program keeps its
# finalizer (DeleteError naming the node) until every node unloaded it; SIGTERM gives
# the Lease up at once.
# vm: no (a Kubernetes control plane on the host; the kernel side is bpfctl's own tests)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"

TP_OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
LEASE_S=6
FIN=bpfd.dev.operator/finalizer

# start_bpfd NODE [WRAPPER...]: a bpfd of its own for NODE (run dir $T_TMP/NODE)
start_bpfd() {
	node=$1
	shift
	mkdir -p "$T_TMP/$node"
	"$@" "$BPFD" --rundir "$T_TMP/$node" >>"$T_TMP/bpfd-$node.log" 2>&1 &
	pid=$!
	on_exit "kill -TERM $pid; sleep 0.2; kill -9 $pid; umount -l $T_TMP/$node/fs"
	i=0
	until [ -S "$T_TMP/$node/bpfd.sock" ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
			cat "$T_TMP/bpfd-$node.log" >&2
			fail "bpfd of $node did not start"
		fi
		sleep 0.05
	done
}

# ctl_on NODE ARGS: bpfctl on NODE's bpfd
ctl_on() {
	n=$1
	shift
	BPFD_ENDPOINT="unix://$T_TMP/$n/bpfd.sock" "$BPFD" bpfctl "$@"
}

# start_agent NODE: its pid in $T_TMP/agent-NODE.pid, its log in $T_TMP/agent-NODE.log
start_agent() {
	"$BPFD" bpfd-agent --kubeconfig "$T_TMP/agent.kubeconfig" --node "$1" \
		--endpoint "unix://$T_TMP/$1/bpfd.sock" --lease-duration $LEASE_S -v \
		>>"$T_TMP/agent-$1.log" 2>&1 &
	echo $! >"$T_TMP/agent-$1.pid"
	on_exit "kill -9 $!"
}

agent_pid() { cat "$T_TMP/agent-$1.pid"; }

# api PATH: GET from the API server as its admin (curl: polling with kubectl is slow)
api() {
	curl -fsS --max-time 5 --cacert "$K8S_CA" -H "Authorization: Bearer $K8S_ADMIN_TOKEN" \
		"$K8S_SERVER$1" 2>/dev/null
}

holder() {
	api /apis/coordination.k8s.io/v1/namespaces/bpfd/leases/bpfd-agent-leader |
		jq -r '.spec.holderIdentity // empty'
}

holder_is() { [ "$(holder)" = "$1" ]; }

lease_held() { [ -n "$(holder)" ]; }

TPP=/apis/bpfd.dev/v1alpha1/tracepointprograms

cond() {
	api "$TPP/$1" | jq -r ".status.conditions[-1].$2 // empty"
}

cond_is() { [ "$(cond "$1" type)" = "$2" ]; }

gone() {
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$K8S_CA" \
		-H "Authorization: Bearer $K8S_ADMIN_TOKEN" "$K8S_SERVER$TPP/$1")
	[ "$code" = 404 ]
}

# loaded_on NODE PROGRAM: NODE's bpfd holds the program of TracepointProgram PROGRAM
loaded_on() {
	uid=$(api "/apis/bpfd.dev/v1alpha1/bpfprograms/$2-$1-syscalls-sys-enter-getppid" |
		jq -r '.metadata.uid // empty') &&
		[ -n "$uid" ] &&
		[ "$(ctl_on "$1" list -m "bpfd.dev/uuid=$uid" -o json | jq length)" = 1 ]
}

tracepoint_program() {
	# tracepoint_program NAME BYTECODE
	cat <<EOT | kc apply -f - >/dev/null || fail "apply TracepointProgram $1"
apiVersion: bpfd.dev/v1alpha1
kind: TracepointProgram
metadata: {name: $1}
spec:
  bpffunctionname: tp_count
  nodeselector: {}
  bytecode: {path: $2}
  names: [syscalls/sys_enter_getppid]
EOT
}

logs() {
	for n in node1 node2; do
		echo "--- agent $n" >&2
		tail -n 40 "$T_TMP/agent-$n.log" >&2
	done
	kc get tracepointprograms -o yaml >&2 2>/dev/null
}

setup() {
	k8s_need
	ensure_bpffs
	k8s_apply_dist
	for n in node1 node2; do
		printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"}}' $n |
			kc create -f - >/dev/null || fail "create Node $n"
	done
	k8s_agent_kubeconfig "$T_TMP/agent.kubeconfig"
	# node2's bpfd runs in a mount namespace of its own where $T_TMP/hidden is an
	# empty tmpfs: a program loaded from there fails on node2 only
	mkdir -p "$T_TMP/hidden"
	cp "$TP_OBJ" "$T_TMP/hidden/" || fail "copy $TP_OBJ"
	start_bpfd node1
	# shellcheck disable=SC2016
	start_bpfd node2 unshare -m --propagation private sh -c \
		'mount -t tmpfs none "$0" && shift && exec "$@"' "$T_TMP/hidden" -
	start_agent node1
	start_agent node2
}

test_leader() {
	setup
	wait_for 30 lease_held || { logs; fail "no agent took the Lease"; }
	sleep 2
	lead=$(holder)
	case $lead in
	node1) follow=node2 ;;
	node2) follow=node1 ;;
	*) fail "the Lease is held by '$lead'" ;;
	esac
	grep -q "node $lead became the leader" "$T_TMP/agent-$lead.log" || { logs; fail "$lead's log"; }
	! grep -q "became the leader" "$T_TMP/agent-$follow.log" ||
		{ logs; fail "both agents became the leader"; }
	[ "$(api /apis/coordination.k8s.io/v1/namespaces/bpfd/leases/bpfd-agent-leader |
		jq .spec.leaseDurationSeconds)" = $LEASE_S ] ||
		fail "leaseDurationSeconds"

	# a program both nodes load: ReconcileSuccess, and the leader's finalizer on it
	tracepoint_program both "$TP_OBJ"
	wait_for 40 cond_is both ReconcileSuccess || { logs; fail "both: not ReconcileSuccess"; }
	for n in node1 node2; do
		loaded_on $n both || fail "both: not loaded on $n"
	done
	api "$TPP/both" | jq -e ".metadata.finalizers | index(\"$FIN\")" >/dev/null ||
		fail "no $FIN on the program"
	grep -q "TracepointProgram 'both': ReconcileSuccess" "$T_TMP/agent-$lead.log" ||
		fail "the leader's log does not name the program"
	! grep -q "TracepointProgram 'both': " "$T_TMP/agent-$follow.log" ||
		fail "the follower wrote the program's status"

	# a program node2's bpfd cannot read: ReconcileError naming node2, not node1
	tracepoint_program half "$T_TMP/hidden/prog_counter.bpf.o"
	wait_for 40 cond_is half ReconcileError || { logs; fail "half: not ReconcileError"; }
	msg=$(cond half message)
	echo "$msg" | grep -q "on nodes: node2 (" || fail "ReconcileError does not name node2: $msg"
	echo "$msg" | grep -q "half-node2-syscalls-sys-enter-getppid: NotLoaded" ||
		fail "ReconcileError does not name node2's BpfProgram: $msg"
	! echo "$msg" | grep -q node1 || fail "ReconcileError names node1: $msg"
	loaded_on node1 half || fail "half: not loaded on node1"
	cond_is both ReconcileSuccess || fail "both changed: $(cond both message)"

	# the leader dies: the other takes the Lease once it expired
	kill -9 "$(agent_pid $lead)"
	t0=$(date +%s)
	wait_for 30 holder_is $follow || { logs; fail "$follow did not take the Lease"; }
	took=$(($(date +%s) - t0))
	[ $took -ge 3 ] || fail "the Lease was taken after $took s, before it expired ($LEASE_S s)"
	grep -q "node $follow became the leader" "$T_TMP/agent-$follow.log" || fail "$follow's log"
	# restarted (as its DaemonSet would), the old leader follows
	start_agent $lead
	sleep 3
	holder_is $follow || fail "the Lease moved to $(holder)"
	[ "$(grep -c "node $lead became the leader" "$T_TMP/agent-$lead.log")" = 1 ] ||
		fail "the restarted $lead took the Lease"
	# the new leader writes status: a new program, the failed one unchanged
	tracepoint_program third "$TP_OBJ"
	wait_for 40 cond_is third ReconcileSuccess || { logs; fail "third: not ReconcileSuccess"; }
	grep -q "TracepointProgram 'third': ReconcileSuccess" "$T_TMP/agent-$follow.log" ||
		fail "third's status not written by the new leader"
	cond_is half ReconcileError && cond half message | grep -q "on nodes: node2 (" ||
		fail "half after the takeover: $(cond half message)"

	# deletion waits for every node: with the old leader's agent stopped, its node still
	# holds the program: DeleteError naming it, finalizer kept
	kill -STOP "$(agent_pid $lead)"
	on_exit "kill -CONT $(agent_pid $lead)"
	kc delete tracepointprogram both --wait=false >/dev/null || fail "delete both"
	wait_for 30 cond_is both DeleteError || { kill -CONT "$(agent_pid $lead)"; logs; fail "no DeleteError"; }
	# first naming both nodes maybe: the other node's agent unloads, writes Unloaded and
	# removes its finalizer after the deletion began
	lead_only() { cond both message | grep -q "on nodes: $lead\$"; }
	wait_for 30 lead_only || fail "DeleteError: $(cond both message)"
	sleep 2
	! gone both || fail "both was deleted while $lead still held it"
	loaded_on $lead both || fail "both unloaded on $lead while its agent was stopped"
	! loaded_on $follow both || fail "both still loaded on $follow"
	kill -CONT "$(agent_pid $lead)"
	wait_for 40 gone both || { logs; fail "both: finalizer not removed after every node unloaded"; }
	for n in node1 node2; do
		[ "$(ctl_on $n list -o json | jq '[.[] | select(.metadata["bpfd.dev/ProgramName"] == "both")] | length')" = 0 ] ||
			fail "both still loaded on $n"
	done
	grep -q "TracepointProgram 'both': unloaded on every node, finalizer removed" \
		"$T_TMP/agent-$follow.log" || fail "the leader's log of the finalizer"
	kc delete tracepointprogram half --wait=false >/dev/null
	wait_for 40 gone half || { logs; fail "half not deleted (node2 never loaded it)"; }

	# SIGTERM gives the Lease up: the other agent takes it before it would expire
	kill -TERM "$(agent_pid $follow)"
	t0=$(date +%s)
	wait_for $((LEASE_S - 2)) holder_is $lead || { logs; fail "the Lease was not given up"; }
	grep -q "node $follow gave up the leader Lease" "$T_TMP/agent-$follow.log" ||
		fail "no release in $follow's log"
	# back, it follows; deleting needs its node too
	start_agent $follow
	kc delete tracepointprogram third --wait=false >/dev/null
	wait_for 40 gone third || { logs; fail "third not deleted by the last leader"; }
	holder_is $lead || fail "the Lease moved to $(holder)"
}

test_flags() {
	"$BPFD" bpfd-agent --help >"$T_TMP/help" 2>&1 || fail "--help"
	for f in --no-leader-elect --lease-duration --lease-namespace bpfd-agent-leader \
		ReconcileError "$FIN"; do
		grep -q -- "$f" "$T_TMP/help" || fail "--help does not mention $f"
	done
	"$BPFD" bpfd-agent --node n --lease-duration 1 >"$T_TMP/out" 2>&1 && fail "--lease-duration 1 taken"
	grep -q "lease-duration 1 is not within 2..3600" "$T_TMP/out" || fail "message: $(cat "$T_TMP/out")"
}

k8s_up
run_tests k8s_leader test_flags test_leader
