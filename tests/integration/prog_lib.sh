# prog_lib.sh - helpers of the t_prog_*.sh tests (sourced after lib.sh): a shared
# daemon, a trigger binary built in the test's temp dir, counters read through
# their pinned maps with bpftool, snapshots of what a failed command must not change.
#
# In the VM every program start costs 0.1-0.4 s (the root file system is served over
# 9p and the dynamic loader reads it), so these helpers parse with shell builtins and
# start as few programs as they can: no jq, sed or awk on the paths tests repeat.
COUNTER_OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
BAD_OBJ="$BPFD_TESTBPF/prog_bad.bpf.o"
# A kernel function getppid() calls, present in kallsyms and BTF on 6.1 and 6.18.
KFN=__task_pid_nr_ns
# The script's own temp dir (tests get a subdirectory each): things built once go here.
PROG_TOP=$T_TMP
TRIG=$PROG_TOP/trig

# lib.sh's have_feature with one probe and one jq run per script: the features file
# holds "NAME available" or "NAME DETAIL" lines.
have_feature() {
	if [ ! -s "$PROG_TOP/features" ]; then
		"$BPFD" --probe --json >"$PROG_TOP/probe.json" 2>/dev/null
		jq -r '.features | to_entries[] |
			"\(.key) \(if .value.available then "available" else .value.detail end)"' \
			"$PROG_TOP/probe.json" >"$PROG_TOP/features"
	fi
	while read -r _f _d; do
		[ "$_f" = "$1" ] && [ "$_d" = available ] && return 0
	done <"$PROG_TOP/features"
	return 1
}

# Does the kernel have feature $1?  Otherwise skip with the probe's reason.
need_feature() {
	have_feature "$1" && return 0
	while read -r _f _d; do
		[ "$_f" = "$1" ] && skip "the kernel lacks $1: $_d"
	done <"$PROG_TOP/features"
	skip "the probe does not know feature $1"
}

# Each test runs in a subshell but lib.sh's start_daemon always uses $T_TMP/run and
# its cleanups run only when the script ends.  prog_setup gives the test its own
# directory and shares ONE daemon among the tests of the script (a daemon start costs
# most of a second in the VM: it probes the kernel); prog_setup_private gives the test
# a daemon of its own, for tests that stop and start it.  Tests unload what they load.
prog_checks() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -f "$COUNTER_OBJ" ] || skip "test BPF objects not built ($COUNTER_OBJ)"
	ensure_bpffs
	have_feature bpffs
}

prog_setup() {
	prog_checks
	if [ -s "$PROG_TOP/shared.env" ]; then
		. "$PROG_TOP/shared.env"
		kill -0 "$BPFD_PID" 2>/dev/null || fail "the shared daemon died: $(cat "$DAEMON_LOG")"
	else
		T_TMP=$PROG_TOP/shared
		mkdir -p "$T_TMP"
		start_daemon
		DAEMON_LOG=$T_TMP/daemon.log
		echo "BPFD_RUNDIR=$BPFD_RUNDIR BPFD_SOCK=$BPFD_SOCK BPFD_PID=$BPFD_PID DAEMON_LOG=$DAEMON_LOG" \
			>"$PROG_TOP/shared.env"
	fi
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
}

prog_setup_private() {
	prog_checks
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	start_daemon "$@"
	DAEMON_LOG=$T_TMP/daemon.log
}

# Stop the test's daemon (SIGTERM: programs stay loaded) / start it again.
restart_daemon() {
	stop_daemon
	rm -f "$BPFD_SOCK"	# start_daemon waits for the socket to appear
	start_daemon "$@"
}

