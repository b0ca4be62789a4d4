# stats_lib.sh - helpers of the run statistics tests (t_stats.sh, t_metrics.sh; sourced
# after prog_lib.sh): a caller of sysfs(2), a syscall nothing else on the machine makes,
# so the tracepoint program on its entry runs exactly as often as the test calls it.

STATS_LIB_DIR=$(dirname "$0")
TP=syscalls/sys_enter_sysfs
SYSFS=$PROG_TOP/sysfs_calls

# sysfs_calls N: N sysfs(2) calls (sysfs_calls.c, built once)
sysfs_calls() {
	if [ ! -x "$SYSFS" ]; then
		cc -O1 -o "$SYSFS.tmp" "$STATS_LIB_DIR/sysfs_calls.c" || fail "cannot build the sysfs caller"
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

