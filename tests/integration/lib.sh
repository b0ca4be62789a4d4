# lib.sh - shared helpers for the integration tests (sourced; POSIX sh + iproute2).
# A test script defines functions test_*, then calls `run_tests LABEL test_a test_b ...`.
# Every test runs in a subshell; `fail MSG` ends it as failed, `skip MSG` as skipped.
# Resources made with the helpers below are removed at the end, even after a failure.
set -u

BPFD=${BPFD:-$(pwd)/build/bpfd}
BPFD_TESTBPF=${BPFD_TESTBPF:-$(pwd)/build/tests/bpf}
T_ID="$$$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')"
T_TMP=$(mktemp -d "/tmp/bpfd-test.XXXXXX")
T_CLEANUP="$T_TMP/cleanup.sh"
: >"$T_CLEANUP"

# Register a cleanup command (run in reverse order at exit).
on_exit() {
	printf '%s\n' "$*" | cat - "$T_CLEANUP" >"$T_CLEANUP.new" && mv "$T_CLEANUP.new" "$T_CLEANUP"
}

t_cleanup() {
	sh "$T_CLEANUP" >/dev/null 2>&1
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "  error: $*" >&2; exit 1; }
skip() { echo "  skip reason: $*"; exit 77; }

# Run a command, failing the test with its output when it fails.
must() {
	"$@" >"$T_TMP/must.out" 2>&1 || { cat "$T_TMP/must.out" >&2; fail "command failed: $*"; }
}

# A netns with a veth pair: host end $1 in the root ns, peer $2 in netns $3 (names unique).
# Addresses 10.$4.0.1/24 (host) and 10.$4.0.2/24 (ns) when $4 is given.
make_veth_ns() {
	host=$1 peer=$2 ns=$3 net=${4:-}
	ip netns add "$ns" || fail "cannot create netns $ns"
	on_exit "ip netns del $ns"
	ip link add "$host" type veth peer name "$peer" || fail "cannot create veth $host"
	on_exit "ip link del $host"
	ip link set "$peer" netns "$ns"
	ip link set "$host" up
	ip -n "$ns" link set "$peer" up
	ip -n "$ns" link set lo up
	if [ -n "$net" ]; then
		ip addr add "10.$net.0.1/24" dev "$host"
		ip -n "$ns" addr add "10.$net.0.2/24" dev "$peer"
	fi
}

# Is bpffs mounted at /sys/fs/bpf (mount it if not, as the notes say the host needs)?
ensure_bpffs() {
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
	grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts ||
		mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
}

# Does `bpfd --probe --json` report feature $1 as available?
have_feature() {
	[ -f "$T_TMP/probe.json" ] || "$BPFD" --probe --json >"$T_TMP/probe.json" 2>/dev/null
	jq -e --arg f "$1" '.features[$f].available == true' "$T_TMP/probe.json" >/dev/null 2>&1
}

