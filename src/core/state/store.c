/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - program records on disk, one checksummed file per program, replaced
 * atomically; damaged files moved aside */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pb_common.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <zlib.h>

#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/base/obj_kind.h"
#include "core/state/store.h"

#define STORE_TMP_PREFIX	".tmp-"
#define STORE_MAX_FILE		(1u << 20)
#define STORE_MAGIC		"BPFR"

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

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-32 of the header's first 12 bytes and the payload. */
static uint32_t frame_crc(const uint8_t *hdr, const uint8_t *pb, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr, 12);
	return crc32(c, pb, len);
}

int store_frame(const uint8_t *pb, size_t len, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *buf;

	if (len > STORE_MAX_FILE - STORE_HDR_SIZE)
		return -EFBIG;
	buf = malloc(STORE_HDR_SIZE + len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, STORE_MAGIC, 4);
	put_le32(buf + 4, STORE_FILE_VERSION);
	put_le32(buf + 8, len);
	memcpy(buf + STORE_HDR_SIZE, pb, len);
	put_le32(buf + 12, frame_crc(buf, pb, len));
	*ret_buf = buf;
	*ret_len = STORE_HDR_SIZE + len;
	return 0;
}

int store_check(const uint8_t *buf, size_t len, const uint8_t **ret_pb, size_t *ret_len,
		const char **why)
{
	size_t plen;

	if (!len)
		*why = "the file is empty";
	else if (len < 4 || memcmp(buf, STORE_MAGIC, 4))
		*why = "no record header (not a bpfd record, or one of an older format)";
	else if (len < STORE_HDR_SIZE)
		*why = "the file is truncated";
	else if (get_le32(buf + 4) != STORE_FILE_VERSION)
		*why = "unknown record file version";
	else if ((plen = get_le32(buf + 8)) != len - STORE_HDR_SIZE)
		*why = plen > len - STORE_HDR_SIZE ? "the file is truncated" :
		       "the file is longer than its header says";
	else if (get_le32(buf + 12) != frame_crc(buf, buf + STORE_HDR_SIZE, plen))
		*why = "checksum mismatch";
	else
		*why = NULL;
	if (*why)
		return -EBADMSG;
	*ret_pb = buf + STORE_HDR_SIZE;
	*ret_len = len - STORE_HDR_SIZE;
	return 0;
}

/* Does every string of msg (zeroed before it was decoded) end at its first NUL?
 * The decoder copies a string's bytes as they are, so "a\0b" would come back as
 * "a": a record bpfd wrote never holds one (it encodes with strlen). */
static bool strings_end_at_nul(const pb_msgdesc_t *fields, const void *msg)
{
	const char *p;
	pb_field_iter_t it;
	size_t n, i, len;

	if (!pb_field_iter_begin_const(&it, fields, msg))
		return true;
	do {
		if (PB_ATYPE(it.type) != PB_ATYPE_STATIC ||
		    (PB_HTYPE(it.type) == PB_HTYPE_ONEOF && *(const pb_size_t *)it.pSize != it.tag) ||
		    (PB_HTYPE(it.type) == PB_HTYPE_OPTIONAL && it.pSize && !*(const bool *)it.pSize))
			continue;
		n = 1;
		if (PB_HTYPE(it.type) == PB_HTYPE_REPEATED)
			n = it.pSize ? *(const pb_size_t *)it.pSize : it.array_size;
		for (i = 0; i < n; i++) {
			p = (const char *)it.pData + i * it.data_size;
			if (PB_LTYPE(it.type) == PB_LTYPE_STRING) {
				len = strnlen(p, it.data_size);
				while (++len < it.data_size)
					if (p[len])
						return false;
			} else if (PB_LTYPE_IS_SUBMSG(it.type) &&
				   !strings_end_at_nul(it.submsg_desc, p)) {
				return false;
			}
		}
	} while (pb_field_iter_next(&it));
	return true;
}

int store_decode(const uint8_t *buf, size_t len, bpfd_state_ProgramRecord *r)
{
	pb_istream_t is = pb_istream_from_buffer(buf, len);

	memset(r, 0, sizeof(*r));	/* padding too: decoded records compare with memcmp */
	if (!pb_decode(&is, bpfd_state_ProgramRecord_fields, r))
		return -EBADMSG;
	if (r->format != STORE_FORMAT || !r->id || !r->has_info ||
	    obj_kind_parse(r->kind) == OBJ_KIND_UNKNOWN ||
	    !strings_end_at_nul(bpfd_state_ProgramRecord_fields, r))
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

const char *store_err_hint(int err)
{
	if (err == -ENOSPC || err == -EDQUOT)
		return " (the file system is full: free space there, then try again)";
	return "";
}

/* Write r as <dir>/<name>: temp file, fsync, rename, fsync of the directory. */
static int put_named(struct store *s, const char *name, const bpfd_state_ProgramRecord *r,
		     struct errmsg *em)
{
	char tmp[64];
	uint8_t *pb = NULL, *buf = NULL;
	size_t pb_len = 0, len = 0;
	int fd = -1, err;

	err = store_encode(r, &pb, &pb_len);
	if (!err)
		err = store_frame(pb, pb_len, &buf, &len);
	free(pb);
	if (err)
		return errmsg_set(em, err, "cannot encode the record of program %u", r->id);
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
		errmsg_set(em, err, "cannot write the record of program %u in %s: %s%s", r->id,
			   s->dir, strerror(-err), store_err_hint(err));
	}
	free(buf);
	return err;
}

