# k8s_lib.sh - the Kubernetes test bed for the bpfd-agent tests (sourced after lib.sh).
# k8s_up starts etcd + kube-apiserver + kube-controller-manager once per script
# (tests/k8s/testbed.sh) and stops them at exit; without the cached binaries
# (`make deps` never ran) K8S_SKIP holds the reason and k8s_need skips the test.
K8S_DIR="$T_TMP/k8s"
K8S_SKIP=

k8s_up() {
	out=$("$(dirname "$0")/../k8s/testbed.sh" start "$K8S_DIR" 2>&1)
	rc=$?
	if [ $rc = 77 ]; then
		K8S_SKIP="no test bed: $out"
		return 0
	fi
	on_exit "$(dirname "$0")/../k8s/testbed.sh stop $K8S_DIR"
	[ $rc = 0 ] || { echo "$out" >&2; K8S_SKIP=; K8S_FAILED="test bed did not start: $out"; return 1; }
	# shellcheck disable=SC1091
	. "$K8S_DIR/env"
	export K8S_SERVER K8S_CA K8S_ADMIN_TOKEN K8S_KUBECONFIG K8S_KUBECTL K8S_ETCD
}

k8s_need() {
	[ -z "${K8S_FAILED:-}" ] || fail "$K8S_FAILED"
	[ -z "$K8S_SKIP" ] || skip "$K8S_SKIP"
}

# kubectl as the admin of the test bed (the test bed's own 1.20 kubectl when built).
kc() {
	"$K8S_KUBECTL" --kubeconfig "$K8S_KUBECONFIG" "$@"
}

# The manifests of dist/k8s in the order of namespace.yaml's comment.
K8S_DIST="$(cd "$(dirname "$0")/../.." && pwd)/dist/k8s"
k8s_apply_dist() {
	for f in crds.yaml namespace.yaml rbac.yaml config.yaml; do
		kc apply -f "$K8S_DIST/$f" >>"$T_TMP/kubectl.log" 2>&1 || {
			cat "$T_TMP/kubectl.log" >&2
			fail "kubectl apply -f $f"
		}
	done
	kc wait --for condition=established --timeout=60s crd --all >>"$T_TMP/kubectl.log" 2>&1 ||
		fail "the CRDs were not established"
}

# wait_for SECONDS CMD...: until CMD succeeds, tried every 0.1 s for SECONDS of the
# clock (not a count of tries: a kubectl call takes from milliseconds to seconds, more
# on a busy machine); 1 if it never did.  The clock is /proc/uptime's, read with a
# shell builtin (hundredths of a second, never set back).
wait_for() {
	uptime_cs
	_wf_end=$((_cs + $1 * 100))
	shift
	until "$@" >/dev/null 2>&1; do
		uptime_cs
		[ "$_cs" -lt "$_wf_end" ] || return 1
		sleep 0.1
	done
}

uptime_cs() {
	read -r _cs _cs_idle </proc/uptime
	_cs=${_cs%.*}${_cs#*.}
}

# The token of the bpfd-agent service account (dist/k8s/rbac.yaml's rights;
# k8s_apply_dist first), once the controller manager's token controller made its
# secret (within 30 s); fails the test if it never comes.
k8s_agent_token() {
	uptime_cs
	_end=$((_cs + 3000))
	until _s=$(kc -n bpfd get sa bpfd-agent -o jsonpath='{.secrets[0].name}' 2>/dev/null) &&
		[ -n "$_s" ]; do
		uptime_cs
		[ "$_cs" -lt $_end ] || fail "no token secret for the bpfd-agent service account in 30 s"
		sleep 0.1
	done
	kc -n bpfd get secret "$_s" -o jsonpath='{.data.token}' | base64 -d
}

# k8s_agent_kubeconfig FILE [SERVER [TOKEN]]: a kubeconfig for bpfd-agent; SERVER
# defaults to the test bed's API server, TOKEN to the bpfd-agent service account's.
k8s_agent_kubeconfig() {
	_tok=${3:-}
	if [ -z "$_tok" ]; then
		_tok=$(k8s_agent_token) && [ -n "$_tok" ] ||
			fail "no token for the bpfd-agent service account"
	fi
	cat >"$1" <<EOT
apiVersion: v1
kind: Config
current-context: a
contexts: [{name: a, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "${2:-$K8S_SERVER}", certificate-authority: "$K8S_CA"}}]
users: [{name: u, user: {token: "$_tok"}}]
EOT
}

# The kernel program id bpfd holds for BpfProgram $1 (matched by its uid), or nothing.
loaded_id() {
	_uid=$(kc get bpfprogram "$1" -o jsonpath='{.metadata.uid}' 2>/dev/null) || return 1
	[ -n "$_uid" ] || return 1
	bpfctl list -m "bpfd.dev/uuid=$_uid" -o json | jq -r '.[0].kernel_info.id // empty'
}
