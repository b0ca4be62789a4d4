#!/bin/sh
# t_k8s_client.sh - the agent's Kubernetes client (src/core/k8s) against a real
# kube-apiserver 1.20 + etcd + kube-controller-manager on 127.0.0.1: the C driver
# tests/k8s/k8s_live.c runs its cases (token, client certificate and service account
# authentication, API errors, list + watch resume, 410 after an etcd compaction, an
# API server restarted mid-watch, /status, 409 retries) and this script reports them
# vm: no (a Kubernetes control plane on the host; nothing here depends on the kernel)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"

LIVE=${BPFD_BUILD:-$(pwd)/build}/tests/k8s/k8s_live

k8s_up
if [ -n "$K8S_SKIP" ] || [ -n "${K8S_FAILED:-}" ]; then
	test_k8s_client() { k8s_need; }
	run_tests k8s_client test_k8s_client
	exit $?
fi
[ -x "$LIVE" ] || { echo "FAIL: $LIVE is not built (make check builds it)"; echo "k8s_client: 0 passed, 1 failed"; exit 1; }
( test_apply() { k8s_apply_dist; }; test_apply ) || { echo "FAIL: apply dist/k8s"; echo "k8s_client: 0 passed, 1 failed"; exit 1; }
set -a
. "$K8S_DIR/env"
K8S_TESTS=$(cd "$(dirname "$0")" && pwd)
set +a
# the driver prints PASS/FAIL per case and "k8s_live: N passed, N failed, N skipped"
"$LIVE"
