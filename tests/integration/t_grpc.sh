#!/bin/sh
# t_grpc.sh - the daemon's gRPC API: grpcio, grpc-js and curl clients over the unix socket
# and TCP+mTLS, misbehaving peers, concurrency and fd leaks, graceful shutdown, and
# bpfctl list/get checked against bpftool's view of the same program.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
BUILD=${BPFD_BUILD:-$SRC/build}
grpc_stubs

pyc() { "$PY" "$SRC/tests/grpc/client.py" "$@"; }
raw() { timeout 30 "$PY" "$SRC/tests/grpc/rawh2.py" "$BPFD_SOCK" "$@"; }

fd_count() { ls "/proc/$BPFD_PID/fd" | wc -l; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$BPFD_PID/status"; }

# A program loaded by bpftool (not bpfd) and pinned in a private bpffs: $PROG_ID.
load_test_prog() {
	obj="$BPFD_TESTBPF/grpc_sock.bpf.o"
	[ -f "$obj" ] || fail "test object $obj is missing (make all builds it)"
	mkdir -p "$T_TMP/pins"
	mount -t bpf bpf "$T_TMP/pins" || fail "cannot mount a bpffs at $T_TMP/pins"
	on_exit "umount -l $T_TMP/pins"
	bpftool prog load "$obj" "$T_TMP/pins/grpc_sock" >/dev/null 2>&1 ||
		fail "bpftool prog load $obj failed: $(bpftool prog load "$obj" "$T_TMP/pins/x" 2>&1 | tail -n 3)"
	PROG_ID=$(bpftool prog show pinned "$T_TMP/pins/grpc_sock" --json | jq .id)
	[ -n "$PROG_ID" ] || fail "no id for the test program"
}

# Tests of the wire protocol alone give the same result on every kernel: they run on
# the host.  In the VM (emulated CPU) every daemon start runs the kernel probe,
# python/node start-up over 9p takes seconds per process, and all t_*.sh share one
# VM time budget: the VM runs the tests whose results depend on the kernel
# (List/Get against bpftool's view, mTLS, concurrent calls).
host_only() {
	[ "${BPFD_IN_VM:-0}" = 1 ] &&
		skip "protocol-only test, independent of the kernel: runs on the host (slow over 9p)"
	return 0
}

# A List from a second client (curl: quick to start, also in the VM) must succeed.
list_ok() {
	printf '\000\000\000\000\000' >"$T_TMP/empty.bin"
	out=$(curl -s -i -m 20 --http2-prior-knowledge --unix-socket "$BPFD_SOCK" \
		-H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$T_TMP/empty.bin" \
		--output - http://localhost/bpfd.v1.Bpfd/List 2>&1 | tr -d '\r' | grep -ao 'grpc-[a-z]*: .*')
	case $out in *"grpc-status: 0"*) ;; *) fail "List after $1 failed: $out" ;; esac
}

test_list_get_python_unix() {
	begin list_get_python_unix
	load_test_prog
	start_daemon
	pyc "unix://$BPFD_SOCK" batch >"$T_TMP/batch.out" <<EOT || fail "python client failed"
List {}
Get {"id": $PROG_ID}
Get {"id": 4294967295}
List {"bpfd_programs_only": true}
List {"match_metadata": {"a": "b"}}
EOT
	sed -n 1p "$T_TMP/batch.out" | jq -e --argjson id "$PROG_ID" \
		'.results[] | select(.kernel_info.id == $id) | .kernel_info.name == "grpc_sock" and (has("info") | not)' \
		>/dev/null || fail "List does not show program $PROG_ID as a program bpfd does not own: $(sed -n 1p "$T_TMP/batch.out")"
	tag=$(bpftool prog show id "$PROG_ID" --json | jq -r .tag)
	[ "$(sed -n 2p "$T_TMP/batch.out" | jq -r .kernel_info.tag)" = "$tag" ] ||
		fail "Get tag: $(sed -n 2p "$T_TMP/batch.out"), bpftool: $tag"
	case $(sed -n 3p "$T_TMP/batch.out") in
	"ERR NOT_FOUND "*"4294967295"*) ;;
	*) fail "Get of a missing id: $(sed -n 3p "$T_TMP/batch.out")" ;;
	esac
	# only programs bpfd owns: ours is not one
	sed -n 4p "$T_TMP/batch.out" | jq -e --argjson id "$PROG_ID" \
		'[.results[]? | select(.kernel_info.id == $id)] | length == 0' >/dev/null ||
		fail "bpfd_programs_only shows a foreign program: $(sed -n 4p "$T_TMP/batch.out")"
	[ "$(sed -n 5p "$T_TMP/batch.out" | jq '.results | length')" = 0 ] ||
		fail "metadata selector matched a foreign program: $(sed -n 5p "$T_TMP/batch.out")"
}

