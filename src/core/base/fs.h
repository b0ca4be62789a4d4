/* SPDX-License-Identifier: Apache-2.0 */
/* fs.h - directories and bpffs mounts, for src/core and src/bpf alike */
#ifndef BPFD_CORE_FS_H
#define BPFD_CORE_FS_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/base/errmsg.h"

/* mkdir -p: missing parents get 0755, path itself mode.  An existing directory is
 * fine; an existing non-directory is -ENOTDIR.  0 or -errno. */
int fs_mkdir_p(const char *path, mode_t mode);
/* Remove dir and the files (pins) directly in it; subdirectories are not descended
 * into (their removal fails and is reported).  A missing dir is not an error.  The
 * first error is returned as -errno; the rest is still removed. */
int fs_rmtree(const char *dir);
/* Is path on a bpffs? */
bool fs_is_bpffs(const char *path);
/* Create path (fs_mkdir_p, 0700) and mount a bpffs there (nosuid, nodev, noexec,
 * mode=0700) unless one is there already: pins under it outlive the daemon.  0 or
 * -errno with em set. */
int fs_bpffs_mount(const char *path, struct errmsg *em);

#endif