# trig getppid N | trig func N | trig wait N FILE (print pid, wait for FILE, call func N)
build_trig() {
	[ -x "$TRIG" ] && return 0
	cat >"$PROG_TOP/trig.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) int bpfd_test_func(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

int main(int argc, char **argv)
{
	volatile int s = 0;
	int i, n = argc > 2 ? atoi(argv[2]) : 1;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "wait")) {
		printf("%d\n", getpid());
		fflush(stdout);
		while (argc > 3 && access(argv[3], F_OK))
			usleep(10000);
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(argv[1], "getppid"))
			syscall(SYS_getppid);
		else
			s = bpfd_test_func(s);
	}
	return 0;
}
C
	cc -O1 -o "$TRIG.tmp" "$PROG_TOP/trig.c" || fail "cannot build the trigger program with cc"
	mv "$TRIG.tmp" "$TRIG"
}

trig() { build_trig; "$TRIG" "$@"; }

# Values of counter[0] in the maps pinned at $@ (u64; the maps have BTF, so bpftool
# prints numbers), one per line, through ONE bpftool run (batch mode).
counters() {
	: >"$T_TMP/batch"
	for _p in "$@"; do
		echo "map lookup pinned $_p key 0 0 0 0" >>"$T_TMP/batch"
	done
	bpftool batch file "$T_TMP/batch" >"$T_TMP/batch.out" 2>&1
	_n=0
	while IFS= read -r _l; do
		case $_l in
		*'"value":'*)
			_l=${_l#*'"value":'}
			_l=${_l%%,*}
			echo $((_l))
			_n=$((_n + 1)) ;;
		esac
	done <"$T_TMP/batch.out"
	[ $_n = $# ] || { echo "bpftool batch: $(cat "$T_TMP/batch.out")" >&2; return 1; }
}

counter() {
	counters "$1" || echo -1
}

# The value(s) of "KEY:" in bpfctl's text output in FILE (continuation rows joined
# with spaces).  Key rows start with one space and a capital letter.
field() {
	_in= _out=
	while IFS= read -r _l; do
		case $_l in
		" $2:"*) _in=1; _v=${_l#" $2:"} ;;
		" "[A-Z]*) [ -n "$_in" ] && break; continue ;;
		*) [ -n "$_in" ] || continue; _v=$_l ;;
		esac
		_v=${_v#"${_v%%[! ]*}"}
		_out="${_out:+$_out }$_v"
	done <"$1"
	echo "$_out"
}

# A veth whose host end $1 (no address) sees the pings the peer in netns $1ns sends
# with frames $1: a permanent neighbour entry makes each ping one frame (ARP alone
# missed frames: a neighbour that failed to resolve is not asked again at once).
frames_veth() {
	make_veth_ns "$1" "$1p" "$1ns"
	ip -n "$1ns" addr add 10.99.0.2/24 dev "$1p"
	ip -n "$1ns" neigh add 10.99.0.1 lladdr "$(cat "/sys/class/net/$1/address")" \
		dev "$1p" nud permanent || fail "cannot add a neighbour entry in $1ns"
}

frames() {
	ip netns exec "$1ns" ping -c 3 -i 0.2 -W 0.2 10.99.0.1 >/dev/null 2>&1
	return 0
}

# Every program in $T_TMP/progs ("ID WHAT..." lines) counts its events: getppid()
# and bpfd_test_func() calls, and frames on $IF (the script's frames()) when IF is set.
progs_run() {
	set --
	while read -r _id _what; do
		set -- "$@" "$BPFD_RUNDIR/fs/maps/$_id/counter"
	done <"$T_TMP/progs"
	counters "$@" >"$T_TMP/c0" || fail "cannot read the counters"
	trig getppid 20
	trig func 20
	[ -n "${IF:-}" ] && frames "$IF"
	counters "$@" >"$T_TMP/c1" || fail "cannot read the counters"
	exec 3<"$T_TMP/c0" 4<"$T_TMP/c1"
	while read -r _id _what; do
		read -r _v0 <&3
		read -r _v1 <&4
		[ "$_v1" -gt "$_v0" ] || fail "program $_id ($_what) did not run: $_v0 -> $_v1"
	done <"$T_TMP/progs"
	exec 3<&- 4<&-
}

