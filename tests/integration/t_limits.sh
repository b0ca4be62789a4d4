#!/bin/sh
# t_limits.sh - what one client may hold of the daemon: request bytes (per connection and
# in all), streams, connections (unix and TCP apart, per uid, per address), and a
# deadline for every phase of a connection; the attacks measured in issue 9 with their
# figures as bounds, while a local client keeps being served.
# vm: no (the gRPC front's limits do not depend on the kernel; the VM's emulated CPU cannot carry 2000 peers)
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3

lim() { timeout "${LIM_TIMEOUT:-60}" "$PY" "$SRC/tests/grpc/limits.py" "$@"; }

status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$BPFD_PID/status"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

LIST_MS=

# $T_TMP/bpfd.toml with the [grpc] settings given ("key = value" lines).
grpc_config() {
	printf '[grpc]\n' >"$T_TMP/bpfd.toml"
	printf '%s\n' "$@" >>"$T_TMP/bpfd.toml"
}
start_with() { grpc_config "$@"; start_daemon --config "$T_TMP/bpfd.toml"; }
start_tcp_with() { grpc_config "$@"; start_tcp_daemon --config "$T_TMP/bpfd.toml"; }

# bpfctl list over the unix socket must succeed within 1 s.
list_fast() {
	t0=$(now_ms)
	out=$(timeout 10 "$BPFD" bpfctl list --endpoint "unix://$BPFD_SOCK" 2>&1) ||
		fail "local List during $1 failed: $out"
	dt=$(($(now_ms) - t0))
	[ $dt -lt 1000 ] || fail "local List during $1 took $dt ms"
	LIST_MS="$LIST_MS $dt"
}

# Issue 9's measure: 5 connections x 100 streams that announce 4 MiB - 64 bytes and send
# all but the last byte took the daemon to 2,097,376 kB for as long as they stayed, and
# 861,528 kB remained after they closed.
test_slow_message_attack() {
	begin slow_message_attack
	budget_kb=24576
	start_with "max_buffered_per_connection = 8_388_608" \
		"max_buffered_total = $((budget_kb * 1024))" "message_timeout = 20"
	list_fast warmup
	rss0=$(status_kb VmRSS)
	lim slowmsg "$BPFD_SOCK" 5 100 20 >"$T_TMP/attack.out" 2>&1 &
	apid=$!
	i=0
	until grep -q '^READY' "$T_TMP/attack.out"; do
		i=$((i + 1))
		[ $i -gt 1200 ] && fail "the attack did not get going: $(cat "$T_TMP/attack.out")"
		kill -0 $apid 2>/dev/null || fail "attacker: $(cat "$T_TMP/attack.out")"
		sleep 0.05
	done
	held_rss=$(status_kb VmRSS)
	LIST_MS=
	for i in 1 2 3; do
		list_fast "the slow-message attack"
		sleep 0.5
	done
	wait $apid || fail "attacker: $(cat "$T_TMP/attack.out")"
	hwm=$(status_kb VmHWM)
	sed 's/^/  /' "$T_TMP/attack.out"
	res=$(sed -n 's/^RESULT //p' "$T_TMP/attack.out")
	held=$(echo "$res" | jq .held_after_send)
	refused=$(echo "$res" | jq '.answers["8"] // 0')
	expired=$(echo "$res" | jq '.answers["4"] // 0')
	i=0
	rss1=$(status_kb VmRSS)
	while [ "$rss1" -gt $((rss0 + 4096)) ] && [ $i -lt 30 ]; do
		sleep 0.1; i=$((i + 1)); rss1=$(status_kb VmRSS)
	done
	echo "  VmRSS idle $rss0 kB, attack held $held_rss kB, peak (VmHWM) $hwm kB, after $rss1 kB;" \
		"budget $budget_kb kB; local List in$LIST_MS ms"
	# AddressSanitizer keeps freed memory in its quarantine (256 MiB): RSS says
	# nothing about the daemon's own buffers in a sanitizer build (as in t_grpc)
	[ "${BPFD_SANITIZE:-0}" = 1 ] || [ "$hwm" -lt $((rss0 + budget_kb + 16384)) ] ||
		fail "peak RSS $hwm kB is over the budget of $budget_kb kB + 16 MiB above idle ($rss0 kB)"
	[ "$held" -ge 1 ] || fail "no stream held its bytes: the attack did not reach the budget"
	[ $((held + refused)) = 500 ] || fail "$held held + $refused refused is not the 500 streams"
	[ "$refused" -ge 490 ] || fail "only $refused streams refused RESOURCE_EXHAUSTED"
	[ "$expired" = "$held" ] ||
		fail "$expired of the $held held streams answered DEADLINE_EXCEEDED after message_timeout"
	[ "${BPFD_SANITIZE:-0}" = 1 ] || [ "$rss1" -le $((rss0 + 4096)) ] ||
		fail "RSS $rss1 kB after the peers went, idle was $rss0 kB"
	list_fast "after the attack"
}

test_stream_limit() {
	begin stream_limit
	start_with "max_streams_per_connection = 8"
	out=$(lim streams "$BPFD_SOCK" 20) || fail "$out"
	echo "  $out" | tail -n 1
	case $out in *"RESULT 12 refused {}"*) ;; *) fail "20 streams with a limit of 8: $out" ;; esac
	list_fast "after the stream limit"
}

