#!/bin/sh
# t_metrics.sh - the Prometheus endpoint ([metrics]): a real Prometheus (Debian's
# package) scrapes it and its query API finds the run count of a tracepoint program
# the test drives (sysfs(2) calls: stats_lib.sh); `promtool check metrics` is clean;
# the counters (gRPC calls, Load latency, chain members) and the HTTP/1.1 rules
# (404, 405, HEAD, request size, connection limit); a scrape keeps on-demand stats on;
# the serving thread holds no capabilities.
# vm: no (the endpoint is daemon logic over TCP on 127.0.0.1: the kernel version does not change it)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"
. "$(dirname "$0")/stats_lib.sh"

TC_OBJ=$BPFD_TESTBPF/chain_tc.bpf.o

# start a daemon of the test's own serving metrics on $MPORT, with extra TOML lines $@
metrics_daemon() {
	prog_checks
	need_feature tracepoint
	command -v curl >/dev/null || skip "curl is not installed"
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	MPORT=$(free_port)
	printf '[metrics]\naddress = "127.0.0.1"\nport = %s\nlabels = ["app", "team.name"]\n' \
		"$MPORT" >"$T_TMP/bpfd.toml"
	for l in "$@"; do
		echo "$l" >>"$T_TMP/bpfd.toml"
	done
	start_daemon --config "$T_TMP/bpfd.toml"
	# the test's daemon (and Prometheus) end with the test, not with the script
	trap 'kill ${PROM_PID:-} 2>/dev/null; kill -TERM $BPFD_PID; wait $BPFD_PID; umount -l "$T_TMP/run/fs"' EXIT
	grep -q "Serving metrics on http://127.0.0.1:$MPORT/metrics" "$T_TMP/daemon.log" ||
		fail "no 'Serving metrics' line: $(cat "$T_TMP/daemon.log")"
	URL=http://127.0.0.1:$MPORT/metrics
}

scrape() {
	curl -sS --max-time 10 -o "$T_TMP/metrics" -w '%{http_code}' "$URL" >"$T_TMP/code" 2>&1 ||
		fail "GET $URL: $(cat "$T_TMP/code")"
	[ "$(cat "$T_TMP/code")" = 200 ] || fail "GET /metrics answered $(cat "$T_TMP/code")"
}

# The value of the sample line that starts with $1 in the last scrape.
sample() {
	grep -F "$1" "$T_TMP/metrics" | grep -v '^#' | head -n 1 | awk '{print $NF}'
}

# PROMQL -> the value of its first result (empty when none) from Prometheus's API
prom_value() {
	curl -sS --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=$1" >"$T_TMP/q.json" 2>/dev/null || return 0
	jq -r '.data.result[0].value[1] // empty' "$T_TMP/q.json" 2>/dev/null
}

start_prometheus() {
	command -v prometheus >/dev/null || skip "prometheus is not installed (Debian package prometheus)"
	PPORT=$(free_port)
	cat >"$T_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bpfd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
	mkdir -p "$T_TMP/tsdb"
	prometheus --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T_TMP/prometheus.log" 2>&1 &
	PROM_PID=$!
	on_exit "kill $PROM_PID"
	i=0
	until curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "prometheus did not start: $(cat "$T_TMP/prometheus.log")"
		kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus died: $(cat "$T_TMP/prometheus.log")"
		sleep 0.1
	done
}

# wait until PROMQL $1 has a value other than $2 (up to 30 s); into v
prom_wait_change() {
	i=0
	for i in $(seq 300); do
		v=$(prom_value "$1")
		[ -n "$v" ] && [ "$v" != "$2" ] && return 0
		sleep 0.1
	done
	fail "Prometheus never saw $1 other than '$2' (last '$v'); targets: $(curl -s "http://127.0.0.1:$PPORT/api/v1/targets")"
}