# load-from-file ARGS... -> prints the new program id; fails the test on error.
load_id() {
	ctl load-from-file "$@" >"$T_TMP/load.out" 2>&1 ||
		fail "load-from-file $*: $(cat "$T_TMP/load.out")"
	field "$T_TMP/load.out" ID
}

# bpfctl get ID into $T_TMP/get; then field "$T_TMP/get" KEY.
get() {
	ctl get "$1" >"$T_TMP/get" 2>&1 || fail "get $1: $(cat "$T_TMP/get")"
}

map_dir() {
	get "$1"
	field "$T_TMP/get" "Map Pin Path"
}

used_by() {
	get "$1"
	field "$T_TMP/get" "Maps Used By"
}

# step N as 8 little-endian bytes in hex, for -g step=...
step_hex() {
	_i=0
	while [ $_i -lt 8 ]; do
		printf '%02x' $(( ($1 >> (8 * _i)) & 255 ))
		_i=$((_i + 1))
	done
}

prog_gone() {
	_i=0
	while bpftool prog show id "$1" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}

# What a failed command must not change, exactly for what the test owns (others' tests
# and stress runs load and unload programs of the same names meanwhile):
# own_state prints bpfd's pins and records, the BPF programs, links and perf events the
# daemon holds open (by id) and what is attached to the test's interfaces ($OWN_IFACES:
# XDP and TC; a TCX link or a perf event lives only while a descriptor or pin holds it).
own_state() {
	ls -AR "$BPFD_RUNDIR/fs" "$BPFD_RUNDIR/programs"
	echo "held open by bpfd ($BPFD_PID):"
	held_by "$BPFD_PID"
	for _if in ${OWN_IFACES:-}; do
		echo "on $_if:"
		bpftool net show dev "$_if"
	done
}

# held_by PID: "prog_id: N", "link link_id: N prog_id: N" and "perf_event" for every
# such descriptor PID holds (shell builtins but one ls: each program start is slow in the VM)
held_by() {
	ls -l "/proc/$1/fd" >"$T_TMP/fds" 2>&1
	while IFS= read -r _l; do
		case $_l in
		*' -> anon_inode:bpf-prog') _out= ;;
		*' -> anon_inode:bpf_link') _out=link ;;
		*' -> anon_inode:[perf_event]') echo perf_event; continue ;;
		*) continue ;;
		esac
		_fd=${_l% -> *}
		while read -r _k _v; do
			case $_k in link_id:|prog_id:) _out="${_out:+$_out }$_k $_v" ;; esac
		done <"/proc/$1/fdinfo/${_fd##* }"
		echo "$_out"
	done <"$T_TMP/fds"
}

# snapshot NAME: own_state into $T_TMP/snap.NAME and the kernel's programs named like
# the test programs into $T_TMP/ids.NAME (programs unloaded just before linger for an
# RCU grace period, so only programs that appear count).
snapshot() {
	own_state >"$T_TMP/snap.$1" 2>&1
	bpftool prog show >"$T_TMP/progs.now" 2>&1
	: >"$T_TMP/ids.$1"
	while read -r _sid _stype _sn _sname _srest; do
		case $_sname in *_count) echo "${_sid%:}" >>"$T_TMP/ids.$1" ;; esac
	done <"$T_TMP/progs.now"
}

# Programs in ids.now that ids.$1 lacks.
new_progs() {
	while read -r _nid; do
		_seen=
		while read -r _oid; do
			[ "$_oid" = "$_nid" ] && _seen=1 && break
		done <"$T_TMP/ids.$1"
		[ -n "$_seen" ] || echo "$_nid"
	done <"$T_TMP/ids.now"
}

