/* SPDX-License-Identifier: Apache-2.0 */
/* fs.c - directories and bpffs mounts: the one mkdir -p, directory removal and bpffs
 * mount used by the daemon, the record store and the BPF side */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
	/* mostly the directory is there already: one mkdir and one stat, not a
	 * pair of them per component (the hooks call this at every look) */
	err = mkdir_one(buf, mode);
	if (err != -ENOENT)
		return err;
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		err = mkdir_one(buf, 0755);
		*p = '/';
		if (err)
			return err;
	}
	return mkdir_one(buf, mode);
}

int fs_rmtree_at(int dirfd, const char *name)
{
	struct dirent *de;
	int fd, e, err = 0;
	DIR *d;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* not a directory (or a link to one): remove the name itself */
		return unlinkat(dirfd, name, 0) && errno != ENOENT ? -errno : 0;
	}
	d = fdopendir(fd);
	if (!d) {
		e = -errno;
		close(fd);
		return e;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(fd, de->d_name, 0) || errno == ENOENT)
			continue;
		e = errno == EISDIR || errno == EPERM ? fs_rmtree_at(fd, de->d_name) : -errno;
		if (e && !err)
			err = e;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

int fs_rmtree(const char *dir)
{
	return fs_rmtree_at(AT_FDCWD, dir);
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

int fs_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int err = 0;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	/* to the end: the size may have changed since fstat() */
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += n;
		if (len > max) {
			err = -EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	return err;
}

int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len,
		 struct errmsg *em)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open '%s': %s", path, strerror(errno));
	err = fs_read_fd(fd, max, ret, ret_len);
	close(fd);
	if (err == -EFBIG)
		return errmsg_set(em, err, "'%s' is over %zu bytes", path, max);
	if (err == -EINVAL)
		return errmsg_set(em, err, "'%s' is not a regular file", path);
	if (err)
		return errmsg_set(em, err, "cannot read '%s': %s", path, strerror(-err));
	return 0;
}
