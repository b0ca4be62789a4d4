#!/bin/sh
# t_ops.sh - running bpfd for real: [log] level and target (stderr with timestamps
# outside systemd, "<N>" prefixes into the journal, syslog), [runtime] unload_on_exit
# both ways, and bpfctl finding the daemon through bpfd.toml.  In the VM only
# unload_on_exit = true runs (XDP through the dispatcher, which the host refuses).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# Logging and the endpoint lookup are bpfd logic: in the VM only unload_on_exit runs
# (it empties the XDP dispatcher chain the host kernel cannot build).
host_only() {
	[ "${BPFD_IN_VM:-0}" != 1 ] || skip "host only: bpfd logic that no kernel version changes"
}

STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} bpfd: '

# Run bpfd with "$@" until "Ready" shows in $T_TMP/log (or 10 s), then stop it.
# The environment is the caller's minus systemd's variables unless given in $ENV_ADD.
run_ready() {
	mkdir -p "$T_TMP/run"
	on_exit "umount -l $T_TMP/run/fs"
	env -u JOURNAL_STREAM -u INVOCATION_ID -u BPFD_LOG $ENV_ADD \
		"$BPFD" --rundir "$T_TMP/run" "$@" >"$T_TMP/log" 2>&1 </dev/null &
	pid=$!
	i=0
	until [ -S "$T_TMP/run/bpfd.sock" ] &&
		BPFD_ENDPOINT="unix://$T_TMP/run/bpfd.sock" "$BPFD" bpfctl list >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || fail "bpfd $* exited: $(cat "$T_TMP/log")"
		i=$((i + 1))
		[ $i -le 200 ] || { kill -9 "$pid"; fail "bpfd $* did not serve in 10 s"; }
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || fail "bpfd $* exited with $? after SIGTERM: $(cat "$T_TMP/log")"
}

test_log_stderr_timestamps() {
	host_only
	begin stamps
	ENV_ADD= run_ready
	grep -qE "${STAMP}bpfd .* starting \(pid [0-9]+\)" "$T_TMP/log" ||
		fail "no timestamped start line: $(head -n 3 "$T_TMP/log")"
	n=$(grep -cvE "$STAMP" "$T_TMP/log")
	[ "$n" = 0 ] || fail "$n lines without a timestamp: $(grep -vE "$STAMP" "$T_TMP/log")"
	# under systemd (INVOCATION_ID) the journal stamps lines: none from bpfd
	ENV_ADD=INVOCATION_ID=0123456789abcdef run_ready
	grep -q '^bpfd: bpfd .* starting' "$T_TMP/log" ||
		fail "with INVOCATION_ID: $(head -n 3 "$T_TMP/log")"
	! grep -qE "$STAMP" "$T_TMP/log" || fail "with INVOCATION_ID, timestamps: $(head -n 3 "$T_TMP/log")"
}

# stderr is the journal's stream when $JOURNAL_STREAM names its device and inode:
# lines start with the sd-daemon priority, <6> for info, <4> for warnings.
test_log_journal_prefix() {
	host_only
	begin journal
	: >"$T_TMP/log"
	dev_ino=$(stat -c '%d:%i' "$T_TMP/log")
	ENV_ADD="JOURNAL_STREAM=$dev_ino" run_ready
	grep -q '^<6>bpfd .* starting' "$T_TMP/log" || fail "no <6> start line: $(head -n 3 "$T_TMP/log")"
	! grep -q '^bpfd: \|^[0-9]' "$T_TMP/log" || fail "unprefixed lines: $(cat "$T_TMP/log")"
	# a JOURNAL_STREAM that is not stderr (inherited, then redirected): no prefix
	ENV_ADD="JOURNAL_STREAM=1:1" run_ready
	grep -q '^bpfd: bpfd .* starting' "$T_TMP/log" || fail "JOURNAL_STREAM=1:1: $(head -n 3 "$T_TMP/log")"
}