# Issue 9: "a peer that has sent one byte is never timed out".
test_phase_timeouts() {
	begin phase_timeouts
	start_tcp_with "handshake_timeout = 2" "idle_timeout = 5"
	for where in "$BPFD_SOCK" "tcp:127.0.0.1:$PORT"; do
		out=$(lim trickle "$where" 10) || fail "one byte on $where: $out"
		dt=$(echo "$out" | sed -n 's/^RESULT //p')
		echo "  one byte on $where: closed after $dt s (handshake_timeout 2)"
		awk -v d="$dt" 'BEGIN { exit !(d >= 1.8 && d < 3.5) }' ||
			fail "one byte on $where: closed after $dt s, want about 2"
	done
	out=$(lim idle "$BPFD_SOCK" 10) || fail "idle: $out"
	echo "  $(echo "$out" | tail -n 1)"
	g=$(echo "$out" | sed -n 's/^RESULT goaway \([0-9.]*\) .*/\1/p')
	awk -v d="$g" 'BEGIN { exit !(d >= 4.8 && d < 6.5) }' ||
		fail "idle connection: GOAWAY after '$g' s, want about 5 (idle_timeout)"
}

test_per_uid_limit() {
	begin per_uid_limit
	# uid 65534 must reach the socket, and may List (a [[policy]] rule: without one
	# only uid 0 and the group bpfd may call)
	start_with "max_connections_per_uid = 4" "handshake_timeout = 30" \
		"[[policy]]" "uid = 65534" "read_only = true"
	chmod 0711 "$BASE_TMP" "$T_TMP" "$BPFD_RUNDIR"
	chmod 0666 "$BPFD_SOCK"
	out=$(lim peruid "$BPFD_SOCK" 5 65534) || fail "$out"
	echo "  $(echo "$out" | sed -n 's/^RESULT //p')"
	case $out in
	*"RESULT closed 1 of 5; uid 65534 List status 0; one more of ours: refused"*) ;;
	*) fail "5 connections of uid 0 with a limit of 4: $out" ;;
	esac
	grep -q 'uid 0 has 4 connections open (max_connections_per_uid)' "$T_TMP/daemon.log" ||
		fail "the refusal is not logged: $(tail -n 5 "$T_TMP/daemon.log")"
	# the client over its limit is told why (a GOAWAY's debug data)
	echo "  $(echo "$out" | grep '^BPFCTL')"
	case $out in
	*"BPFCTL exit 1: Error: 'unix://$BPFD_SOCK': bpfd refused the connection: uid 0 has 4 connections open (max_connections_per_uid)"*) ;;
	*) fail "bpfctl over the limit: $(echo "$out" | grep '^BPFCTL')" ;;
	esac
}

test_per_address_limit() {
	begin per_address_limit
	start_tcp_with "max_connections_per_address = 4" "handshake_timeout = 30"
	out=$(lim peraddr "127.0.0.1:$PORT" 5 127.0.0.2 "$CA" "$CCERT" "$CKEY") || fail "$out"
	echo "  $(echo "$out" | sed -n 's/^RESULT //p')"
	case $out in
	*"RESULT closed 1 of 5; List from 127.0.0.2 status 0"*) ;;
	*) fail "5 connections from 127.0.0.1 with a limit of 4: $out" ;;
	esac
}

# Issue 9's measure: 1000 idle connections refused every new client, and 1000
# unauthenticated TCP connections reopened as they drop refused 25 of 30 local List calls.
test_connection_flood() {
	begin connection_flood
	ulimit -n 16384 || skip "cannot raise the fd limit to 16384"
	# 2000 peers against a limit of 1200: the limit is reached even when a busy machine
	# slows the daemon's accepts (at 1500 a clean make check saw at most 1387 fds)
	start_tcp_with "max_tcp_connections = 1200" "max_connections_per_address = 65536" \
		"handshake_timeout = 4"
	LIM_TIMEOUT=120 lim tcpflood "127.0.0.1:$PORT" 1000 1000 14 >"$T_TMP/flood.out" 2>&1 &
	fpid=$!
	i=0
	until grep -q '^READY' "$T_TMP/flood.out"; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "the flood did not get going: $(cat "$T_TMP/flood.out")"
		sleep 0.05
	done
	sleep 2
	LIST_MS=
	most=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		n=$(ls "/proc/$BPFD_PID/fd" | wc -l)
		[ "$n" -gt "$most" ] && most=$n
		list_fast "a flood of 2000 TCP peers"
		sleep 0.8
	done
	wait $fpid || fail "flood: $(cat "$T_TMP/flood.out")"
	echo "  $(sed -n 's/^RESULT //p' "$T_TMP/flood.out"); daemon fds at most $most," \
		"peak VmHWM $(status_kb VmHWM) kB; local List in$LIST_MS ms"
	[ "$most" -gt 1000 ] || fail "the daemon held only $most fds: the flood did not reach it"
	[ "$most" -le 1250 ] || fail "the daemon held $most fds with max_tcp_connections = 1200"
	grep -q 'TCP connections are open (max_tcp_connections)' "$T_TMP/daemon.log" ||
		fail "the TCP limit was never reached"
	list_fast "after the flood"
}

run_tests limits test_slow_message_attack test_stream_limit test_phase_timeouts \
	test_per_uid_limit test_per_address_limit test_connection_flood
