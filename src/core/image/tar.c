/* SPDX-License-Identifier: Apache-2.0 */
/* tar.c - ustar/GNU/pax layer extraction that stays inside its folder, gzip by zlib */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/base/fs.h"
#include "core/image/tar.h"

#define BLOCK		512
#define BUF_SIZE	(64u << 10)
#define META_MAX	(64u << 10)	/* a pax header or GNU long name */

struct tar_header {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

/* The input: a file descriptor or memory, maybe gzip, and what came out. */
struct src {
	int fd;				/* -1 for memory */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	bool eof;			/* no more raw input */
	uint8_t *in;			/* raw input buffer */
	size_t in_pos, in_len;
	bool gzip;
	bool z_live;			/* inflateInit2 done */
	bool z_end;			/* the last gzip member ended */
	z_stream zs;
	const struct image_tar_limits *lim;
	struct image_tar_stats *st;
	struct errmsg *em;
};

/* The next pax/GNU attributes for the entry that follows them. */
struct meta {
	char *path;			/* pax path or GNU long name */
	bool has_size;
	uint64_t size;
	bool sparse;
};

static int raw_fill(struct src *s)
{
	ssize_t n;

	if (s->in_pos < s->in_len || s->eof)
		return 0;
	s->in_pos = s->in_len = 0;
	if (s->fd < 0) {
		n = s->mem_len - s->mem_pos < BUF_SIZE ? s->mem_len - s->mem_pos : BUF_SIZE;
		memcpy(s->in, s->mem + s->mem_pos, n);
		s->mem_pos += n;
	} else {
		do
			n = read(s->fd, s->in, BUF_SIZE);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errmsg_set(s->em, -errno, "cannot read the layer: %s",
					  strerror(errno));
	}
	s->in_len = n;
	s->st->in_bytes += n;
	s->eof = n == 0;
	return 0;
}

static int gz_start(struct src *s)
{
	int zerr;

	memset(&s->zs, 0, sizeof(s->zs));
	zerr = inflateInit2(&s->zs, 15 + 16);	/* gzip wrapper only */
	if (zerr != Z_OK)
		return errmsg_set(s->em, -ENOMEM, "cannot start gunzip (zlib error %d)",
				  zerr);
	s->z_live = true;
	return 0;
}

/* After a gzip member: another one may follow (multi-member gzip). */
static int gz_member_end(struct src *s)
{
	int err = raw_fill(s);

	if (err)
		return err;
	if (s->in_pos == s->in_len) {
		s->z_end = true;
		return 0;
	}
	if (s->in[s->in_pos] != 0x1f)
		return errmsg_set(s->em, -EINVAL, "the layer has data after its gzip "
				  "stream that is not another gzip member");
	inflateReset(&s->zs);
	return 0;
}

static int limits_check(struct src *s, uint64_t more)
{
	const struct image_tar_limits *lim = s->lim;
	uint64_t out = s->st->tar_bytes + more;

	/* more may be any size a header declares: no wrap-around */
	if (more > lim->max_bytes || s->st->tar_bytes > lim->max_bytes - more)
		return errmsg_set(s->em, -EFBIG, "the layer's tar is larger than %llu "
				  "bytes, the limit bpfd sets",
				  (unsigned long long)lim->max_bytes);
	if (s->gzip && out > IMAGE_TAR_RATIO_FLOOR &&
	    out / lim->max_ratio > s->st->in_bytes)
		return errmsg_set(s->em, -EFBIG, "the layer expands more than %u times "
				  "when gunzipped (%llu bytes from %llu so far): refused as "
				  "a gzip bomb", lim->max_ratio, (unsigned long long)out,
				  (unsigned long long)s->st->in_bytes);
	return 0;
}

/* Up to n bytes of the tar stream; 0 at its end. */
static ssize_t src_some(struct src *s, uint8_t *buf, size_t n)
{
	size_t got;
	int err, zerr;

	for (;;) {
		err = raw_fill(s);
		if (err)
			return err;
		if (!s->gzip) {
			got = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
			memcpy(buf, s->in + s->in_pos, got);
			s->in_pos += got;
			return got;
		}
		if (s->z_end)
			return 0;
		s->zs.next_in = s->in + s->in_pos;
		s->zs.avail_in = s->in_len - s->in_pos;
		s->zs.next_out = buf;
		s->zs.avail_out = n;
		zerr = inflate(&s->zs, Z_NO_FLUSH);
		s->in_pos = s->in_len - s->zs.avail_in;
		got = n - s->zs.avail_out;
		if (zerr == Z_STREAM_END) {
			err = gz_member_end(s);
			if (err)
				return err;
		} else if (zerr == Z_BUF_ERROR && s->eof) {
			return errmsg_set(s->em, -EINVAL, "the layer's gzip stream is "
					  "truncated");
		} else if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
			return errmsg_set(s->em, -EINVAL, "the layer's gzip stream is "
					  "corrupt (%s)", s->zs.msg ? s->zs.msg :
					  "zlib error");
		}
		if (got)
			return got;
	}
}