test_tcp_mtls() {
	begin tcp_mtls
	load_test_prog
	start_tcp_daemon
	out=$(pyc "127.0.0.1:$PORT" Get "{\"id\": $PROG_ID}" --ca "$CA" --cert "$CCERT" --key "$CKEY") ||
		fail "Get over TCP+mTLS: $out"
	[ "$(echo "$out" | jq -r .kernel_info.name)" = grpc_sock ] || fail "$out"
	out=$("$BPFD" bpfctl get "$PROG_ID" --endpoint "tcp://127.0.0.1:$PORT" --ca "$CA" \
		--cert "$CCERT" --key "$CKEY") || fail "bpfctl over TCP: $out"
	echo "$out" | grep -q "ID: *$PROG_ID\$" || fail "bpfctl get over TCP: $out"
	grep -q 'CN=bpfd-client' "$T_TMP/daemon.log" || true
}

test_mtls_refused() {
	begin mtls_refused
	host_only
	start_tcp_daemon
	out=$(pyc "127.0.0.1:$PORT" List '{}' --ca "$CA" --timeout 5)
	case $out in "ERR UNAVAILABLE"*) ;; *) fail "no client certificate: $out" ;; esac
	# a client certificate from another CA
	o="$T_TMP/other"
	mkdir -p "$o"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$o/ca.key" \
		-out "$o/ca.pem" -days 2 -subj "/CN=other-ca" >/dev/null 2>&1 || fail "openssl CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$o/c.key" \
		-out "$o/c.csr" -subj "/CN=intruder" >/dev/null 2>&1 || fail "openssl csr"
	openssl x509 -req -in "$o/c.csr" -CA "$o/ca.pem" -CAkey "$o/ca.key" -CAcreateserial \
		-out "$o/c.pem" -days 2 >/dev/null 2>&1 || fail "openssl sign"
	out=$(pyc "127.0.0.1:$PORT" List '{}' --ca "$CA" --cert "$o/c.pem" --key "$o/c.key" --timeout 5)
	case $out in "ERR UNAVAILABLE"*) ;; *) fail "certificate of another CA: $out" ;; esac
	"$BPFD" bpfctl list --endpoint "tcp://127.0.0.1:$PORT" --ca "$CA" --cert "$o/c.pem" \
		--key "$o/c.key" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc = 1 ] || fail "bpfctl with a foreign certificate: exit $rc"
	# plain HTTP/2 and garbage on the TLS port
	"$PY" -c 'import socket, sys
for data in (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", bytes(range(256))):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(data)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass' "$PORT" || fail "non-TLS bytes on the TLS port: the daemon did not close"
	# the daemon is still fine for a good client
	out=$(pyc "127.0.0.1:$PORT" List '{}' --ca "$CA" --cert "$CCERT" --key "$CKEY") ||
		fail "good client after refused ones: $out"
	grep -q 'TLS handshake with .* failed' "$T_TMP/daemon.log" || fail "refusals not logged"
}

test_load_not_ok_for_garbage() {
	begin load_not_ok_for_garbage
	host_only
	start_daemon
	for req in '{}' '{"bytecode": {"file": "/nonexistent/x.o"}, "name": "nope"}'; do
		out=$(pyc "unix://$BPFD_SOCK" Load "$req")
		case $out in
		"ERR UNIMPLEMENTED "*|"ERR INVALID_ARGUMENT "*|"ERR NOT_FOUND "*|"ERR FAILED_PRECONDITION "*) ;;
		*) fail "Load $req answered: $out" ;;
		esac
		case $out in "ERR "*" ") fail "error without a message: $out" ;; esac
	done
	out=$(pyc "unix://$BPFD_SOCK" Unload '{"id": 4294967295}')
	case $out in "ERR OK"*|"{"*) fail "Unload of a missing program answered: $out" ;; esac
	# a metadata value over the limit of bpfd.options (512 with the NUL) is refused
	# without being echoed back
	v=$(printf '%0512d' 0 | tr 0 Q)
	out=$(pyc "unix://$BPFD_SOCK" Load "{\"name\": \"x\", \"metadata\": {\"k\": \"$v\"}}")
	case $out in "ERR INVALID_ARGUMENT "?*) ;; *) fail "Load with a long metadata value: $out" ;; esac
	case $out in *QQQQQQQQ*) fail "the value was echoed: $out" ;; esac
}