# [log] level from the file; $BPFD_LOG wins over it; --log-level wins over both.
test_log_level_order() {
	host_only
	begin level
	printf '[log]\nlevel = "warn"\n' >"$T_TMP/warn.toml"
	ENV_ADD= run_ready --config "$T_TMP/warn.toml"
	! grep -q 'starting\|Ready' "$T_TMP/log" || fail "[log] level = warn logged info: $(cat "$T_TMP/log")"
	ENV_ADD=BPFD_LOG=debug run_ready --config "$T_TMP/warn.toml"
	grep -q 'bpfd: debug: ' "$T_TMP/log" || fail "BPFD_LOG=debug over [log] warn: no debug line: $(head -n 5 "$T_TMP/log")"
	ENV_ADD=BPFD_LOG=debug run_ready --config "$T_TMP/warn.toml" --log-level error
	[ ! -s "$T_TMP/log" ] || fail "--log-level error logged: $(cat "$T_TMP/log")"
	printf '[log]\nlevel = "loud"\n' >"$T_TMP/bad.toml"
	"$BPFD" --config "$T_TMP/bad.toml" --rundir "$T_TMP/never" 2>"$T_TMP/err" && fail "a bad level was accepted"
	grep -qF "$T_TMP/bad.toml:2:9: [log] level 'loud' is not one of error, warn, info, debug" \
		"$T_TMP/err" || fail "bad level: $(cat "$T_TMP/err")"
	printf '[log]\ntarget = "file"\n' >"$T_TMP/bad.toml"
	"$BPFD" --config "$T_TMP/bad.toml" --rundir "$T_TMP/never" 2>"$T_TMP/err" && fail "a bad target was accepted"
	grep -qF "[log] target 'file' is not one of stderr, syslog" "$T_TMP/err" ||
		fail "bad target: $(cat "$T_TMP/err")"
}