test_prometheus_scrapes_run_count() {
	metrics_daemon
	id=$(load_id -n tp_count -m app=metrics-test -m team.name=obs -p "$COUNTER_OBJ" tracepoint -t "$TP")
	[ -n "$id" ] || fail "no program id"
	start_prometheus
	q="bpfd_program_runs_total{id=\"$id\"}"
	prom_wait_change "$q" ""
	v0=$v
	sysfs_calls 100
	prom_wait_change "$q" "$v0"
	sleep 2.5		# two more scrapes: nothing else calls sysfs(2)
	v=$(prom_value "$q")
	[ $((v - v0)) = 100 ] || fail "Prometheus: run count $v0 -> $v after 100 calls"
	jq -e --arg tp "$TP" '.data.result[0].metric | .name == "tp_count" and .kind == "tracepoint"
		and .attach_point == $tp and .app == "metrics-test" and .team_name == "obs"
		and .job == "bpfd"' "$T_TMP/q.json" >/dev/null || fail "labels: $(cat "$T_TMP/q.json")"
	[ -n "$(prom_value "bpfd_program_run_time_seconds_total{id=\"$id\"} > 0")" ] ||
		fail "no run time > 0 for $id in Prometheus"
	[ -n "$(prom_value 'bpfd_rpc_calls_total{method="Load",code="OK"}')" ] ||
		fail "no Load calls in Prometheus"
	echo "  Prometheus: bpfd_program_runs_total{id=\"$id\"} $v0 -> $v after 100 sysfs(2) calls"
	ctl unload "$id" >/dev/null 2>&1 || fail "unload $id"
}

test_promtool_clean() {
	metrics_daemon
	command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"
	id=$(load_id -n tp_count -m app='a "quoted" \ value' -p "$COUNTER_OBJ" tracepoint -t "$TP")
	ctl get 999999999 >/dev/null 2>&1 && fail "get of a missing program succeeded"
	IF=vm$$m
	ip link add "$IF" type veth peer name "${IF}p" || fail "cannot create veth $IF"
	on_exit "ip link del $IF"
	ip link set "$IF" up
	tcx=""
	if have_feature tcx; then
		t1=$(load_id -p "$TC_OBJ" -n chain_tc tcx -i "$IF" -d ingress -p 10)
		t2=$(load_id -p "$TC_OBJ" -n chain_tc tcx -i "$IF" -d ingress -p 20)
		tcx="$t1 $t2"
	fi
	scrape
	promtool check metrics <"$T_TMP/metrics" >"$T_TMP/promtool" 2>&1 ||
		fail "promtool check metrics: $(cat "$T_TMP/promtool")"
	[ -s "$T_TMP/promtool" ] && fail "promtool check metrics found problems: $(cat "$T_TMP/promtool")"
	[ "$(sample 'bpfd_rpc_calls_total{method="Get",code="NOT_FOUND"}')" = 1 ] ||
		fail "Get NOT_FOUND not counted once: $(grep rpc_calls "$T_TMP/metrics")"
	n=$(sample 'bpfd_load_duration_seconds_count')
	[ "$n" = $((1 + $(echo $tcx | wc -w))) ] || fail "Load histogram count $n"
	[ "$(sample 'bpfd_load_duration_seconds_bucket{le="+Inf"}')" = "$n" ] || fail "+Inf bucket != count"
	grep -qF "bpfd_program_runs_total{id=\"$id\",name=\"tp_count\",kind=\"tracepoint\",attach_point=\"$TP\",app=\"a \\\"quoted\\\" \\\\ value\",team_name=\"\"}" \
		"$T_TMP/metrics" || fail "escaped labels: $(grep "id=\"$id\"" "$T_TMP/metrics")"
	[ "$(sample 'bpfd_programs{kind="tracepoint",owner="bpfd"}')" = 1 ] || fail "programs by kind"
	if [ -n "$tcx" ]; then
		[ "$(sample "bpfd_chain_members{interface=\"$IF\",hook=\"tcx-ingress\"}")" = 2 ] ||
			fail "chain members of $IF: $(grep chain_members "$T_TMP/metrics")"
		[ "$(sample 'bpfd_programs{kind="tcx",owner="bpfd"}')" = 2 ] || fail "tcx programs"
	else
		echo "  no TCX on this kernel: chain members not checked"
	fi
	rss=$(sample process_resident_memory_bytes)
	[ "$rss" -gt 100000 ] || fail "RSS $rss"
	for p in $id $tcx; do
		ctl unload "$p" >/dev/null 2>&1 || fail "unload $p"
	done
}

test_http_rules() {
	metrics_daemon
	code=$(curl -s -o "$T_TMP/b" -w '%{http_code}' "http://127.0.0.1:$MPORT/")
	[ "$code" = 404 ] || fail "GET / answered $code"
	code=$(curl -s -o "$T_TMP/b" -w '%{http_code}' "$URL/x")
	[ "$code" = 404 ] || fail "GET /metrics/x answered $code"
	curl -s -D "$T_TMP/h" -o "$T_TMP/b" -X POST "$URL" || fail "POST"
	grep -q '^HTTP/1.1 405' "$T_TMP/h" || fail "POST answered $(head -n 1 "$T_TMP/h")"
	grep -qi '^Allow: GET, HEAD' "$T_TMP/h" || fail "405 without Allow: $(cat "$T_TMP/h")"
	code=$(curl -s -o "$T_TMP/b" -w '%{http_code}' "$URL?debug=1")
	[ "$code" = 200 ] || fail "GET /metrics?debug=1 answered $code"
	curl -s -I "$URL" >"$T_TMP/h" || fail "HEAD"
	grep -q '^HTTP/1.1 200' "$T_TMP/h" || fail "HEAD answered $(head -n 1 "$T_TMP/h")"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$T_TMP/h" || fail "content type: $(cat "$T_TMP/h")"
	# raw requests: too large, not HTTP/1.x, malformed, the connection limit
	/usr/bin/python3 - "$MPORT" >"$T_TMP/raw" 2>&1 <<'PY' || fail "raw HTTP: $(cat "$T_TMP/raw")"
import socket, sys, time
port = int(sys.argv[1])

def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.split(b"\r\n", 1)[0].decode()

def expect(data, status):
    line = ask(data)
    if not line.startswith("HTTP/1.1 %d " % status):
        sys.exit("%r... answered %r, want %d" % (data[:40], line, status))

expect(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 413)
expect(b"GET /" + b"m" * 300 + b" HTTP/1.1\r\n\r\n", 414)
expect(b"GET /metrics HTTP/2.0\r\n\r\n", 505)
expect(b"\x16\x03\x01garbage\r\n\r\n", 400)
expect(b"GET /metrics HTTP/1.0\r\n\r\n", 200)
# a request split in many pieces
s = socket.create_connection(("127.0.0.1", port), timeout=10)
for c in b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n":
    s.send(bytes([c]))
    time.sleep(0.001)
first = s.recv(100).split(b"\r\n")[0]
s.close()
if not first.startswith(b"HTTP/1.1 200"):
    sys.exit("split request answered %r" % first)
# 16 idle connections hold every slot: the 17th is told 503; then they go and it is served
idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(16)]
time.sleep(1)
expect(b"GET /metrics HTTP/1.1\r\n\r\n", 503)
for s in idle:
    s.close()
time.sleep(0.3)
expect(b"GET /metrics HTTP/1.1\r\n\r\n", 200)
PY
	kill -0 "$BPFD_PID" || fail "the daemon died"
	ctl list >/dev/null 2>&1 || fail "list after the raw requests"
}