test_grpc_js() {
	begin grpc_js
	host_only
	start_daemon
	npmdir="$BUILD/npm-grpc"
	node_t=30
	[ "${BPFD_IN_VM:-0}" = 1 ] && node_t=180	# node loads grpc-js over 9p
	if [ ! -d "$npmdir/node_modules/@grpc/grpc-js" ]; then
		mkdir -p "$npmdir"
		(cd "$npmdir" && [ -f package.json ] || echo '{"name":"bpfd-grpc-test","private":true}' >package.json)
		(cd "$npmdir" && timeout 300 npm install --no-audit --no-fund @grpc/grpc-js @grpc/proto-loader) \
			>"$T_TMP/npm.log" 2>&1 ||
			skip "npm could not install @grpc/grpc-js: $(tail -n 2 "$T_TMP/npm.log" | tr '\n' ' ')"
	fi
	out=$(NODE_PATH="$npmdir/node_modules" timeout $node_t node "$SRC/tests/grpc/call.js" \
		"$SRC/proto/bpfd.proto" "unix://$BPFD_SOCK" List '{}') || fail "grpc-js List: $out"
	echo "$out" | jq -e '.results | type == "array"' >/dev/null || fail "grpc-js output: $out"
	out=$(NODE_PATH="$npmdir/node_modules" timeout $node_t node "$SRC/tests/grpc/call.js" \
		"$SRC/proto/bpfd.proto" "unix://$BPFD_SOCK" Get '{"id": 4294967295}')
	case $out in "ERR 5 "*) ;; *) fail "grpc-js Get of a missing id: $out" ;; esac
}

test_curl_raw() {
	begin curl_raw
	host_only
	load_test_prog
	start_daemon
	printf "\000\000\000\000\000" >"$T_TMP/list.bin"
	curl -s -i --http2-prior-knowledge --unix-socket "$BPFD_SOCK" -H 'content-type: application/grpc' \
		-H 'te: trailers' --data-binary @"$T_TMP/list.bin" --output "$T_TMP/curl.out" \
		http://localhost/bpfd.v1.Bpfd/List || fail "curl failed"
	grep -qa 'grpc-status: 0' "$T_TMP/curl.out" || fail "curl: no grpc-status 0: $(cat -v "$T_TMP/curl.out" | head)"
	curl -s --http2-prior-knowledge --unix-socket "$BPFD_SOCK" -H 'content-type: application/grpc' \
		-H 'te: trailers' --data-binary @"$T_TMP/list.bin" --output - \
		http://localhost/bpfd.v1.Bpfd/List | tail -c +6 >"$T_TMP/list.pb"
	protoc -I"$SRC/proto" --decode=bpfd.v1.ListResponse "$SRC/proto/bpfd.proto" <"$T_TMP/list.pb" \
		>"$T_TMP/list.txt" || fail "protoc cannot decode the List reply"
	grep -q "id: $PROG_ID\$" "$T_TMP/list.txt" || fail "program $PROG_ID not in: $(head -n 20 "$T_TMP/list.txt")"
}

test_bad_peers() {
	begin bad_peers
	host_only
	start_daemon
	for sc in garbage http1 truncated reset bigmsg deadline badctype bigheaders unknown ping streams \
		  halfclose; do
		out=$(raw $sc) || fail "$sc: $out"
		echo "  $out"
		list_ok "$sc"
	done
	kill -0 "$BPFD_PID" || fail "daemon died"
}

