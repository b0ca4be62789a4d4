#!/bin/sh
# t_privsep.sh - privilege separation: while a load is in progress (held by the
# BPFD_TEST_PAUSE_LOAD hook) and a hostile peer trickles half an HTTP/2 preface, every
# thread of the daemon has CapEff, CapPrm and CapInh 0 except the kernel executor, which
# has exactly the daemon's set (that of dist/bpfd.service, as far as this shell has it);
# the ELF parsing child has no capabilities, no_new_privs and a seccomp filter; 16
# clients loading and listing at once all succeed.
# vm: no (capabilities are per thread on every kernel bpfd supports: the split is bpfd logic)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# CAP_DAC_READ_SEARCH CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_NET_ADMIN CAP_SYS_ADMIN
# CAP_SYS_RESOURCE CAP_SYSLOG CAP_BPF (CAP_CHOWN only during start-up: in no thread after)
DAEMON_SET=$(( (1 << 2) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 12) | (1 << 21) | (1 << 24) |
	(1 << 34) | (1 << 39) ))

# status field $2 (CapEff, NoNewPrivs, ...) of /proc path $1, as a decimal number
status_num() {
	_v=$(sed -n "s/^$2:[[:space:]]*//p" "$1/status")
	[ -n "$_v" ] || fail "no $2 in $1/status"
	case $2 in Cap*) echo $((0x$_v)) ;; *) echo "$_v" ;; esac
}

# The set the executor must hold: the daemon's set, less what this shell lacks.
want_set() {
	echo $(( DAEMON_SET & $(status_num /proc/self CapPrm) ))
}

# wait (10 s at most) for a line matching $1 in the daemon's log; print the line
wait_log() {
	_i=0
	while ! grep -q "$1" "$DAEMON_LOG"; do
		_i=$((_i + 1))
		[ $_i -gt 200 ] && fail "no '$1' in the daemon's log: $(tail -5 "$DAEMON_LOG")"
		sleep 0.05
	done
	grep "$1" "$DAEMON_LOG" | tail -n 1
}

# A peer that connects and sends the HTTP/2 preface a byte every 0.2 s, stopping half
# way, then holds the connection; its pid in $HOSTILE.
hostile_peer() {
	/usr/bin/python3 - "$BPFD_SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for b in b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[:12]:
    s.send(bytes([b]))
    time.sleep(0.2)
time.sleep(60)
PY
	HOSTILE=$!
	on_exit "kill $HOSTILE"
}

# Every thread of the daemon: CapEff/CapPrm/CapInh 0, except the executor ($1), which
# has exactly want_set; CapBnd is the daemon's set everywhere.
check_threads() {
	want=$(want_set)
	bnd=$(( DAEMON_SET & $(status_num /proc/self CapBnd) ))
	n=0
	for t in /proc/"$BPFD_PID"/task/*; do
		tid=${t##*/}
		n=$((n + 1))
		eff=$(status_num "$t" CapEff) prm=$(status_num "$t" CapPrm)
		inh=$(status_num "$t" CapInh)
		[ "$(status_num "$t" CapBnd)" = "$bnd" ] ||
			fail "thread $tid: CapBnd $(status_num "$t" CapBnd), want $bnd"
		[ "$inh" = 0 ] || fail "thread $tid: CapInh $inh, want 0"
		if [ "$tid" = "$1" ]; then
			[ "$eff" = "$want" ] && [ "$prm" = "$want" ] ||
				fail "executor $tid: CapEff $eff CapPrm $prm, want $want"
		else
			[ "$eff" = 0 ] && [ "$prm" = 0 ] ||
				fail "thread $tid: CapEff $eff CapPrm $prm, want 0"
		fi
	done
	[ $n -ge 2 ] || fail "the daemon has $n thread(s): no executor"
	echo "  $n threads checked: executor $1 has $want, the others nothing"
}

# A private daemon in $PROG_TOP/t.$1 with test hook $2 set to $3 (seconds), then $4 (a
# function, optional), then a tracepoint load started in the background (its pid in
# $lpid, its output in $T_TMP/load.out).
hooked_load() {
	prog_checks
	T_TMP=$PROG_TOP/t.$1
	mkdir -p "$T_TMP"
	export "$2=$3"
	start_daemon
	unset "$2"
	DAEMON_LOG=$T_TMP/daemon.log
	[ -z "${4:-}" ] || $4
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/load.out" 2>&1 &
	lpid=$!
}

