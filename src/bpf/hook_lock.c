/* SPDX-License-Identifier: Apache-2.0 */
/* hook_lock.c - the lock of a hook's pin directory.  The XDP, TC and TCX code and the
 * dispatcher engine all take it; it calls none of them. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bpf/hook_int.h"

int hook_lock_dir(const char *root, struct errmsg *em)
{
	int fd;

	fd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open lock directory %s: %s", root,
				  strerror(errno));
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return errmsg_set(em, -errno, "cannot lock %s: %s", root, strerror(errno));
	}
	return fd;
}

void hook_unlock_dir(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

int hook_lock(struct hook *h, struct errmsg *em)
{
	int fd;

	fd = hook_lock_dir(h->root, em);
	if (fd < 0)
		return fd;
	h->lock_fd = fd;
	return 0;
}

void hook_unlock(struct hook *h)
{
	hook_unlock_dir(h->lock_fd);
	h->lock_fd = -1;
}
