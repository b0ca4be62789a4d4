/* SPDX-License-Identifier: Apache-2.0 */
/* fs.h - directories and bpffs mounts, for src/core and src/bpf alike */
#ifndef BPFD_CORE_FS_H
#define BPFD_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/base/errmsg.h"

/* mkdir -p: missing parents get 0755, path itself mode.  An existing directory is
 * fine; an existing non-directory is -ENOTDIR.  0 or -errno. */
int fs_mkdir_p(const char *path, mode_t mode);
/* rm -r: remove dir and everything below it, never following a symbolic link (a link
 * is removed, not what it points to).  A missing dir is not an error.  The first error
 * is returned as -errno; the rest is still removed. */
int fs_rmtree(const char *dir);
/* The same for name relative to the directory fd dirfd (or AT_FDCWD). */
int fs_rmtree_at(int dirfd, const char *name);
/* Read the regular file open at fd to its end (at most max bytes): 0 with *ret_buf
 * malloc'ed (a NUL after its *ret_len bytes), -EINVAL when it is not a regular file,
 * -EFBIG when it holds more than max bytes, -ENOMEM, or -errno of the read. */
int fs_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);
/* Is path on a bpffs? */
bool fs_is_bpffs(const char *path);
/* Create path (fs_mkdir_p, 0700) and mount a bpffs there (nosuid, nodev, noexec,
 * mode=0700) unless one is there already: pins under it outlive the daemon.  0 or
 * -errno with em set. */
int fs_bpffs_mount(const char *path, struct errmsg *em);
/* Read a whole regular file of at most max bytes into a new NUL-terminated buffer
 * (free()).  0, or -errno (-EFBIG over max) with em naming the file. */
int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len,
		 struct errmsg *em);

#endif