int store_put(struct store *s, const bpfd_state_ProgramRecord *r, struct errmsg *em)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", r->id);
	return put_named(s, name, r, em);
}

int store_put_named(struct store *s, const char *name, const bpfd_state_ProgramRecord *r,
		    struct errmsg *em)
{
	if (name[0] != '.' || strchr(name, '/'))
		return errmsg_set(em, -EINVAL, "record name %s is not a hidden file name", name);
	return put_named(s, name, r, em);
}

int store_put_marker(struct store *s, const char *name, const char *text,
		     struct errmsg *em)
{
	int fd, err;

	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, (const uint8_t *)text, strlen(text));
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && fsync(s->dirfd))
		err = -errno;
	if (err)
		unlinkat(s->dirfd, name, 0);
out:
	if (err)
		errmsg_set(em, err, "cannot write %s/%s: %s%s", s->dir, name, strerror(-err),
			   store_err_hint(err));
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

int store_move_aside(struct store *s, const char *name, char *ret_path, size_t size)
{
	char stamp[32], dst[NAME_MAX + 1];
	struct tm tm;
	time_t now = time(NULL);
	int dfd, i, err = 0;

	if (strchr(name, '/') || name[0] == '.' || strlen(name) > 64)
		return -EINVAL;
	if (mkdirat(s->dirfd, STORE_DAMAGED_DIR, 0700) && errno != EEXIST)
		return -errno;
	dfd = openat(s->dirfd, STORE_DAMAGED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return -errno;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* never replace an earlier damaged copy: renameat2 RENAME_NOREPLACE */
	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(dst, sizeof(dst), "%s.damaged-%s-%d", name, stamp, i);
		else
			snprintf(dst, sizeof(dst), "%s.damaged-%s", name, stamp);
		err = renameat2(s->dirfd, name, dfd, dst, RENAME_NOREPLACE) ? -errno : 0;
		if (err != -EEXIST)
			break;
	}
	if (!err) {
		fsync(dfd);
		fsync(s->dirfd);
		snprintf(ret_path, size, "%s/" STORE_DAMAGED_DIR "/%s", s->dir, dst);
	}
	close(dfd);
	return err;
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
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	err = fs_read_fd(fd, STORE_MAX_FILE, (char **)ret_buf, ret_len);
	close(fd);
	return err == -EINVAL || err == -EFBIG ? -EBADMSG : err;
}

/* One directory entry for store_walk(): read and check it, then call fn. */
static int walk_one(struct store *s, const char *name, store_walk_fn fn, void *ctx)
{
	struct store_entry e = { .name = name };
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (!parse_id(name, &e.id))
		return fn(&e, ctx);
	err = read_file(s->dirfd, name, &buf, &len);
	if (err == -ENOENT)
		return 0;	/* removed meanwhile */
	if (err)
		e.damaged = err == -EBADMSG ? "not a regular file, or too large" :
			    "the file cannot be read";
	else
		store_check(buf, len, &e.pb, &e.len, &e.damaged);
	err = fn(&e, ctx);
	free(buf);
	return err;
}

int store_walk(struct store *s, store_walk_fn fn, void *ctx)
{
	struct dirent *de;
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
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, STORE_DAMAGED_DIR) ||
		    !strncmp(de->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)))
			continue;
		ret = walk_one(s, de->d_name, fn, ctx);
	}
	closedir(d);
	return ret;
}

int store_get_named(struct store *s, const char *name, bpfd_state_ProgramRecord *r)
{
	const uint8_t *pb;
	const char *why;
	uint8_t *buf = NULL;
	size_t len = 0, pb_len;
	int err;

	if (strchr(name, '/'))
		return -EINVAL;
	err = read_file(s->dirfd, name, &buf, &len);
	if (!err)
		err = store_check(buf, len, &pb, &pb_len, &why);
	if (!err)
		err = store_decode(pb, pb_len, r);
	free(buf);
	return err;
}
