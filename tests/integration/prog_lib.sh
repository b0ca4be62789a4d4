# prog_lib.sh - helpers of the t_prog_*.sh tests (sourced after lib.sh): bpfctl on the
# private daemon, a trigger binary built in the test's temp dir, counters read through
# their pinned maps with bpftool, snapshots of what a failed command must not change.
COUNTER_OBJ="$BPFD_TESTBPF/prog_counter.bpf.o"
BAD_OBJ="$BPFD_TESTBPF/prog_bad.bpf.o"
# A kernel function getppid() calls, present in kallsyms and BTF on 6.1 and 6.18.
KFN=__task_pid_nr_ns
# The script's own temp dir (tests get a subdirectory each): things built once go here.
PROG_TOP=$T_TMP

# Each test runs in a subshell but lib.sh's start_daemon always uses $T_TMP/run and
# its cleanups run only when the script ends: give every test its own directory (the
# kernel probe, cached in $T_TMP/probe.json, is shared) and daemon.
prog_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -f "$COUNTER_OBJ" ] || skip "test BPF objects not built ($COUNTER_OBJ)"
	ensure_bpffs
	have_feature bpffs
	T_TMP=$(mktemp -d "$PROG_TOP/t.XXXXXX")
	cp "$PROG_TOP/probe.json" "$T_TMP/probe.json"
	start_daemon "$@"
}

# Stop the test's daemon (SIGTERM: programs stay loaded) / start it again.
restart_daemon() {
	stop_daemon
	rm -f "$BPFD_SOCK"	# start_daemon waits for the socket to appear
	start_daemon "$@"
}

ctl() {
	BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl "$@"
}

# trig getppid N | trig func N | trig wait N (print pid, wait for $T_TMP/go, call func N)
build_trig() {
	[ -x "$PROG_TOP/trig" ] && return 0
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
		while (access(argv[3], F_OK))
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
	cc -O1 -o "$PROG_TOP/trig.tmp" "$PROG_TOP/trig.c" ||
		fail "cannot build the trigger program with cc"
	mv "$PROG_TOP/trig.tmp" "$PROG_TOP/trig"
}
TRIG=$PROG_TOP/trig

trig() { build_trig; "$TRIG" "$@"; }

# Value of counter[0] in the map pinned at $1 (u64, little endian), through bpftool.
counter() {
	bpftool -j map lookup pinned "$1" key 0 0 0 0 2>/dev/null |
		jq -r '[.value[] | ltrimstr("0x") | ascii_downcase] | reverse | join("")' |
		{ read -r hex && printf '%d\n' "0x${hex:-0}"; } || echo -1
}

# load-from-file ARGS... -> prints the new program id; fails the test on error.
load_id() {
	ctl load-from-file -o json "$@" >"$T_TMP/load.json" 2>"$T_TMP/load.err" ||
		fail "load-from-file $*: $(cat "$T_TMP/load.json" "$T_TMP/load.err")"
	jq -r '.kernel_info.id' "$T_TMP/load.json"
}

# The map directory of program $1 (from bpfctl get).
map_dir() {
	ctl get -o json "$1" | jq -r '.info.map_pin_path'
}

# step N as 8 little-endian bytes in hex, for -g step=...
step_hex() {
	printf '%016x' "$1" | sed 's/../& /g' | awk '{for (i = NF; i > 0; i--) printf "%s", $i}'
}

# Does the kernel have feature $1?  Otherwise skip with the probe's reason.
need_feature() {
	have_feature "$1" ||
		skip "the kernel lacks $1: $(jq -r --arg f "$1" '.features[$f].detail' "$T_TMP/probe.json")"
}

prog_gone() {
	i=0
	while bpftool prog show id "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}

# What a failed command must not change: bpfd's pins and records, and the kernel's
# programs named like the test programs (other tests may load their own meanwhile).
snapshot() {
	{
		(cd "$BPFD_RUNDIR/fs" && find . -path ./maps -prune -o -name 'prog_*' -print; \
		 find ./maps -mindepth 1 2>/dev/null) | sort
		ls -A "$BPFD_RUNDIR/programs" | sort
		bpftool -j prog show | jq -r '.[] | select(.name | test("_count$")) | .id' | sort -n
	} >"$T_TMP/snap.$1"
}

# (programs freed by the kernel linger for an RCU grace period: retry a little)
same_as() {
	n=0
	while snapshot now && ! cmp -s "$T_TMP/snap.$1" "$T_TMP/snap.now"; do
		n=$((n + 1))
		[ $n -gt 40 ] && fail "state changed: $(diff "$T_TMP/snap.$1" "$T_TMP/snap.now")"
		sleep 0.05
	done
}
