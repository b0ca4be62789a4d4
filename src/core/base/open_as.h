/* SPDX-License-Identifier: Apache-2.0 */
/* open_as.h - open a file with another user's credentials */
#ifndef BPFD_CORE_BASE_OPEN_AS_H
#define BPFD_CORE_BASE_OPEN_AS_H

#include <stddef.h>
#include <stdint.h>

struct open_cred {
	uint32_t uid;
	uint32_t gid;
	const uint32_t *groups;		/* supplementary groups */
	size_t n_groups;
};

/*
 * Open path read-only as the user cr says, so that the daemon reads only what
 * that user could read itself (and learns nothing about paths it could not
 * see): a forked child takes the user's uid, gid and groups (setresuid & co.,
 * which needs CAP_SETUID and CAP_SETGID in the calling thread: the kernel
 * executor's), loses every capability with them, opens the file (O_NONBLOCK, so
 * a FIFO cannot hold it) and hands the fd back over a socketpair (SCM_RIGHTS).
 * Returns the fd (O_CLOEXEC, the caller's to close), or -errno: the open's
 * error as the user met it (-EACCES, -ENOENT ...), -EPERM when the child could
 * not take the user's credentials, -ETIMEDOUT after timeout_ms.
 */
int open_as(const struct open_cred *cr, const char *path, int timeout_ms);

#endif
