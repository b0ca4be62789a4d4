#!/bin/sh
# testbed.sh - a real Kubernetes control plane on 127.0.0.1 for the bpfd-agent tests:
# etcd (Debian's etcd-server) + kube-apiserver + kube-controller-manager (built once from
# Debian's `kubernetes` source package by scripts/k8s-build.sh, `make deps`).
#
#   testbed.sh start DIR   start in DIR (created; certificates, data, logs); prints nothing
#                          on success and writes DIR/env (sourceable, below)
#   testbed.sh stop DIR    stop every process started in DIR (by PID) and remove DIR
#   testbed.sh restart-apiserver DIR   kill -9 the API server and start it again (same
#                          port, same etcd); waits until it is ready; updates DIR/env
#   testbed.sh stop-apiserver DIR      kill -9 the API server only (etcd and the
#                          controller manager stay); start-apiserver DIR starts it again
#                          (same port, same etcd), waits until it is ready, updates DIR/env
#   testbed.sh bindir      print the folder of the cached binaries (exit 77 if missing)
#
# Exit 77 (skip) when the binaries were never built: "run `make deps`".
# K8S_APISERVER_ARGS (start): more kube-apiserver flags, e.g. "--watch-cache=false" (every
# watch then reads etcd, so an etcd compaction gives a watcher 410 Gone at once).
# DIR/env defines: K8S_SERVER (https://127.0.0.1:PORT), K8S_CA, K8S_ADMIN_TOKEN,
# K8S_NODE1_TOKEN, K8S_NODE2_TOKEN, K8S_KUBECONFIG (admin, token), K8S_KUBECTL,
# K8S_ETCD (http://127.0.0.1:PORT), K8S_NODE1_CERT/K8S_NODE1_KEY (x509 client
# certificate of system:node:node1), K8S_APISERVER_PID, K8S_ETCD_PID, K8S_KCM_PID.
# The server certificate names DNS:localhost, DNS:kubernetes.default.svc and
# IP:127.0.0.1.  Ports are free ones picked at random; several test beds can run at once.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

bindir() {
	if [ -n "${BPFD_K8S_BIN:-}" ]; then
		d=$BPFD_K8S_BIN
	else
		d=$("$top/scripts/k8s-build.sh" --print-dir 2>/dev/null)/bin || d=
	fi
	for b in kube-apiserver kube-controller-manager; do
		if [ -z "$d" ] || [ ! -x "$d/$b" ]; then
			echo "kube-apiserver and kube-controller-manager are not built" \
				"(${d:-no cache folder}): run \`make deps\` (scripts/k8s-build.sh)" >&2
			return 77
		fi
	done
	command -v etcd >/dev/null 2>&1 || {
		echo "etcd is missing: run \`make deps\` (package etcd-server)" >&2
		return 77
	}
	echo "$d"
}

# A TCP port nobody listens on now (random, so parallel test beds rarely collide;
# a collision makes the start fail and it is retried with other ports).
free_port() {
	while :; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
		ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }
	done
}