/* Exactly n bytes of the tar stream, within the limits. */
static int src_read(struct src *s, void *buf, size_t n, const char *what)
{
	ssize_t got;
	int err;

	err = limits_check(s, n);
	if (err)
		return err;
	while (n) {
		got = src_some(s, buf, n);
		if (got < 0)
			return got;
		if (!got)
			return errmsg_set(s->em, -EINVAL, "the layer's tar ends in the "
					  "middle of %s", what);
		buf = (uint8_t *)buf + got;
		n -= got;
		s->st->tar_bytes += got;
		err = limits_check(s, 0);
		if (err)
			return err;
	}
	return 0;
}

/* Skip n bytes (file data we do not keep, padding). */
static int src_skip(struct src *s, uint64_t n, uint8_t *buf, const char *what)
{
	size_t chunk;
	int err;

	while (n) {
		chunk = n < BUF_SIZE ? n : BUF_SIZE;
		err = src_read(s, buf, chunk, what);
		if (err)
			return err;
		n -= chunk;
	}
	return 0;
}

/* An octal field (space or NUL terminated) or GNU base-256. */
static int num_parse(const char *f, size_t len, uint64_t *ret)
{
	const unsigned char *u = (const unsigned char *)f;
	uint64_t v = 0;
	size_t i = 0;

	if (u[0] == 0x80) {
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -EINVAL;
			v = v << 8 | u[i];
		}
		*ret = v;
		return 0;
	}
	if (u[0] & 0x80)
		return -EINVAL;		/* negative base-256 */
	while (i < len && f[i] == ' ')
		i++;
	if (i == len || f[i] < '0' || f[i] > '7')
		return -EINVAL;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -EINVAL;
		v = v << 3 | (f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -EINVAL;
	*ret = v;
	return 0;
}

static bool checksum_ok(const struct tar_header *h)
{
	const unsigned char *u = (const unsigned char *)h;
	const signed char *sc = (const signed char *)h;
	uint64_t want;
	long usum = 0, ssum = 0;
	size_t i;

	if (num_parse(h->chksum, sizeof(h->chksum), &want))
		return false;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	return true;	/* fuzz builds: mutated headers get past the checksum */
#endif
	for (i = 0; i < BLOCK; i++) {
		bool in_sum = i >= offsetof(struct tar_header, chksum) &&
			      i < offsetof(struct tar_header, chksum) + sizeof(h->chksum);

		usum += in_sum ? ' ' : u[i];
		ssum += in_sum ? ' ' : sc[i];
	}
	return (uint64_t)usum == want || (ssum >= 0 && (uint64_t)ssum == want);
}