test_concurrency_no_fd_leak() {
	begin concurrency_no_fd_leak
	start_daemon
	clients=16 calls=500
	# emulation in the VM is ~10x slower: scale down there (same code paths)
	[ "${BPFD_IN_VM:-0}" = 1 ] && clients=4 calls=50
	list_ok warmup
	before=$(fd_count)
	out=$(pyc "unix://$BPFD_SOCK" stress "$clients" "$calls") || fail "stress: $out"
	[ "$out" = "ok $((clients * calls))" ] || fail "stress: $out"
	i=0
	while [ "$(fd_count)" != "$before" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	after=$(fd_count)
	[ "$after" = "$before" ] || fail "fd leak: $before fds before, $after after"
	echo "  $clients clients x $calls List calls: $out; fds $before -> $after"
}

test_peer_that_never_reads() {
	begin peer_that_never_reads
	host_only
	start_daemon
	rss0=$(rss_kb)
	raw noread 6 >"$T_TMP/noread.out" 2>&1 &
	pid=$!
	sleep 1
	list_ok "a flood from a peer that never reads"
	sleep 2
	list_ok "the flood, 3 s in"
	rss1=$(rss_kb)
	wait $pid
	echo "  $(cat "$T_TMP/noread.out"); VmRSS ${rss0} kB -> ${rss1} kB"
	# AddressSanitizer keeps freed memory in its quarantine (256 MiB): RSS says
	# nothing about the daemon's own buffers in a sanitizer build
	[ "${BPFD_SANITIZE:-0}" = 1 ] || [ $((rss1 - rss0)) -lt 65536 ] ||
		fail "RSS grew by $((rss1 - rss0)) kB"
	list_ok "the flood ended"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$BPFD_PID/stat"; }

test_out_of_fds() {
	begin out_of_fds
	host_only
	ulimit -n 40 || skip "cannot lower the fd limit"
	# the per-uid limit (32 by default) would refuse the peers before the fds run out
	printf '[grpc]\nmax_connections_per_uid = 1000\n' >"$T_TMP/bpfd.toml"
	start_daemon --config "$T_TMP/bpfd.toml"
	# 60 peers that hold their connections: the daemon runs out of fds
	"$PY" -c 'import socket, sys, time
ss = []
for i in range(60):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    ss.append(s)
print("held", flush=True)
time.sleep(3)' "$BPFD_SOCK" >"$T_TMP/hold.out" 2>&1 &
	hpid=$!
	sleep 1
	t0=$(cpu_ticks)
	sleep 1.5
	t1=$(cpu_ticks)
	wait $hpid
	[ $((t1 - t0)) -lt 30 ] || fail "the daemon spun while out of fds: $((t1 - t0)) ticks in 1.5 s"
	grep -q 'Failed to accept a connection' "$T_TMP/daemon.log" || fail "fd exhaustion not logged"
	sleep 0.5
	list_ok "running out of fds"
}

test_sigterm_inflight() {
	begin sigterm_inflight
	host_only
	start_daemon
	mkfifo "$T_TMP/go"
	raw inflight <"$T_TMP/go" >"$T_TMP/inflight.out" 2>&1 &
	rpid=$!
	raw idle >"$T_TMP/idle.out" 2>&1 &
	ipid=$!
	exec 7>"$T_TMP/go"
	i=0
	until grep -q READY "$T_TMP/inflight.out" && grep -q READY "$T_TMP/idle.out"; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "raw clients did not start: $(cat "$T_TMP/inflight.out" "$T_TMP/idle.out")"
		sleep 0.05
	done
	kill -TERM "$BPFD_PID"
	sleep 0.3
	kill -0 "$BPFD_PID" 2>/dev/null || fail "daemon exited with a call in flight"
	[ -S "$BPFD_SOCK" ] && fail "socket still there after SIGTERM (still accepting?)"
	echo go >&7
	exec 7>&-
	wait $rpid || fail "in-flight call: $(cat "$T_TMP/inflight.out")"
	t0=$(date +%s)
	wait "$BPFD_PID"; rc=$?
	[ $rc = 0 ] || fail "daemon exit status $rc after SIGTERM"
	[ $(($(date +%s) - t0)) -le 2 ] || fail "daemon took $(($(date +%s) - t0)) s to exit after the last call"
	wait $ipid || fail "idle connection: $(cat "$T_TMP/idle.out")"
	grep -q 'Stopped' "$T_TMP/daemon.log" || fail "no 'Stopped' in the log"
	echo "  $(tail -n 1 "$T_TMP/inflight.out")"
	echo "  $(tail -n 1 "$T_TMP/idle.out")"
}

test_sigterm_twice() {
	begin sigterm_twice
	host_only
	start_daemon
	mkfifo "$T_TMP/go"
	raw inflight <"$T_TMP/go" >"$T_TMP/inflight.out" 2>&1 &
	rpid=$!
	exec 7>"$T_TMP/go"
	i=0
	until grep -q READY "$T_TMP/inflight.out"; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "raw client did not start"; sleep 0.05
	done
	kill -TERM "$BPFD_PID"
	sleep 0.3
	kill -0 "$BPFD_PID" 2>/dev/null || fail "daemon exited with a call in flight"
	kill -INT "$BPFD_PID"
	i=0
	while kill -0 "$BPFD_PID" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 20 ] && fail "a second signal did not end the daemon within 1 s"
		sleep 0.05
	done
	wait "$BPFD_PID"; rc=$?
	[ $rc = 0 ] || fail "exit status $rc"
	grep -q 'again: closing the connections now' "$T_TMP/daemon.log" || fail "not logged"
	exec 7>&-
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	return 0
}

test_socket_file() {
	begin socket_file
	host_only
	start_daemon
	[ "$(stat -c %a "$BPFD_SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$BPFD_SOCK")"
	# a second daemon on the same socket (from another run directory: the same one is
	# refused earlier, by its lock; t_daemon.sh) is refused while the first runs
	printf '[[grpc.endpoints]]\ntype = "unix"\npath = "%s"\n' "$BPFD_SOCK" >"$T_TMP/second.toml"
	mkdir -p "$T_TMP/run2"
	"$BPFD" --rundir "$T_TMP/run2" --config "$T_TMP/second.toml" >"$T_TMP/second.log" 2>&1; rc=$?
	umount -l "$T_TMP/run2/fs" 2>/dev/null
	[ $rc = 1 ] || fail "second daemon: exit $rc"
	grep -q 'Another bpfd is already serving' "$T_TMP/second.log" || fail "$(cat "$T_TMP/second.log")"
	# a stale socket (daemon killed) is replaced
	kill -9 "$BPFD_PID"; wait "$BPFD_PID" 2>/dev/null
	[ -S "$BPFD_SOCK" ] || fail "no stale socket to test with"
	start_daemon	# returns at once: the stale socket file exists
	i=0
	until [ "$(grep -c 'bpfd: Ready' "$T_TMP/daemon.log")" = 2 ]; do
		i=$((i + 1)); [ $i -gt 200 ] && fail "restart over a stale socket: $(tail -n 3 "$T_TMP/daemon.log")"
		sleep 0.05
	done
	list_ok "restart over a stale socket"
}

test_sd_notify() {
	begin sd_notify
	host_only
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(4096).decode(), flush=True)' "$T_TMP/notify.sock" >"$T_TMP/notify.out" 2>&1 &
	npid=$!
	i=0
	while [ ! -S "$T_TMP/notify.sock" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "notify socket"; sleep 0.05
	done
	NOTIFY_SOCKET="$T_TMP/notify.sock" start_daemon
	wait $npid
	[ "$(cat "$T_TMP/notify.out")" = "READY=1" ] || fail "sd_notify: '$(cat "$T_TMP/notify.out")'"
}

test_bpfctl_vs_bpftool() {
	begin bpfctl_vs_bpftool
	load_test_prog
	start_daemon
	bpftool prog show id "$PROG_ID" --json >"$T_TMP/bt.json"
	bpfctl get "$PROG_ID" -o json >"$T_TMP/get.json" || fail "bpfctl get -o json"
	for f in id name tag gpl_compatible bytes_xlated jited bytes_jited bytes_memlock btf_id; do
		a=$(jq -c ".kernel_info.$f" "$T_TMP/get.json")
		b=$(jq -c ".$f" "$T_TMP/bt.json")
		[ "$a" = "$b" ] || fail "$f: bpfctl $a, bpftool $b"
	done
	[ "$(jq -r .kernel_info.type "$T_TMP/get.json")" = socket_filter ] || fail "type"
	[ "$(jq -c .kernel_info.map_ids "$T_TMP/get.json")" = "$(jq -c .map_ids "$T_TMP/bt.json")" ] ||
		fail "map_ids: $(jq -c .kernel_info.map_ids "$T_TMP/get.json") vs $(jq -c .map_ids "$T_TMP/bt.json")"
	[ "$(jq -r .info "$T_TMP/get.json")" = null ] || fail "info should be null for a foreign program"
	ours=$(date -d "$(jq -r .kernel_info.loaded_at "$T_TMP/get.json" | sed 's/T/ /')" +%s)
	theirs=$(jq .loaded_at "$T_TMP/bt.json")
	d=$((ours - theirs)); [ ${d#-} -le 1 ] || fail "loaded_at $ours vs bpftool $theirs"
	bpfctl get "$PROG_ID" >"$T_TMP/get.txt" || fail "bpfctl get"
	for kv in "ID:=$PROG_ID" "Name:=grpc_sock" "Type:=socket_filter" \
		  "Tag:=$(jq -r .tag "$T_TMP/bt.json")" "JITted:=$(jq -r .jited "$T_TMP/bt.json")" \
		  "Size Translated (bytes):=$(jq -r .bytes_xlated "$T_TMP/bt.json")" \
		  "Kernel Allocated Memory (bytes):=$(jq -r .bytes_memlock "$T_TMP/bt.json")"; do
		k=${kv%%=*} v=${kv#*=}
		grep -qF " $k" "$T_TMP/get.txt" && grep -F " $k" "$T_TMP/get.txt" | grep -q " $v\$" ||
			fail "text '$k' not '$v': $(cat "$T_TMP/get.txt")"
	done
	grep -q '^ Bpfd State' "$T_TMP/get.txt" && grep -q '^ NONE$' "$T_TMP/get.txt" &&
		grep -q '^ Kernel State' "$T_TMP/get.txt" || fail "tables: $(cat "$T_TMP/get.txt")"
	bpfctl list -a >"$T_TMP/list.txt" || fail "list -a"
	head -n 1 "$T_TMP/list.txt" | grep -q '^ Program ID  *Name  *Type  *Load Time  *Source$' || fail "header: $(head -n 1 "$T_TMP/list.txt")"
	grep -q "^ $PROG_ID  *grpc_sock  *socket_filter  " "$T_TMP/list.txt" || fail "list -a: $(cat "$T_TMP/list.txt")"
	bpfctl list >"$T_TMP/list2.txt" || fail "list"
	grep -q "grpc_sock" "$T_TMP/list2.txt" && fail "list without -a shows a foreign program"
	bpfctl list -a -p socket-filter -o json >"$T_TMP/l.json" || fail "list -p"
	jq -e --argjson id "$PROG_ID" '[.[] | select(.kernel_info.id == $id)] | length == 1' "$T_TMP/l.json" \
		>/dev/null || fail "list -a -p socket-filter -o json: $(cat "$T_TMP/l.json")"
	jq -e 'all(.[]; .kernel_info.program_type == 1)' "$T_TMP/l.json" >/dev/null || fail "type filter"
	bpfctl list -a -p tracepoint -j | jq -e --argjson id "$PROG_ID" \
		'[.[] | select(.kernel_info.id == $id)] | length == 0' >/dev/null || fail "list -p tracepoint"
}

test_owned_program() {
	begin owned_program
	host_only
	obj="$BPFD_TESTBPF/prog_counter.bpf.o"
	[ -f "$obj" ] || fail "test object $obj is missing (make all builds it)"
	start_daemon
	out=$(bpfctl load-from-file -o json -p "$obj" -n tp_count -m "app=wire$T_ID,tier=a" \
		tracepoint -t syscalls/sys_enter_getppid) || fail "load-from-file: $out"
	id=$(echo "$out" | jq .kernel_info.id)
	[ -n "$id" ] && [ "$id" != null ] || fail "no id: $out"
	n() { bpfctl list "$@" -o json | jq --argjson id "$id" '[.[] | select(.kernel_info.id == $id)] | length'; }
	[ "$(n)" = 1 ] || fail "list does not show the program bpfd loaded"
	[ "$(n -m "app=wire$T_ID")" = 1 ] || fail "metadata selector"
	[ "$(n -m "app=wire$T_ID,tier=a")" = 1 ] || fail "two selectors, comma list"
	[ "$(n -m "app=wire$T_ID" -m tier=a)" = 1 ] || fail "two selectors, repeated -m"
	[ "$(n -m "app=wire$T_ID,tier=b")" = 0 ] || fail "selectors: all pairs must match"
	[ "$(n -p tracepoint)" = 1 ] || fail "-p tracepoint"
	[ "$(n -p xdp)" = 0 ] || fail "-p xdp"
	bpfctl get "$id" -o json >"$T_TMP/get.json" || fail "get -o json"
	[ "$(jq -r .info.metadata.app "$T_TMP/get.json")" = "wire$T_ID" ] || fail "get: $(cat "$T_TMP/get.json")"
	[ "$(jq -r .info.attach.tracepoint_attach_info.tracepoint "$T_TMP/get.json")" = \
	  syscalls/sys_enter_getppid ] || fail "attach info: $(cat "$T_TMP/get.json")"
	bpfctl get "$id" >"$T_TMP/get.txt" || fail "get"
	grep -q '^ Name: *tp_count$' "$T_TMP/get.txt" && grep -q "^ Path: *$obj\$" "$T_TMP/get.txt" &&
		grep -q '^ Tracepoint: *syscalls/sys_enter_getppid$' "$T_TMP/get.txt" &&
		grep -q '^ Metadata: ' "$T_TMP/get.txt" && grep -q " app=wire$T_ID\$" "$T_TMP/get.txt" ||
		fail "Bpfd State table: $(cat "$T_TMP/get.txt")"
	bpfctl unload "$id" || fail "unload"
	# no longer bpfd's at once; gone from the kernel once its link is released
	# (or gone already: then get fails, its JSON error on stderr and stdout empty)
	out=$(bpfctl get "$id" -o json 2>/dev/null)
	[ -z "$out" ] || [ "$(echo "$out" | jq -c .info)" = null ] || fail "still owned after unload: $out"
	i=0
	until ! bpfctl get "$id" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 50 ] && fail "program $id still in the kernel 5 s after unload"
		sleep 0.1
	done
	bpfctl get "$id" >/dev/null 2>&1; rc=$?
	[ $rc = 1 ] || fail "get after unload: exit $rc"
}

test_bpfctl_exit_codes() {
	begin bpfctl_exit_codes
	host_only
	start_daemon
	bpfctl get 4294967295 >/dev/null 2>"$T_TMP/e"; rc=$?
	[ $rc = 1 ] || fail "get of a missing id: exit $rc"
	grep -q '^Error: There is no program with id 4294967295' "$T_TMP/e" || fail "stderr: $(cat "$T_TMP/e")"
	# -o json: the error goes to stderr (as JSON), stdout carries only results
	out=$(bpfctl get 4294967295 -o json 2>&1 >"$T_TMP/o"); rc=$?
	[ $rc = 1 ] && echo "$out" | jq -e '.error | test("no program")' >/dev/null || fail "json error: $rc $out"
	[ ! -s "$T_TMP/o" ] || fail "json error on stdout: $(cat "$T_TMP/o")"
	bpfctl get abc >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "get abc: exit $rc"
	bpfctl get >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "get without id: exit $rc"
	bpfctl list --bogus >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "list --bogus: exit $rc"
	bpfctl list -o yaml >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "list -o yaml: exit $rc"
	bpfctl list -p nosuchtype >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "list -p bad: exit $rc"
	bpfctl list -m novalue >/dev/null 2>&1; rc=$?; [ $rc = 2 ] || fail "list -m bad: exit $rc"
	"$BPFD" bpfctl list --endpoint "unix://$T_TMP/nonexistent.sock" >/dev/null 2>"$T_TMP/e"; rc=$?
	[ $rc = 1 ] || fail "unreachable endpoint: exit $rc"
	grep -q 'is bpfd running' "$T_TMP/e" || fail "unreachable: $(cat "$T_TMP/e")"
	BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl list >/dev/null || fail "\$BPFD_ENDPOINT not used"
	"$BPFD" bpfctl list --endpoint "http://x" >/dev/null 2>&1; rc=$?
	[ $rc = 1 ] || fail "bad endpoint syntax: exit $rc"
	bpfctl list --help | grep -q -- '--metadata-selector' || fail "list --help"
	"$BPFD" bpfctl --help | grep -q '^  list ' || fail "bpfctl --help lists list"
}

run_tests grpc test_list_get_python_unix test_tcp_mtls test_mtls_refused \
	test_load_not_ok_for_garbage test_grpc_js test_curl_raw test_bad_peers \
	test_concurrency_no_fd_leak test_peer_that_never_reads test_out_of_fds test_sigterm_inflight \
	test_sigterm_twice \
	test_socket_file test_sd_notify test_bpfctl_vs_bpftool test_owned_program \
	test_bpfctl_exit_codes
