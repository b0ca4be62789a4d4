/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - program records on disk, one file per program, replaced atomically */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/base/obj_kind.h"
#include "core/state/store.h"

#define STORE_TMP_PREFIX	".tmp-"
#define STORE_MAX_FILE		(1u << 20)

struct store {
	char dir[PATH_MAX];
	int dirfd;
};

static void remove_temps(struct store *s)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = dup(s->dirfd);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)))
			continue;
		log_info("removing %s/%s, left by an interrupted record write", s->dir, de->d_name);
		unlinkat(s->dirfd, de->d_name, 0);
	}
	closedir(d);
}

int store_open(const char *dir, struct store **ret_store, struct errmsg *em)
{
	struct store *s = NULL;
	int err;

	if (strlen(dir) >= sizeof(s->dir))
		return errmsg_set(em, -ENAMETOOLONG, "record directory path is too long: %s", dir);
	err = fs_mkdir_p(dir, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create the record directory %s: %s", dir,
				  strerror(-err));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	strcpy(s->dir, dir);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		err = -errno;
		free(s);
		return errmsg_set(em, err, "cannot open the record directory %s: %s", dir,
				  strerror(-err));
	}
	remove_temps(s);
	*ret_store = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	close(s->dirfd);
	free(s);
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

int store_encode(const bpfd_state_ProgramRecord *r, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *buf = NULL;
	pb_ostream_t os;
	size_t len;

	if (!pb_get_encoded_size(&len, bpfd_state_ProgramRecord_fields, r))
		return -EINVAL;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	os = pb_ostream_from_buffer(buf, len);
	if (!pb_encode(&os, bpfd_state_ProgramRecord_fields, r)) {
		free(buf);
		return -EINVAL;
	}
	*ret_buf = buf;
	*ret_len = os.bytes_written;
	return 0;
}

int store_decode(const uint8_t *buf, size_t len, bpfd_state_ProgramRecord *r)
{
	pb_istream_t is = pb_istream_from_buffer(buf, len);

	memset(r, 0, sizeof(*r));	/* padding too: decoded records compare with memcmp */
	if (!pb_decode(&is, bpfd_state_ProgramRecord_fields, r))
		return -EBADMSG;
	if (r->format != STORE_FORMAT || !r->id || !r->has_info ||
	    obj_kind_parse(r->kind) == OBJ_KIND_UNKNOWN)
		return -EBADMSG;
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int store_put(struct store *s, const bpfd_state_ProgramRecord *r, struct errmsg *em)
{
	char tmp[64], name[16];
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = -1, err;

	err = store_encode(r, &buf, &len);
	if (err)
		return errmsg_set(em, err, "cannot encode the record of program %u", r->id);
	snprintf(name, sizeof(name), "%u", r->id);
	snprintf(tmp, sizeof(tmp), STORE_TMP_PREFIX "%u-%d", r->id, (int)getpid());
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	fd = -1;
	if (!err && renameat(s->dirfd, tmp, s->dirfd, name))
		err = -errno;
	if (!err && fsync(s->dirfd))
		err = -errno;
out:
	if (err) {
		unlinkat(s->dirfd, tmp, 0);
		errmsg_set(em, err, "cannot write the record of program %u in %s: %s", r->id,
			   s->dir, strerror(-err));
	}
	free(buf);
	return err;
}

int store_del(struct store *s, uint32_t id)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", id);
	if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
		return -errno;
	fsync(s->dirfd);
	return 0;
}

int store_remove_name(struct store *s, const char *name)
{
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
		return -errno;
	fsync(s->dirfd);
	return 0;
}

static bool parse_id(const char *name, uint32_t *ret)
{
	unsigned long v;
	char *end;

	if (name[0] < '1' || name[0] > '9')
		return false;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*end || errno || v > UINT32_MAX)
		return false;
	*ret = v;
	return true;
}

/* Read a whole record file (bounded): 0 with *ret_buf malloc'ed, or -errno. */
static int read_file(int dirfd, const char *name, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > STORE_MAX_FILE) {
		err = -EBADMSG;
		goto out;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EBADMSG;
			goto out;
		}
		len += n;
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int store_walk(struct store *s, store_walk_fn fn, void *ctx)
{
	uint8_t *buf;
	struct dirent *de;
	size_t len;
	uint32_t id;
	DIR *d;
	int fd, ret = 0;

	fd = dup(s->dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while (!ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf = NULL;
		len = 0;
		if (!parse_id(de->d_name, &id)) {
			ret = fn(0, de->d_name, NULL, 0, ctx);
			continue;
		}
		if (read_file(s->dirfd, de->d_name, &buf, &len)) {
			ret = fn(0, de->d_name, NULL, 0, ctx);
			continue;
		}
		ret = fn(id, de->d_name, buf, len, ctx);
		free(buf);
	}
	closedir(d);
	return ret;
}