static bool zero_block(const uint8_t *b)
{
	size_t i;

	for (i = 0; i < BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

/* pax records "LEN key=value\n"; path, size and GNU sparse keys matter. */
static int pax_parse(struct src *s, char *data, size_t len, struct meta *m, bool global)
{
	char *p = data, *end = data + len, *key, *eq, *val, *rend;
	unsigned long long rlen, sz;

	while (p < end) {
		errno = 0;
		rlen = *p >= '0' && *p <= '9' ? strtoull(p, &key, 10) : 0;
		if (errno || rlen < 5 || rlen > (size_t)(end - p) ||
		    key >= p + rlen - 1 || *key != ' ' || p[rlen - 1] != '\n')
			return errmsg_set(s->em, -EINVAL, "the layer has a malformed pax "
					  "header record");
		rend = p + rlen - 1;
		*rend = '\0';
		key++;
		eq = memchr(key, '=', rend - key);
		if (!eq || eq == key)
			return errmsg_set(s->em, -EINVAL, "the layer has a pax header "
					  "record without key=value");
		*eq = '\0';
		val = eq + 1;
		if (!strncmp(key, "GNU.sparse.", 11))
			m->sparse = true;
		if (global)
			;
		else if (!strcmp(key, "path")) {
			if (strlen(val) != (size_t)(rend - val))
				return errmsg_set(s->em, -EINVAL, "the layer has a pax path "
						  "with a NUL byte in it");
			free(m->path);
			m->path = strdup(val);
			if (!m->path)
				return -ENOMEM;
		} else if (!strcmp(key, "size")) {
			errno = 0;
			sz = strtoull(val, &eq, 10);
			if (errno || eq == val || *eq || *val == '-')
				return errmsg_set(s->em, -EINVAL, "the layer has a pax size "
						  "that is not a number");
			m->has_size = true;
			m->size = sz;
		}
		p = rend + 1;
	}
	return 0;
}

/* Read an entry's data (a pax header or GNU long name) into memory. */
static int meta_read(struct src *s, uint64_t size, uint8_t *buf, char **ret)
{
	char *data;
	int err;

	if (size > META_MAX)
		return errmsg_set(s->em, -EFBIG, "the layer has a pax header or long "
				  "name of %llu bytes, more than %u",
				  (unsigned long long)size, META_MAX);
	data = malloc(size + 1);
	if (!data)
		return -ENOMEM;
	err = src_read(s, data, size, "a pax header");
	if (!err)
		err = src_skip(s, (BLOCK - size % BLOCK) % BLOCK, buf, "padding");
	if (err) {
		free(data);
		return err;
	}
	data[size] = '\0';
	*ret = data;
	return 0;
}

static void meta_clear(struct meta *m)
{
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* Take the entry's full name: pax path, GNU long name, or prefix/name. */
static int entry_name(const struct tar_header *h, struct meta *m, char **ret)
{
	char name[sizeof(h->prefix) + 1 + sizeof(h->name) + 1];

	if (m->path) {
		*ret = m->path;
		m->path = NULL;
		return 0;
	}
	/* GNU headers keep other things where ustar has its prefix */
	if (!memcmp(h->magic, "ustar", 6) && h->prefix[0])
		snprintf(name, sizeof(name), "%.*s/%.*s", (int)sizeof(h->prefix),
			 h->prefix, (int)sizeof(h->name), h->name);
	else
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(h->name), h->name);
	*ret = strdup(name);
	return *ret ? 0 : -ENOMEM;
}

/* Printable for messages: the name is checked for control characters first. */
static int path_check(struct src *s, const char *name)
{
	const char *c, *slash;
	size_t n, depth = 0;

	for (c = name; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return errmsg_set(s->em, -EINVAL, "a layer entry has a control "
					  "character in its name");
	if (!name[0])
		return errmsg_set(s->em, -EINVAL, "a layer entry has an empty name");
	if (strlen(name) >= PATH_MAX)
		return errmsg_set(s->em, -EINVAL, "a layer entry's name is longer than "
				  "%d bytes", PATH_MAX - 1);
	if (name[0] == '/')
		return errmsg_set(s->em, -EINVAL, "layer entry '%s' has an absolute "
				  "path; bpfd extracts only relative names", name);
	for (c = name;; c = slash + 1) {
		slash = strchr(c, '/');
		n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 2 && !strncmp(c, "..", 2))
			return errmsg_set(s->em, -EINVAL, "layer entry '%s' has a '..' "
					  "component and would land outside the "
					  "image's folder", name);
		if (n > NAME_MAX)
			return errmsg_set(s->em, -EINVAL, "layer entry '%s' has a name "
					  "component longer than %d bytes", name,
					  NAME_MAX);
		if (n && !(n == 1 && c[0] == '.') && ++depth > IMAGE_TAR_MAX_DEPTH)
			return errmsg_set(s->em, -EINVAL, "layer entry '%s' is more than "
					  "%d directories deep", name,
					  IMAGE_TAR_MAX_DEPTH);
		if (!slash)
			return 0;
	}
}

/* Walk to the entry's parent directory, creating missing directories.  path
 * is a copy of name that is cut up; the last component goes to *ret_last (""
 * for the image's folder itself). */
static int parent_open(struct src *s, int root, const char *name, char *path,
		       int *ret_fd, const char **ret_last)
{
	char *c = path, *slash, *last = NULL;
	int fd, dir, err;

	strcpy(path, name);
	dir = dup(root);
	if (dir < 0)
		return -errno;
	for (; c; c = slash ? slash + 1 : NULL) {
		slash = strchr(c, '/');
		if (slash)
			*slash = '\0';
		if (!*c || !strcmp(c, "."))
			continue;
		if (last) {
			if (!mkdirat(dir, last, 0755))
				s->st->implicit_dirs++;
			else if (errno != EEXIST)
				goto fail;
			fd = openat(dir, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);
			if (fd < 0)
				goto fail;
			close(dir);
			dir = fd;
		}
		last = c;
	}
	*ret_fd = dir;
	*ret_last = last ? last : "";
	return 0;
fail:
	err = errno == ENOTDIR ? -EINVAL : -errno;
	close(dir);
	return errmsg_set(s->em, err, err == -EINVAL ? "layer entry '%s' is inside "
			  "a path that is a file" : "cannot create the folders of "
			  "layer entry '%s'", name);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

static int file_extract(struct src *s, int dir, const char *last, const char *name,
			uint64_t size, uint8_t *buf)
{
	size_t chunk;
	int fd, err = 0;

	if (!*last)
		return errmsg_set(s->em, -EINVAL, "layer entry '%s' is a file where the "
				  "image's folder itself is", name);
	fd = openat(dir, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return errmsg_set(s->em, -EINVAL, "layer entry '%s' appears twice", name);
	if (fd < 0)
		return errmsg_set(s->em, -errno, "cannot create layer entry '%s': %s",
				  name, strerror(errno));
	err = limits_check(s, size);
	while (!err && size) {
		chunk = size < BUF_SIZE ? size : BUF_SIZE;
		err = src_read(s, buf, chunk, name);
		if (!err && (err = write_all(fd, buf, chunk)))
			errmsg_set(s->em, err, "cannot write layer entry '%s': %s", name,
				   strerror(-err));
		size -= chunk;
		s->st->file_bytes += chunk;
	}
	if (close(fd) && !err)
		err = errmsg_set(s->em, -errno, "cannot write layer entry '%s': %s",
				 name, strerror(errno));
	s->st->files++;
	return err;
}

static int dir_extract(struct src *s, int dir, const char *last, const char *name)
{
	struct stat st;

	s->st->dirs++;
	if (!*last)
		return 0;
	if (!mkdirat(dir, last, 0755))
		return 0;
	if (errno != EEXIST)
		return errmsg_set(s->em, -errno, "cannot create layer folder '%s': %s",
				  name, strerror(errno));
	if (fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
		return errmsg_set(s->em, -EINVAL, "layer entry '%s' is a folder and a "
				  "file", name);
	return 0;
}

static const char *type_name(char t)
{
	switch (t) {
	case '1': return "a hard link";
	case '2': return "a symbolic link";
	case '3': return "a character device";
	case '4': return "a block device";
	case '6': return "a FIFO";
	case 'S': return "a sparse file";
	case 'V': return "a volume label";
	case 'M': return "a multi-volume continuation";
	case 'D': return "a GNU dump directory";
	default: return NULL;
	}
}

static int entry_extract(struct src *s, int root, const struct tar_header *h,
			 struct meta *m, uint64_t size, uint8_t *buf)
{
	const char *last = "", *what = type_name(h->typeflag);
	char *name = NULL, *path = NULL;
	int dir = -1, err;

	err = entry_name(h, m, &name);
	if (!err)
		err = path_check(s, name);
	if (err)
		goto out;
	if (what || m->sparse) {
		err = errmsg_set(s->em, -EINVAL, "layer entry '%s' is %s; bpfd extracts "
				 "only regular files and folders", name,
				 what ? what : "a sparse file");
		goto out;
	}
	if (h->typeflag != '0' && h->typeflag != '\0' && h->typeflag != '7' &&
	    h->typeflag != '5') {
		err = errmsg_set(s->em, -EINVAL, "layer entry '%s' has unknown type "
				 "'%c'; bpfd extracts only regular files and folders",
				 name, h->typeflag >= ' ' && h->typeflag <= '~' ?
				 h->typeflag : '?');
		goto out;
	}
	path = malloc(strlen(name) + 1);
	if (!path) {
		err = -ENOMEM;
		goto out;
	}
	err = parent_open(s, root, name, path, &dir, &last);
	if (err)
		goto out;
	if (h->typeflag == '5')
		err = dir_extract(s, dir, last, name);
	else
		err = file_extract(s, dir, last, name, size, buf);
	if (!err && h->typeflag == '5')
		err = src_skip(s, size, buf, name);
	if (!err)
		err = src_skip(s, (BLOCK - size % BLOCK) % BLOCK, buf, "padding");
out:
	if (dir >= 0)
		close(dir);
	free(path);
	free(name);
	return err;
}

/* One header: a meta entry updates m, a real entry is extracted. 1 at the end. */
static int header_next(struct src *s, int root, struct meta *m, uint8_t *buf)
{
	struct tar_header h;
	uint64_t size;
	char *data = NULL;
	int err;

	err = src_read(s, &h, BLOCK, "a header");
	if (err)
		return err;
	if (zero_block((uint8_t *)&h))
		return 1;
	if (++s->st->entries > s->lim->max_entries)
		return errmsg_set(s->em, -EFBIG, "the layer has more than %u tar "
				  "entries", s->lim->max_entries);
	if (memcmp(h.magic, "ustar", 5) || !checksum_ok(&h))
		return errmsg_set(s->em, -EINVAL, "the layer is not a ustar, GNU or pax "
				  "tar archive (bad header %u)", s->st->entries);
	if (num_parse(h.size, sizeof(h.size), &size))
		return errmsg_set(s->em, -EINVAL, "tar header %u has an invalid size",
				  s->st->entries);
	switch (h.typeflag) {
	case 'x':
	case 'g':
		err = meta_read(s, size, buf, &data);
		if (!err)
			err = pax_parse(s, data, size, m, h.typeflag == 'g');
		free(data);
		return err;
	case 'L':
		err = meta_read(s, size, buf, &data);
		if (!err) {
			free(m->path);
			m->path = data;
		}
		return err;
	case 'K':	/* GNU long link name: the link itself is refused next */
		err = meta_read(s, size, buf, &data);
		free(data);
		return err;
	}
	if (m->has_size)
		size = m->size;
	err = entry_extract(s, root, &h, m, size, buf);
	meta_clear(m);
	return err;
}

/* After the end-of-archive block: read the gzip stream to its end so that its
 * CRC is checked; the bytes count against the limits. */
static int drain(struct src *s, uint8_t *buf)
{
	ssize_t n;
	int err;

	if (!s->gzip)
		return 0;
	while (!s->z_end) {
		n = src_some(s, buf, BUF_SIZE);
		if (n < 0)
			return n;
		s->st->tar_bytes += n;
		err = limits_check(s, 0);
		if (err)
			return err;
		if (!n)
			break;
	}
	return 0;
}

static int extract(struct src *s, int root, uint8_t *buf)
{
	struct meta m = { 0 };
	int err;

	err = raw_fill(s);
	if (err)
		return err;
	if (s->in_len - s->in_pos >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
		s->gzip = s->st->gzip = true;
		err = gz_start(s);
		if (err)
			return err;
	}
	while (!(err = header_next(s, root, &m, buf)))
		;
	if (err == 1 && (m.path || m.has_size))
		err = errmsg_set(s->em, -EINVAL, "the layer's tar ends after a pax or "
				 "long-name header");
	if (err == 1)
		err = drain(s, buf);
	meta_clear(&m);
	return err;
}

static int extract_into(struct src *s, const char *dest, struct errmsg *em)
{
	char tmp[PATH_MAX];
	uint8_t *buf = NULL;
	int root = -1, err;

	if (!access(dest, F_OK) || errno != ENOENT)
		return errmsg_set(em, -EEXIST, "cannot extract the layer to %s: it "
				  "exists already", dest);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dest) >= (int)sizeof(tmp))
		return errmsg_set(em, -ENAMETOOLONG, "folder name too long: %s", dest);
	if (!mkdtemp(tmp))
		return errmsg_set(em, -errno, "cannot create %s: %s", tmp, strerror(errno));
	root = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	s->in = malloc(BUF_SIZE);
	buf = malloc(BUF_SIZE);
	if (root < 0)
		err = errmsg_set(em, -errno, "cannot open %s: %s", tmp, strerror(errno));
	else if (!s->in || !buf)
		err = errmsg_set(em, -ENOMEM, "out of memory extracting the layer");
	else
		err = extract(s, root, buf);
	if (!err && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE)) {
		err = -errno;
		/* filesystems without RENAME_NOREPLACE: dest was absent above */
		if (err == -EINVAL && !rename(tmp, dest))
			err = 0;
		if (err)
			errmsg_set(em, err, "cannot rename %s to %s: %s", tmp, dest,
				   strerror(-err));
	}
	if (err && fs_rmtree(tmp))
		errmsg_prefix(em, "could not remove %s after an error", tmp);
	if (root >= 0)
		close(root);
	if (s->z_live)
		inflateEnd(&s->zs);
	free(s->in);
	free(buf);
	return err;
}

static const struct image_tar_limits tar_defaults = {
	.max_bytes = IMAGE_TAR_MAX_BYTES,
	.max_entries = IMAGE_TAR_MAX_ENTRIES,
	.max_ratio = IMAGE_TAR_MAX_RATIO,
};

/* Extract from fd, or from memory when fd is -1. */
static int extract_from(int fd, const void *data, size_t len, const char *dest,
			const struct image_tar_limits *lim,
			struct image_tar_stats *ret_stats, struct errmsg *em)
{
	struct image_tar_stats st = { 0 };
	struct src s = {
		.fd = fd,
		.mem = data,
		.mem_len = len,
		.lim = lim ? lim : &tar_defaults,
		.st = &st,
		.em = em,
	};
	int err;

	err = extract_into(&s, dest, em);
	if (ret_stats)
		*ret_stats = st;
	return err;
}

int image_tar_extract(int fd, const char *dest, const struct image_tar_limits *lim,
		      struct image_tar_stats *ret_stats, struct errmsg *em)
{
	return extract_from(fd, NULL, 0, dest, lim, ret_stats, em);
}

int image_tar_extract_mem(const void *data, size_t len, const char *dest,
			  const struct image_tar_limits *lim,
			  struct image_tar_stats *ret_stats, struct errmsg *em)
{
	return extract_from(-1, data, len, dest, lim, ret_stats, em);
}
