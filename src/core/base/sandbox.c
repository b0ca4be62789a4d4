/* SPDX-License-Identifier: Apache-2.0 */
/* sandbox.c - the forked runner for untrusted or crash-prone work (libbpf parsing an
 * uploaded object, the kernel feature probe, the XDP self-test) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base/confine.h"
#include "core/base/sandbox.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *p = buf;
	ssize_t n;
	int r;

	while (len) {
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;	/* the child died before reporting */
		p += n;
		len -= n;
	}
	return 0;
}

static int run(void (*fn)(void *buf), void *buf, size_t len, int timeout_ms, bool confine,
	       int *ret_status)
{
	int pfd[2], status = 0, err;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (!pid) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (confine && confine_parser(pfd[1]))
			_exit(SANDBOX_EXIT_CONFINE);
		fn(buf);
		_exit(write_all(pfd[1], buf, len) ? 1 : 0);
	}
	close(pfd[1]);
	err = read_all(pfd[0], buf, len, timeout_ms);
	if (err)
		kill(pid, SIGKILL);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret_status)
		*ret_status = status;
	return err;
}

int sandbox_run(void (*fn)(void *buf), void *buf, size_t len, int timeout_ms,
		int *ret_status)
{
	return run(fn, buf, len, timeout_ms, false, ret_status);
}

int sandbox_run_confined(void (*fn)(void *buf), void *buf, size_t len, int timeout_ms,
			 int *ret_status)
{
	return run(fn, buf, len, timeout_ms, true, ret_status);
}
