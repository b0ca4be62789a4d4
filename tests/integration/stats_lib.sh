# stats_lib.sh - helpers of the run statistics tests (t_stats.sh, t_metrics.sh; sourced
# after prog_lib.sh): a caller of sysfs(2), a syscall nothing else on the machine makes,
# so the tracepoint program on its entry runs exactly as often as the test calls it.

TP=syscalls/sys_enter_sysfs
SYSFS=$PROG_TOP/sysfs_calls

# sysfs_calls N: N sysfs(2) calls (option 3: the number of filesystem types)
sysfs_calls() {
	if [ ! -x "$SYSFS" ]; then
		cat >"$PROG_TOP/sysfs_calls.c" <<'C'
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 1;

#ifdef SYS_sysfs
	for (i = 0; i < n; i++)
		syscall(SYS_sysfs, 3);
	return 0;
#else
	(void)i;
	(void)n;
	return 77;
#endif
}
C
		cc -O1 -o "$SYSFS.tmp" "$PROG_TOP/sysfs_calls.c" || fail "cannot build the sysfs caller"
		mv "$SYSFS.tmp" "$SYSFS"
	fi
	"$SYSFS" "$1"
	[ $? = 77 ] && skip "this architecture has no sysfs(2) syscall"
	return 0
}

# Does process $1 hold a BPF_ENABLE_STATS fd?  (The sysctl bpf_stats_enabled shows
# only what was written to it, not the fds.)
holds_stats() {
	for _f in /proc/$1/fd/*; do
		[ "$(readlink "$_f" 2>/dev/null)" = "anon_inode:bpf-stats" ] && return 0
	done
	return 1
}