test_threads_mid_load_and_hostile_peer() {
	hooked_load threads BPFD_TEST_PAUSE_LOAD 4 hostile_peer
	front=$(wait_log "front thread [0-9]*: no capabilities")
	exe=$(wait_log "kernel executor thread [0-9]*: ")
	exe=${exe#*kernel executor thread }
	exe=${exe%%:*}
	case $front in *"front thread $BPFD_PID: "*) ;; *) fail "front is not the main thread: $front" ;; esac
	[ -d "/proc/$BPFD_PID/task/$exe" ] || fail "no thread $exe in the daemon"
	wait_log "BPFD_TEST_PAUSE_LOAD: program " >/dev/null
	kill -0 "$HOSTILE" 2>/dev/null || fail "the hostile peer is gone"
	check_threads "$exe"
	wait "$lpid" || fail "the paused load failed: $(cat "$T_TMP/load.out")"
	id=$(field "$T_TMP/load.out" ID)
	check_threads "$exe"
	ctl unload "$id" >/dev/null 2>&1 || fail "unload $id"
}

test_sandbox_child() {
	hooked_load sandbox BPFD_TEST_PAUSE_SANDBOX 3
	l=$(wait_log "BPFD_TEST_PAUSE_SANDBOX: sandbox child [0-9]* confined")
	child=${l#*sandbox child }
	child=${child%% *}
	c=/proc/$child
	[ "$(status_num "$c" PPid)" = "$BPFD_PID" ] || fail "$child is not the daemon's child"
	for f in CapEff CapPrm CapInh CapAmb; do
		[ "$(status_num "$c" $f)" = 0 ] || fail "sandbox child: $f $(status_num "$c" $f)"
	done
	[ "$(status_num "$c" NoNewPrivs)" = 1 ] || fail "sandbox child: NoNewPrivs not set"
	[ "$(status_num "$c" Seccomp)" = 2 ] || fail "sandbox child: Seccomp $(status_num "$c" Seccomp), want 2 (filter)"
	echo "  sandbox child $child: no capabilities, NoNewPrivs 1, Seccomp 2"
	wait "$lpid" || fail "the load failed: $(cat "$T_TMP/load.out")"
	ctl unload "$(field "$T_TMP/load.out" ID)" >/dev/null 2>&1 || fail "unload"
}

# One client: load a tracepoint program, list three times, get it, unload it.
client() {
	_o=$T_TMP/c$1
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count -m "client=$1" tracepoint \
		-t syscalls/sys_enter_getppid >"$_o.load" 2>&1 || { echo "load: $(cat "$_o.load")"; return 1; }
	_id=$(field "$_o.load" ID)
	for _k in 1 2 3; do
		ctl list >"$_o.list" 2>&1 || { echo "list: $(cat "$_o.list")"; return 1; }
		grep -q "^ *$_id " "$_o.list" || { echo "list lacks $_id"; return 1; }
	done
	ctl get "$_id" >"$_o.get" 2>&1 || { echo "get $_id: $(cat "$_o.get")"; return 1; }
	ctl unload "$_id" >"$_o.unload" 2>&1 || { echo "unload $_id: $(cat "$_o.unload")"; return 1; }
}

test_sixteen_clients() {
	prog_checks
	T_TMP=$PROG_TOP/t.clients
	mkdir -p "$T_TMP"
	start_daemon
	pids=
	for i in $(seq 1 16); do
		client "$i" >"$T_TMP/client.$i" 2>&1 &
		pids="$pids $!"
	done
	bad=0
	i=0
	for p in $pids; do
		i=$((i + 1))
		wait "$p" || { bad=$((bad + 1)); echo "  client $i: $(cat "$T_TMP/client.$i")" >&2; }
	done
	[ $bad = 0 ] || fail "$bad of 16 clients failed"
	ctl list >"$T_TMP/list.end" 2>&1 || fail "list: $(cat "$T_TMP/list.end")"
	[ "$(grep -c tp_count "$T_TMP/list.end")" = 0 ] || fail "programs left: $(cat "$T_TMP/list.end")"
	kill -0 "$BPFD_PID" || fail "the daemon died"
	echo "  16 clients: 16 loads, 48 lists, 16 gets, 16 unloads"
}

run_tests privsep test_threads_mid_load_and_hostile_peer test_sandbox_child test_sixteen_clients