# Start a private daemon: rundir $T_TMP/run, socket $BPFD_SOCK; extra args are passed on.
start_daemon() {
	BPFD_RUNDIR="$T_TMP/run"
	BPFD_SOCK="$BPFD_RUNDIR/bpfd.sock"
	mkdir -p "$BPFD_RUNDIR"
	"$BPFD" --rundir "$BPFD_RUNDIR" "$@" >>"$T_TMP/daemon.log" 2>&1 &
	BPFD_PID=$!
	# make check SANITIZE=1: a report the daemon wrote on its stderr (UBSan does so
	# in the daemon, whatever log_path says) goes where tests/sanitize/reports.sh looks
	_san=
	[ -n "${SAN_REPORTS:-}" ] && _san="; grep -q -E 'runtime error:|ERROR: (Address|Leak)Sanitizer' $T_TMP/daemon.log && cp $T_TMP/daemon.log $SAN_REPORTS/stderr.$BPFD_PID"
	on_exit "kill -TERM $BPFD_PID; sleep 0.2; kill -9 $BPFD_PID; umount -l $BPFD_RUNDIR/fs$_san"
	i=0
	while [ ! -S "$BPFD_SOCK" ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$BPFD_PID" 2>/dev/null; then
			cat "$T_TMP/daemon.log" >&2
			fail "daemon did not start"
		fi
		sleep 0.05
	done
	export BPFD_RUNDIR BPFD_SOCK BPFD_PID
}

# Tests that start a daemon each: begin NAME gives the test its own directory (daemon
# run dir, logs, pins) and stops its daemon when it ends, passed or not (tests run in
# subshells).
BASE_TMP=$T_TMP
begin() {
	T_TMP="$BASE_TMP/$1"
	mkdir -p "$T_TMP"
	trap end_test EXIT
}
end_test() {
	if [ -n "${BPFD_PID:-}" ] && kill -0 "$BPFD_PID" 2>/dev/null; then
		kill -TERM "$BPFD_PID"
		sleep 0.3
		kill -9 "$BPFD_PID" 2>/dev/null
	fi
	umount -l "$T_TMP/run/fs" 2>/dev/null
	umount -l "$T_TMP/pins" 2>/dev/null
	return 0
}

# Python stubs of proto/bpfd.proto for the grpcio clients (none are committed),
# generated into $T_TMP/stubs: sets and exports GRPC_STUBS.
grpc_stubs() {
	GRPC_STUBS="$T_TMP/stubs"
	export GRPC_STUBS
	mkdir -p "$GRPC_STUBS"
	_src=$(cd "$(dirname "$0")/../.." && pwd)
	protoc -I"$_src/proto" --python_out="$GRPC_STUBS" --grpc_python_out="$GRPC_STUBS" \
		--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "$_src/proto/bpfd.proto" ||
		echo "warning: protoc could not generate the python stubs" >&2
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry NAME PORT [extra yaml]: Debian's docker-registry on 127.0.0.1:PORT with its own
# storage in $T_TMP/NAME, stopped at exit; its pid in $T_TMP/NAME.pid
registry() {
	name=$1 port=$2
	shift 2
	mkdir -p "$T_TMP/$name"
	cat >"$T_TMP/$name.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $T_TMP/$name
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  secret: not-a-secret-test-only
$*
EOF
	docker-registry serve "$T_TMP/$name.yml" >"$T_TMP/$name.log" 2>&1 &
	echo $! >"$T_TMP/$name.pid"
	on_exit "kill -TERM $!"
	wait_port "$port" "$T_TMP/$name.log"
}

# Wait up to 10 s for a server on 127.0.0.1:$1; else show its log $2 and fail.
wait_port() {
	i=0
	until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$2" >&2 2>/dev/null; fail "nothing listens on port $1"; }
		sleep 0.05
	done
}

# start_daemon ARGS with TCP on 127.0.0.1:$PORT (a free port) and certificates generated
# in $T_TMP/certs: $CA, $CCERT, $CKEY for clients.
start_tcp_daemon() {
	PORT=$(free_port)
	start_daemon "$@" --tcp "127.0.0.1:$PORT" --certs "$T_TMP/certs"
	i=0
	until grep -q 'with mutual TLS' "$T_TMP/daemon.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { cat "$T_TMP/daemon.log" >&2; fail "TCP endpoint did not come up"; }
		sleep 0.05
	done
	CA="$T_TMP/certs/ca/ca.pem"
	CCERT="$T_TMP/certs/bpfd-client/bpfd-client.pem"
	CKEY="$T_TMP/certs/bpfd-client/bpfd-client.key"
}

stop_daemon() {
	kill -TERM "$BPFD_PID" 2>/dev/null
	wait "$BPFD_PID" 2>/dev/null
}

# bpfctl on the private daemon; ctl is the short name the program and chain tests use.
# The daemon's temporary extraction folders of images (RUNDIR/images/obj-*) are gone:
# a thread removes each after its load's reply (10 s at most).  What stays is one
# kept folder per image manifest loaded (m-<hex>).
no_extraction_left() {
	_i=0
	while ls -A "$BPFD_RUNDIR/images" 2>/dev/null | grep -q -v '^m-[0-9a-f]\{64\}$'; do
		_i=$((_i + 1))
		[ $_i -gt 200 ] && return 1
		sleep 0.05
	done
}

bpfctl() {
	BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl "$@"
}
ctl() { bpfctl "$@"; }

run_tests() {
	label=$1
	shift
	pass=0 failn=0 skipn=0
	for t in "$@"; do
		( "$t" ) >"$T_TMP/$t.out" 2>&1
		rc=$?
		case $rc in
		0) echo "PASS: $t"; pass=$((pass + 1))
		   # figures a passing test reports (stress.py's counts, RSS, fds)
		   sed -n 's/^  result: /    /p' "$T_TMP/$t.out" ;;
		77) echo "SKIP: $t ($(sed -n 's/^  skip reason: //p' "$T_TMP/$t.out" | head -n 1))"
		    skipn=$((skipn + 1)) ;;
		*) echo "FAIL: $t"; sed 's/^/    /' "$T_TMP/$t.out"; failn=$((failn + 1)) ;;
		esac
	done
	where=host
	[ "${BPFD_IN_VM:-0}" = 1 ] && where=vm
	echo "$label@$where: $pass passed, $failn failed, $skipn skipped"
	[ $failn = 0 ]
}
