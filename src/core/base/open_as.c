/* SPDX-License-Identifier: Apache-2.0 */
/* open_as.c - open a file with another user's credentials: a forked child with the
 * user's ids opens it and passes the fd back */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base/caps.h"
#include "core/base/open_as.h"

#define OPEN_AS_MAX_GROUPS	1024

/* Become the user: raw system calls, which change this thread only: the child
 * of fork() has one thread. */
static int become(const struct open_cred *cr)
{
	static const struct caps none;
	gid_t groups[OPEN_AS_MAX_GROUPS];
	size_t i, n = cr->n_groups < OPEN_AS_MAX_GROUPS ? cr->n_groups : OPEN_AS_MAX_GROUPS;

	for (i = 0; i < n; i++)
		groups[i] = cr->groups[i];
	if (syscall(SYS_setgroups, n, groups) ||
	    syscall(SYS_setresgid, cr->gid, cr->gid, cr->gid) ||
	    syscall(SYS_setresuid, cr->uid, cr->uid, cr->uid))
		return -EPERM;
	/* the kernel cleared the capabilities with the uid (no SECBIT_KEEP_CAPS);
	 * say so to be sure, also for a daemon that does not run as root */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || caps_set(&none))
		return -EPERM;
	if (getuid() != cr->uid || geteuid() != cr->uid || getgid() != cr->gid)
		return -EPERM;
	return 0;
}

/* The child: report { int err } with the fd attached when err is 0. */
static void child(int sock, const struct open_cred *cr, const char *path)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr mh = { 0 };
	struct iovec iov;
	struct cmsghdr *cm;
	int err, fd = -1;

	err = become(cr);
	if (!err) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			err = -errno;
	}
	iov = (struct iovec){ .iov_base = &err, .iov_len = sizeof(err) };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == sizeof(err) ? 0 : 1);
}

static int receive(int sock, int timeout_ms)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct iovec iov;
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	int err = -EIO, fd = -1, r;
	ssize_t n;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r ? -errno : -ETIMEDOUT;
	iov = (struct iovec){ .iov_base = &err, .iov_len = sizeof(err) };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n != sizeof(err))
		return -EIO;	/* the child died before it reported */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (err >= 0 && fd < 0)
		err = -EIO;
	if (err < 0 && fd >= 0)
		close(fd);
	return err < 0 ? err : fd;
}

int open_as(const struct open_cred *cr, const char *path, int timeout_ms)
{
	int sv[2], status, ret;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (!pid) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child(sv[1], cr, path);
	}
	close(sv[1]);
	ret = receive(sv[0], timeout_ms);
	close(sv[0]);
	if (ret == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret;
}