# target = "syslog": lines reach /dev/log as "<30>... bpfd[PID]: ..." (LOG_DAEMON|info).
# The daemon runs in a private mount namespace whose /dev/log is the test's socket.
test_log_syslog() {
	host_only
	begin syslog
	command -v unshare >/dev/null || skip "unshare is missing"
	sock="$T_TMP/log.sock"
	python3 - "$sock" "$T_TMP/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "ab", buffering=0) as f:
    try:
        while True:
            f.write(s.recv(65536) + b"\n")
    except socket.timeout:
        pass
PY
	lpid=$!
	on_exit "kill $lpid"
	i=0
	until [ -S "$sock" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "no listener"; sleep 0.05; done
	printf '[log]\ntarget = "syslog"\n' >"$T_TMP/sys.toml"
	mkdir -p "$T_TMP/run"
	on_exit "umount -l $T_TMP/run/fs"
	env -u JOURNAL_STREAM -u INVOCATION_ID -u BPFD_LOG unshare -m --propagation private sh -c '
		mount -t tmpfs bpfd-t-dev /dev && ln -s "$1" /dev/log && shift && exec "$@"' \
		sh "$sock" "$BPFD" --config "$T_TMP/sys.toml" --rundir "$T_TMP/run" \
		>"$T_TMP/log" 2>&1 </dev/null &
	pid=$!
	i=0
	until grep -q 'Ready' "$T_TMP/syslog" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || fail "bpfd exited: $(cat "$T_TMP/log")"
		i=$((i + 1))
		[ $i -le 200 ] || { kill -9 "$pid"; fail "no Ready in syslog after 10 s: $(cat "$T_TMP/syslog" "$T_TMP/log")"; }
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid"
	grep -qE "^<30>.* bpfd\[$pid\]: bpfd .* starting" "$T_TMP/syslog" ||
		fail "no '<30>... bpfd[$pid]: ... starting' in: $(cat "$T_TMP/syslog")"
	[ ! -s "$T_TMP/log" ] || fail "stderr has lines with target = syslog: $(cat "$T_TMP/log")"
}

# Load a tracepoint program (and an XDP one on a veth when the kernel has XDP),
# stop the daemon with signal $1; with [runtime] unload_on_exit = $2; $3 is a letter
# that makes the veth's name unique.
load_and_stop() {
	printf '[runtime]\nunload_on_exit = %s\n' "$2" >"$T_TMP/ops.toml"
	start_daemon --config "$T_TMP/ops.toml"
	ids=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	if have_feature xdp; then
		IF=o$3$T_ID
		make_veth_ns "$IF" "${IF}p" "${IF}ns"
		ids="$ids $(load_id -p "$COUNTER_OBJ" -n xdp_count xdp -i "$IF" -p 10)"
	fi
	kill "-$1" "$BPFD_PID"
	wait "$BPFD_PID" || fail "bpfd exited with $? after SIG$1: $(cat "$T_TMP/daemon.log")"
}

test_unload_on_exit_false() {
	host_only
	prog_checks
	begin keep
	load_and_stop TERM false k
	for id in $ids; do
		bpftool prog show id "$id" >/dev/null 2>&1 || fail "program $id is gone after SIGTERM"
	done
	! grep -q 'Unloaded .* at exit' "$T_TMP/daemon.log" || fail "unloaded at exit by default"
	# the next daemon takes them over, and unloads them
	restart_daemon
	for id in $ids; do
		ctl unload "$id" >/dev/null || fail "unload $id after restart"
	done
}

# unload_on_exit = true: SIGTERM and SIGINT unload everything: no program in the
# kernel, no record, no pin, no XDP program left on the interface.
test_unload_on_exit_true() {
	prog_checks
	sigs="TERM INT"
	# the VM checks the dispatcher chain once (each daemon start probes for seconds there)
	[ "${BPFD_IN_VM:-0}" != 1 ] || sigs=TERM
	for sig in $sigs; do
		begin "unload-$sig"
		load_and_stop "$sig" true "$(echo "$sig" | cut -c1)"
		# the kernel frees a program after an RCU grace period: give it 2 s
		for id in $ids; do
			i=0
			while bpftool prog show id "$id" >/dev/null 2>&1; do
				i=$((i + 1))
				[ $i -le 40 ] || fail "SIG$sig: program $id still loaded: $(bpftool prog show id "$id"); log: $(cat "$T_TMP/daemon.log")"
				sleep 0.05
			done
		done
		n=$(echo $ids | wc -w)
		grep -q "Unloaded $n programs\? at exit$" "$T_TMP/daemon.log" ||
			fail "SIG$sig: no 'Unloaded $n programs at exit': $(tail -n 5 "$T_TMP/daemon.log")"
		# bpfd.lock stays: removing it on exit would let a starting daemon lock
		# a file that is then unlinked (t_daemon.sh); probe.cache is the start-up
		# probe's result for this boot, kept on purpose (daemon.c)
		left=$(find "$BPFD_RUNDIR" -path "$BPFD_RUNDIR/fs" -prune -o -type f \
				! -path "$BPFD_RUNDIR/bpfd.lock" ! -path "$BPFD_RUNDIR/probe.cache" -print; \
			find "$BPFD_RUNDIR/fs" -mindepth 1 ! -type d ! -path "$BPFD_RUNDIR/fs/progs.debug" \
				! -path "$BPFD_RUNDIR/fs/maps.debug")	# the kernel's own
		[ -z "$left" ] || fail "SIG$sig: files left: $left"
		if [ -n "${IF:-}" ]; then
			! ip -d link show "$IF" | grep -q 'prog/xdp' ||
				fail "SIG$sig: XDP still attached to $IF: $(ip -d link show "$IF")"
		fi
		umount -l "$BPFD_RUNDIR/fs" 2>/dev/null
	done
}

# Start bpfd with "$@" (BPFD_PID) and wait for its socket $1.
serve_at() {
	_sock=$1
	shift
	"$BPFD" "$@" >"$T_TMP/daemon.log" 2>&1 &
	BPFD_PID=$!
	i=0
	until [ -S "$_sock" ]; do
		i=$((i + 1)); [ $i -le 200 ] || fail "no socket $_sock: $(cat "$T_TMP/daemon.log")"
		sleep 0.05
	done
}

# bpfctl without --endpoint and $BPFD_ENDPOINT: the enabled unix endpoint of
# $BPFD_CONFIG; $BPFD_ENDPOINT wins over the file, --endpoint over both.
test_bpfctl_endpoint_from_config() {
	host_only
	begin endpoint
	sock="$T_TMP/cfg-$T_ID.sock"
	cat >"$T_TMP/ep.toml" <<CFG
[[grpc.endpoints]]
type = "unix"
path = "$T_TMP/disabled.sock"
enabled = false

[[grpc.endpoints]]
type = "unix"
path = "$sock"
CFG
	mkdir -p "$T_TMP/run"
	on_exit "umount -l $T_TMP/run/fs"
	serve_at "$sock" --config "$T_TMP/ep.toml" --rundir "$T_TMP/run"
	env -u BPFD_ENDPOINT BPFD_CONFIG="$T_TMP/ep.toml" "$BPFD" bpfctl list >"$T_TMP/o" 2>&1 ||
		fail "bpfctl list through the config: $(cat "$T_TMP/o")"
	BPFD_ENDPOINT="unix://$T_TMP/nobody.sock" BPFD_CONFIG="$T_TMP/ep.toml" \
		"$BPFD" bpfctl list >"$T_TMP/o" 2>&1 && fail "\$BPFD_ENDPOINT did not win over the file"
	grep -qF "$T_TMP/nobody.sock" "$T_TMP/o" || fail "error does not name \$BPFD_ENDPOINT: $(cat "$T_TMP/o")"
	BPFD_ENDPOINT="unix://$T_TMP/nobody.sock" "$BPFD" bpfctl --endpoint "unix://$sock" list \
		>"$T_TMP/o" 2>&1 || fail "--endpoint did not win: $(cat "$T_TMP/o")"
	# no unix endpoint enabled in the file: the built-in default
	printf '[[grpc.endpoints]]\ntype = "unix"\npath = "%s"\nenabled = false\n' "$sock" >"$T_TMP/off.toml"
	if ! env -u BPFD_ENDPOINT BPFD_CONFIG="$T_TMP/off.toml" "$BPFD" bpfctl list >"$T_TMP/o" 2>&1; then
		grep -qF "unix:///run/bpfd/bpfd.sock" "$T_TMP/o" || fail "no default: $(cat "$T_TMP/o")"
	fi	# else a system daemon answered there
	! grep -qF "$sock" "$T_TMP/o" || fail "a disabled endpoint was used: $(cat "$T_TMP/o")"
	kill -TERM "$BPFD_PID"
	wait "$BPFD_PID"
	# [runtime] dir alone moves the socket: bpfctl follows it
	printf '[runtime]\ndir = "%s"\n' "$T_TMP/rt" >"$T_TMP/rt.toml"
	mkdir -p "$T_TMP/rt"
	on_exit "umount -l $T_TMP/rt/fs"
	serve_at "$T_TMP/rt/bpfd.sock" --config "$T_TMP/rt.toml"
	env -u BPFD_ENDPOINT BPFD_CONFIG="$T_TMP/rt.toml" "$BPFD" bpfctl list >"$T_TMP/o" 2>&1 ||
		fail "bpfctl list through [runtime] dir: $(cat "$T_TMP/o")"
	# a broken file: one warning naming it, then the default
	printf '[log]\nlevel = 3\n' >"$T_TMP/broken.toml"
	env -u BPFD_ENDPOINT BPFD_CONFIG="$T_TMP/broken.toml" "$BPFD" bpfctl list >"$T_TMP/o" 2>&1
	grep -qF "bpfctl: warning: $T_TMP/broken.toml:2:9:" "$T_TMP/o" ||
		fail "broken file: $(cat "$T_TMP/o")"
}

run_tests t_ops test_log_stderr_timestamps test_log_journal_prefix test_log_level_order \
	test_log_syslog test_unload_on_exit_false test_unload_on_exit_true \
	test_bpfctl_endpoint_from_config