pki() {
	d=$1
	cd "$d/pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bpfd-test-k8s-ca \
		-keyout ca.key -out ca.crt 2>/dev/null
	cat >san.cnf <<EOT
[ext]
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc,IP:127.0.0.1
extendedKeyUsage=serverAuth
[client]
extendedKeyUsage=clientAuth
EOT
	openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
		-keyout apiserver.key -out apiserver.csr 2>/dev/null
	openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.cnf -extensions ext -out apiserver.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:node1" \
		-keyout node1.key -out node1.csr 2>/dev/null
	openssl x509 -req -in node1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.cnf -extensions client -out node1.crt 2>/dev/null
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	tok() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
	admin=$(tok) n1=$(tok) n2=$(tok)
	cat >tokens.csv <<EOT
$admin,admin,1,"system:masters"
$n1,system:node:node1,2,"system:nodes"
$n2,system:node:node2,3,"system:nodes"
EOT
	chmod 600 ./*.key tokens.csv
	cd - >/dev/null
}

kubeconfig() {
	# kubeconfig FILE SERVER CA TOKEN
	cat >"$1" <<EOT
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $2
    certificate-authority: $3
contexts:
- name: test
  context:
    cluster: test
    user: admin
current-context: test
users:
- name: admin
  user:
    token: $4
EOT
}

wait_http() {
	# wait_http URL SECONDS PID: until URL answers 200 (curl, with the admin token),
	# for SECONDS of the clock (a curl may take its 2 s on a busy machine)
	end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt $end ]; do
		kill -0 "$3" 2>/dev/null || return 1
		if curl -fsS --max-time 2 --cacert "$D/pki/ca.crt" \
			-H "Authorization: Bearer $admin" "$1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start_once() {
	D=$1
	bin=$2
	rm -rf "$D/etcd" "$D"/*.pid
	mkdir -p "$D/etcd" "$D/pki"
	[ -f "$D/pki/ca.crt" ] || pki "$D"
	admin=$(sed -n 's/^\([^,]*\),admin,.*/\1/p' "$D/pki/tokens.csv")
	n1=$(sed -n 's/^\([^,]*\),system:node:node1,.*/\1/p' "$D/pki/tokens.csv")
	n2=$(sed -n 's/^\([^,]*\),system:node:node2,.*/\1/p' "$D/pki/tokens.csv")
	ec=$(free_port) ep=$(free_port) as=$(free_port)
	etcd --name t --data-dir "$D/etcd" --unsafe-no-fsync \
		--listen-client-urls "http://127.0.0.1:$ec" --advertise-client-urls "http://127.0.0.1:$ec" \
		--listen-peer-urls "http://127.0.0.1:$ep" --initial-advertise-peer-urls "http://127.0.0.1:$ep" \
		--initial-cluster "t=http://127.0.0.1:$ep" --listen-metrics-urls "" \
		>"$D/etcd.log" 2>&1 &
	echo $! >"$D/etcd.pid"
	# kept as a script: `testbed.sh restart-apiserver DIR` starts the same server again
	cat >"$D/apiserver.sh" <<EOT
#!/bin/sh
exec "$bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$ec" \\
	--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$as" \\
	--insecure-port=0 --endpoint-reconciler-type=none \\
	--tls-cert-file="$D/pki/apiserver.crt" --tls-private-key-file="$D/pki/apiserver.key" \\
	--client-ca-file="$D/pki/ca.crt" --token-auth-file="$D/pki/tokens.csv" \\
	--authorization-mode=Node,RBAC --allow-privileged=true \\
	--service-account-key-file="$D/pki/sa.pub" \\
	--service-account-signing-key-file="$D/pki/sa.key" \\
	--service-account-issuer=https://kubernetes.default.svc \\
	--service-cluster-ip-range=10.0.0.0/24 \\
	--cert-dir="$D/pki/generated" ${K8S_APISERVER_ARGS:-} >>"$D/apiserver.log" 2>&1
EOT
	chmod +x "$D/apiserver.sh"
	"$D/apiserver.sh" &
	echo $! >"$D/apiserver.pid"
	kubeconfig "$D/admin.kubeconfig" "https://127.0.0.1:$as" "$D/pki/ca.crt" "$admin"
	if ! wait_http "https://127.0.0.1:$as/readyz" 60 "$(cat "$D/apiserver.pid")"; then
		tail -n 20 "$D/apiserver.log" >&2
		return 1
	fi
	# garbagecollector: ownerReferences; serviceaccount(-token): in-cluster tokens.
	"$bin/kube-controller-manager" --kubeconfig="$D/admin.kubeconfig" \
		--controllers=garbagecollector,namespace,serviceaccount,serviceaccount-token \
		--service-account-private-key-file="$D/pki/sa.key" --root-ca-file="$D/pki/ca.crt" \
		--use-service-account-credentials=false \
		--leader-elect=false --port=0 --secure-port=0 \
		>"$D/kcm.log" 2>&1 &
	echo $! >"$D/kcm.pid"
	kubectl=$(command -v kubectl || true)
	[ -x "$bin/kubectl" ] && kubectl=$bin/kubectl
	cat >"$D/env" <<EOT
K8S_SERVER=https://127.0.0.1:$as
K8S_CA=$D/pki/ca.crt
K8S_ADMIN_TOKEN=$admin
K8S_NODE1_TOKEN=$n1
K8S_NODE2_TOKEN=$n2
K8S_NODE1_CERT=$D/pki/node1.crt
K8S_NODE1_KEY=$D/pki/node1.key
K8S_KUBECONFIG=$D/admin.kubeconfig
K8S_KUBECTL=$kubectl
K8S_ETCD=http://127.0.0.1:$ec
K8S_BIN=$bin
K8S_DIR=$D
K8S_APISERVER_PID=$(cat "$D/apiserver.pid")
K8S_ETCD_PID=$(cat "$D/etcd.pid")
K8S_KCM_PID=$(cat "$D/kcm.pid")
EOT
}

stop_pids() {
	for f in "$1/kcm.pid" "$1/apiserver.pid" "$1/etcd.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

case ${1:-} in
start)
	[ $# = 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }
	bin=$(bindir) || exit $?
	mkdir -p "$2"
	D=$(cd "$2" && pwd)
	try=1
	until start_once "$D" "$bin"; do
		stop_pids "$D"
		if [ $try -ge 3 ]; then
			echo "testbed: the API server did not become ready (logs in $D)" >&2
			exit 1
		fi
		try=$((try + 1))
	done
	;;
stop)
	[ $# = 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
	[ -d "$2" ] || exit 0
	stop_pids "$2"
	rm -rf "$2"
	;;
restart-apiserver | stop-apiserver | start-apiserver)
	[ $# = 2 ] || { echo "usage: $0 $1 DIR" >&2; exit 2; }
	D=$(cd "$2" && pwd)
	. "$D/env"
	admin=$K8S_ADMIN_TOKEN
	if [ "$1" != start-apiserver ]; then
		kill -KILL "$(cat "$D/apiserver.pid")" 2>/dev/null || true
		while kill -0 "$(cat "$D/apiserver.pid")" 2>/dev/null; do sleep 0.05; done
	fi
	[ "$1" = stop-apiserver ] && exit 0
	"$D/apiserver.sh" &
	echo $! >"$D/apiserver.pid"
	sed -i "s/^K8S_APISERVER_PID=.*/K8S_APISERVER_PID=$!/" "$D/env"
	wait_http "$K8S_SERVER/readyz" 60 "$!" || { tail -n 20 "$D/apiserver.log" >&2; exit 1; }
	;;
bindir)
	bindir
	;;
*)
	echo "usage: $0 start DIR | stop DIR | restart-apiserver DIR | stop-apiserver DIR |" \
		"start-apiserver DIR | bindir" >&2
	exit 2
	;;
esac
