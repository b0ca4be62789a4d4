/* SPDX-License-Identifier: Apache-2.0 */
/* confine.c - no capabilities, no_new_privs and a seccomp allow-list for a parsing child */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "core/base/caps.h"
#include "core/base/log.h"
#include "core/base/confine.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

#define SC_NR		offsetof(struct seccomp_data, nr)
#define SC_ARCH		offsetof(struct seccomp_data, arch)
#define SC_ARG_LO(n)	offsetof(struct seccomp_data, args[n])	/* little endian */

#define ALLOW_NR(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* flags an openat() of the parse never has: it only reads */
#define OPEN_WRITING	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | \
			 (O_TMPFILE & ~O_DIRECTORY))

#ifdef SANDBOX_ARCH
static int filter_install(int out_fd)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARCH),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_NR),
#ifdef __x86_64__
		/* the x32 ABI shares AUDIT_ARCH_X86_64: refuse its numbers */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
		/* memory (malloc, libelf, libbpf) */
		ALLOW_NR(SYS_brk),
		ALLOW_NR(SYS_mmap),
		ALLOW_NR(SYS_munmap),
		ALLOW_NR(SYS_mremap),
		ALLOW_NR(SYS_mprotect),
		ALLOW_NR(SYS_madvise),
		/* reading the object */
		ALLOW_NR(SYS_read),
		ALLOW_NR(SYS_pread64),
		ALLOW_NR(SYS_lseek),
		ALLOW_NR(SYS_fstat),
		ALLOW_NR(SYS_newfstatat),
		ALLOW_NR(SYS_fcntl),
		ALLOW_NR(SYS_close),
		/* libbpf's kernel version: uname() and access("/proc/version_signature") */
		ALLOW_NR(SYS_uname),
		ALLOW_NR(SYS_faccessat),
		ALLOW_NR(SYS_faccessat2),
		/* the rest of libc */
		ALLOW_NR(SYS_futex),
		ALLOW_NR(SYS_getpid),
		ALLOW_NR(SYS_gettid),
		ALLOW_NR(SYS_rt_sigprocmask),
		ALLOW_NR(SYS_rt_sigreturn),
		ALLOW_NR(SYS_clock_gettime),
		ALLOW_NR(SYS_clock_nanosleep),	/* the test pause below */
		ALLOW_NR(SYS_sigaltstack),	/* sanitizer builds query it */
		ALLOW_NR(SYS_exit),
		ALLOW_NR(SYS_exit_group),
#ifdef SYS_open
		/* open(path, flags): read-only only (sanitizers read /proc/self/maps) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(1)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, OPEN_WRITING, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
		/* openat(dirfd, path, flags): read-only only */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, OPEN_WRITING, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* write(fd, ...): stderr and out_fd only */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)out_fd, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}
#else
static int filter_install(int out_fd)
{
	(void)out_fd;
	return -EOPNOTSUPP;	/* no allow-list written for this architecture */
}
#endif

/* Test hook: BPFD_TEST_PAUSE_SANDBOX=SECONDS holds the confined child that long, so
 * a test can read its /proc status (keep it below the child's alarm). */
static void test_pause(void)
{
	const char *env = getenv("BPFD_TEST_PAUSE_SANDBOX");
	struct timespec ts = { 0 };

	if (!env || !*env)
		return;
	ts.tv_sec = strtol(env, NULL, 10);
	log_info("BPFD_TEST_PAUSE_SANDBOX: sandbox child %d confined, pausing %ld s", getpid(),
		 (long)ts.tv_sec);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

int confine_parser(int out_fd)
{
	int err;

	err = caps_drop_all();	/* sets no_new_privs too, which the filter needs */
	if (err)
		return log_errno(LOG_ERR, err, "sandbox: failed to drop the capabilities");
	err = filter_install(out_fd);
	if (err)
		return log_errno(LOG_ERR, err, "sandbox: failed to install the seccomp filter");
	test_pause();
	return 0;
}
