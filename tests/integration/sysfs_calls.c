/* SPDX-License-Identifier: Apache-2.0 */
/* sysfs_calls.c - N sysfs(2) calls (option 3: the number of filesystem types), a
 * syscall nothing else on a machine makes: the run statistics tests (stats_lib.sh)
 * and the bench (tests/bench/stats.sh) drive a tracepoint program on its entry.
 * Exit 77 where the architecture has no sysfs(2). */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 1;

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
