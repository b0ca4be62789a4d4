/* SPDX-License-Identifier: Apache-2.0 */
/* fs.c - directories and bpffs mounts: the one mkdir -p, directory removal and bpffs
 * mount used by the daemon, the record store and the BPF side */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/base/fs.h"
#include "core/base/log.h"

static int mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (!mkdir(path, mode))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;
	int err;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		err = mkdir_one(buf, 0755);
		*p = '/';
		if (err)
			return err;
	}
	return mkdir_one(buf, mode);
}

int fs_rmtree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			if (!err)
				err = -ENAMETOOLONG;
			continue;
		}
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

bool fs_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && (unsigned long)st.f_type == BPF_FS_MAGIC;
}

int fs_bpffs_mount(const char *path, struct errmsg *em)
{
	int err;

	err = fs_mkdir_p(path, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create the bpffs directory %s: %s", path,
				  strerror(-err));
	if (fs_is_bpffs(path))
		return 0;
	if (mount("bpf", path, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700"))
		return errmsg_set(em, -errno, "cannot mount a bpffs at %s: %s (bpfd needs "
				  "CAP_SYS_ADMIN to mount it)", path, strerror(errno));
	log_info("Mounted a bpffs at '%s'", path);
	return 0;
}