# Ids of the programs someone else holds: open in another process (a program or a
# link's), pinned (or its link pinned) outside this daemon's bpffs, attached to an
# interface of the root netns that is not the test's (nor lo, which tests refuse loads on).
held_elsewhere() {
	ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v me="/proc/$BPFD_PID/fd:" '
		/^\/proc\// { dir = $0; next }
		dir != me && / -> anon_inode:bpf(-prog|_link)$/ {
			f = dir; sub(/fd:$/, "fdinfo/", f); print f $(NF - 2) }' |
		xargs -r cat 2>/dev/null | awk '$1 == "prog_id:" { print $2 }'
	bpftool prog show -j -f 2>/dev/null | jq -r --arg own "$BPFD_RUNDIR/fs/" \
		'.[] | select(any(.pinned[]?; startswith($own) | not)) | .id'
	bpftool link show -j -f 2>/dev/null | jq -r --arg own "$BPFD_RUNDIR/fs/" \
		'.[] | select(any(.pinned[]?; startswith($own) | not)) | .prog_id'
	bpftool net -j 2>/dev/null | jq -r --arg own " ${OWN_IFACES:-} lo " \
		'.[] | (.xdp, .tc)[]? | select(.devname as $d | $own | contains(" " + $d + " ") | not) | .id'
}

# New programs named like the test programs (since snapshot $1) that nothing outside
# the test accounts for.  A failed load leaves what it leaves held by the daemon, pinned
# in its bpffs or on the test's hooks (own_state compares those exactly); this finds a
# program left anywhere else.
unaccounted() {
	new_progs "$1" >"$T_TMP/new"
	[ -s "$T_TMP/new" ] || return 0
	held_elsewhere >"$T_TMP/elsewhere"
	while read -r _nid; do
		grep -qx "$_nid" "$T_TMP/elsewhere" || echo "$_nid"
	done <"$T_TMP/new"
}

# same_as NAME: nothing the test owns changed since snapshot NAME and no program is
# unaccounted for (one a failed load left may linger until the kernel frees it, and
# another test's program may be between holders: retry a little)
same_as() {
	_tries=0
	while :; do
		snapshot now
		_new=$(unaccounted "$1")
		cmp -s "$T_TMP/snap.$1" "$T_TMP/snap.now" && [ -z "$_new" ] && return 0
		_tries=$((_tries + 1))
		if [ $_tries -gt 40 ]; then
			for _nid in $_new; do
				_new="$_new
$(bpftool prog show id "$_nid" 2>&1)"
			done
			fail "state changed: $(diff "$T_TMP/snap.$1" "$T_TMP/snap.now")
programs nothing else holds: $_new"
		fi
		sleep 0.05
	done
}

# daemon_state NAME / unchanged_since NAME: own_state alone, for what a refused load
# must not change (the image tests: their programs carry the same names as others').
daemon_state() {
	own_state >"$T_TMP/state.$1" 2>&1
}

unchanged_since() {
	daemon_state now
	cmp -s "$T_TMP/state.$1" "$T_TMP/state.now" ||
		fail "the daemon's state changed: $(diff "$T_TMP/state.$1" "$T_TMP/state.now")"
}

# stress_setup PREFIX N: what stress.py (t_crash.sh, t_load.sh) needs: a private run
# dir ($T_TMP/run), the trigger, N veths seeing frames ($IFACES, names PREFIX...),
# CHAINS=1 where the kernel has freplace; KINDS starts with tracepoint and uprobe.
stress_setup() {
	prog_checks
	need_feature tracepoint
	build_trig
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir -p "$T_TMP/run" || fail "mkdir"
	on_exit "umount -l $T_TMP/run/fs"
	IFACES=
	_sfx=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	for _n in $(seq "$2"); do
		frames_veth "$(echo "$1$_sfx" | cut -c1-11)$_n"
		IFACES="$IFACES $(echo "$1$_sfx" | cut -c1-11)$_n"
	done
	KINDS="tracepoint uprobe"
	CHAINS=0
	have_feature freplace && CHAINS=1
	export T_TMP TRIG IFACES KINDS CHAINS BPFD BPFD_TESTBPF
}