# A connection that never completes its request is closed after 10 s: it does not hold
# its slot, and gRPC is served meanwhile.
test_slow_client_dropped() {
	metrics_daemon
	/usr/bin/python3 - "$MPORT" "$BPFD" "$BPFD_SOCK" >"$T_TMP/slow" 2>&1 <<'PY' || fail "$(cat "$T_TMP/slow")"
import socket, subprocess, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
t0 = time.monotonic()
r = subprocess.run([sys.argv[2], "bpfctl", "--endpoint", "unix://" + sys.argv[3], "list"],
                   capture_output=True, timeout=20)
if r.returncode:
    sys.exit("list while a metrics client stalls: %r" % r.stderr)
b = s.recv(100)
dt = time.monotonic() - t0
if b or dt < 9 or dt > 20:
    sys.exit("stalled client: got %r after %.1f s, want a close after about 10 s" % (b, dt))
PY
}

# stats = "on-demand" (grace 1 s): a scrape turns the statistics on like a Get does.
test_scrape_turns_stats_on() {
	metrics_daemon '[monitor]' 'stats = "on-demand"' 'stats_grace = 1'
	id=$(load_id -n tp_count -p "$COUNTER_OBJ" tracepoint -t "$TP")
	sleep 1.5
	holds_stats "$BPFD_PID" && fail "stats still on 1.5 s after the load with a grace of 1 s"
	scrape
	holds_stats "$BPFD_PID" || fail "a scrape did not turn the run statistics on"
	[ "$(sample bpfd_run_stats_enabled)" = 1 ] || fail "bpfd_run_stats_enabled is not 1"
	grep -q "^bpfd_program_runs_total{id=\"$id\"" "$T_TMP/metrics" || fail "no run count of $id"
	# the thread that serves it has no capabilities (it starts after privsep)
	found=0
	for st in /proc/$BPFD_PID/task/*/status; do
		grep -q '^Name:.bpfd-metrics' "$st" || continue
		found=1
		for c in CapEff CapPrm CapInh; do
			grep -q "^$c:.0000000000000000" "$st" || fail "metrics thread $c: $(grep "^$c" "$st")"
		done
	done
	[ $found = 1 ] || fail "no bpfd-metrics thread"
	ctl unload "$id" >/dev/null 2>&1 || fail "unload $id"
}

test_stats_off_no_counts() {
	metrics_daemon '[monitor]' 'stats = "off"'
	scrape
	grep -q '^bpfd_program_runs_total' "$T_TMP/metrics" && fail "run counts with stats off"
	[ "$(sample bpfd_run_stats_enabled)" = 0 ] || fail "bpfd_run_stats_enabled is not 0"
	return 0
}

test_config_refused() {
	prog_checks
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	check() {
		printf '[metrics]\n%s\n' "$1" >"$T_TMP/bad.toml"
		"$BPFD" --config "$T_TMP/bad.toml" --check-config >"$T_TMP/out" 2>&1 && fail "accepted $1"
		grep -q "$2" "$T_TMP/out" || fail "$1: unclear error: $(cat "$T_TMP/out")"
	}
	check 'port = 0' 'port 0 is out of range (1-65535)'
	check 'address = "localhost"' 'not a numeric IPv4 or IPv6 address'
	check 'labels = ["id"]' "which bpfd sets itself"
	check 'labels = ["a.b", "a-b"]' "both become the label 'a_b'"
	check 'labels = [1]' 'must be strings'
	check 'labels = ["a","b","c","d","e","f","g","h","i"]' 'at most 8 metadata keys'
	check 'color = "red"' "unknown key 'color' in \[metrics\]"
	# a port already taken: the daemon says which and does not start
	P=$(free_port)
	/usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(5)' "$P" &
	holder=$!
	sleep 0.3
	printf '[metrics]\nport = %s\n' "$P" >"$T_TMP/busy.toml"
	mkdir -p "$T_TMP/run"
	timeout 20 "$BPFD" --rundir "$T_TMP/run" --config "$T_TMP/busy.toml" >"$T_TMP/busy.out" 2>&1 &&
		fail "the daemon started on a taken port"
	kill "$holder" 2>/dev/null
	umount -l "$T_TMP/run/fs" 2>/dev/null
	grep -q "Failed to listen for metrics on \[127.0.0.1\]:$P" "$T_TMP/busy.out" ||
		fail "unclear: $(cat "$T_TMP/busy.out")"
}

run_tests metrics test_prometheus_scrapes_run_count test_promtool_clean test_http_rules \
	test_slow_client_dropped test_scrape_turns_stats_on test_stats_off_no_counts test_config_refused
